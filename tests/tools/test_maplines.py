"""A map line's cost is its number's plus the rest's, so the snapshot can keep the part edits do not move."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from r1agent.tools.maplines import body_tokens, definition_line, number_tokens
from r1agent.tools.tokens import estimate_tokens

# Signatures as written, plus the awkward starts: digits, punctuation, spaces, non-ASCII, a lone "│".
signatures = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["def f(x)", "@property", "123abc", " leading", "│x", "(a, b)", "ünïcode()", "", "\t", "x\n"]),
)


@settings(max_examples=600, deadline=None)
@given(start=st.integers(1, 2_000_000), qualname=st.from_regex(r"[A-Za-z_]{1,6}(\.[A-Za-z_]{1,6}){0,3}", fullmatch=True),
       signature=signatures)
def test_a_lines_cost_is_its_numbers_plus_the_rest(start, qualname, signature):
    line = definition_line(start, qualname, signature)
    assert line.startswith(f"{start:>5}│")
    assert estimate_tokens(line) == number_tokens(start) + body_tokens(qualname, signature)


def test_nesting_indents_by_the_dots_in_the_qualname():
    assert definition_line(7, "A.B.run", "def run(self)") == "    7│    def run(self)\n"
    assert definition_line(123456, "run", "def run()") == "123456│def run()\n"
