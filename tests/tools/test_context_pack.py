"""The context pack on a large real file: what R1 is shown of it, and that its edits against the shown
spans apply while a quoted elision marker is refused. Real git repos, real tree-sitter parsing."""

from __future__ import annotations

import textwrap

import pytest
from testkit import write_repo

from r1agent.agent.prompting import DROPPED_ANSWER, TRIMMED, fit_messages
from r1agent.errors import PromptTooLongError
from r1agent.llm import ChatMessage
from r1agent.settings import Settings
from r1agent.tools.context import build_context_pack
from r1agent.tools.edits import apply_answer
from r1agent.tools.edits.model import Reason
from r1agent.tools.excerpts import MARKER
from r1agent.tools.tokens import estimate_tokens

TARGET = textwrap.dedent('''\
    def parse_duration(text):
        """'1h30m' -> seconds."""
        total = 0
        number = ""
        for ch in text:
            if ch.isdigit():
                number += ch
            elif ch == "h":
                total += int(number) * 3600
                number = ""
            elif ch == "m":
                total += int(number) * 60
        return total
''')


def _helper(i: int) -> str:
    return textwrap.dedent(f'''\
        def helper_{i}(values, scale={i}):
            """Scale and clip the values of table {i}."""
            out = []
            for v in values:
                w = v * scale
                if w > {i * 10}:
                    w = {i * 10}
                out.append(w)
            return out

    ''')


def _big_module() -> str:
    parts = ['"""Table helpers."""\n\nimport math\n\n\n']
    for i in range(500):
        parts.append(_helper(i))
        if i == 333:
            parts.append(TARGET + "\n")
    text = "".join(parts)
    assert text.count("\n") >= 5000
    return text


@pytest.fixture
def big_repo(tmp_path):
    files = {"timekit/big.py": _big_module(), "timekit/__init__.py": "",
             "timekit/units.py": "SECONDS_PER_MINUTE = 60\nSECONDS_PER_HOUR = 3600\n"}
    return write_repo(tmp_path / "timekit", files), Settings(cache_dir=tmp_path / "cache")


ISSUE = "`parse_duration('1h30m')` returns 5400 but '2m' after an hour is dropped: minutes are never reset."


def test_a_large_file_shows_its_relevant_function_verbatim_and_the_rest_as_skeleton(big_repo):
    repo, settings = big_repo
    pack = build_context_pack(repo, ISSUE, settings)
    big = next(f for f in pack.files if f.path == "timekit/big.py")
    source = (repo / "timekit/big.py").read_text()
    lines = source.splitlines(keepends=True)
    assert not big.whole and estimate_tokens(big.text) < estimate_tokens(source) / 5
    assert big.chosen[0][0] == "parse_duration" and "named in the issue" in big.chosen[0][1] and TARGET in big.text
    for span in big.spans:  # every shown line is the file's own line
        assert span.text == "".join(lines[span.start - 1:span.end])
    target_start = source[:source.index(TARGET)].count("\n") + 1
    assert any(s.start <= target_start and target_start + TARGET.count("\n") - 1 <= s.end for s in big.spans)
    assert "def helper_0(values, scale=0):\n" in big.text  # the skeleton: other signatures, bodies elided
    assert "        out.append(w)\n" not in big.text.split("def parse_duration")[0][-2000:]
    assert "⋮ lines " in big.text and "not shown" in big.text
    assert pack.tokens <= settings.context.map_tokens + settings.context.file_tokens
    assert "excerpts: `parse_duration`" in big.why


def test_a_file_with_form_feeds_is_excerpted_at_its_real_line_numbers(tmp_path):
    # Older code (sympy, the stdlib) puts ^L between sections; str.splitlines counts it as a line break.
    source = _big_module().replace("\n\n\ndef helper_", "\n\x0c\n\ndef helper_")
    repo = write_repo(tmp_path / "timekit", {"timekit/big.py": source, "timekit/__init__.py": ""})
    pack = build_context_pack(repo, ISSUE, Settings(cache_dir=tmp_path / "cache"))
    big = next(f for f in pack.files if f.path == "timekit/big.py")
    lines = source.split("\n")
    target_start = source[:source.index(TARGET)].count("\n") + 1
    shown = next(s for s in big.spans if s.start <= target_start <= s.end)
    assert "\x0c" in source and TARGET in shown.text
    assert shown.text.rstrip("\n") == "\n".join(lines[shown.start - 1:shown.end])
    for marker in (ln for ln in big.text.split("\n") if ln.startswith("⋮ lines ")):
        a, b = map(int, marker.split()[2].split("-"))
        assert "\n".join(lines[a - 1:b]) not in big.text  # the hidden lines are those the marker names


def test_a_search_taken_from_a_shown_span_applies(big_repo):
    repo, settings = big_repo
    big = next(f for f in build_context_pack(repo, ISSUE, settings).files if f.path == "timekit/big.py")
    shown = next(s for s in big.spans if "def parse_duration" in s.text)
    search = "\n".join(ln for ln in shown.text.splitlines() if "total += int(number) * 60" in ln)
    answer = (f"timekit/big.py\n```python\n<<<<<<< SEARCH\n{search}\n=======\n{search}\n                number = \"\"\n"
              ">>>>>>> REPLACE\n```\n")
    result = apply_answer(answer, repo)
    assert result.ok, result.feedback
    assert '+                number = ""' in result.patch


def test_a_search_quoting_an_elision_marker_is_refused_with_the_real_lines(big_repo):
    repo, settings = big_repo
    big = next(f for f in build_context_pack(repo, ISSUE, settings).files if f.path == "timekit/big.py")
    marker = next(ln for ln in big.text.splitlines() if ln.startswith("⋮ lines "))
    start = int(marker.split()[2].split("-")[0])
    real = (repo / "timekit/big.py").read_text().splitlines()[start - 1]
    answer = f"timekit/big.py\n```python\n<<<<<<< SEARCH\n{marker}\n=======\n# gone\n>>>>>>> REPLACE\n```\n"
    before = (repo / "timekit/big.py").read_bytes()
    result = apply_answer(answer, repo, write=True)
    assert not result.ok and result.failed[0].reason is Reason.ELIDED
    assert f"lines {start}-" in result.failed[0].message and real.strip()[:40] in result.failed[0].message
    assert (repo / "timekit/big.py").read_bytes() == before


def test_small_files_stay_whole_and_the_pack_fits_a_smaller_budget(big_repo):
    repo, settings = big_repo
    pack = build_context_pack(repo, ISSUE + " SECONDS_PER_HOUR", settings, map_tokens=100, file_tokens=900)
    assert sum(f.tokens for f in pack.files) <= 900
    units = [f for f in pack.files if f.path == "timekit/units.py"]
    assert units and units[0].whole and units[0].text == (repo / "timekit/units.py").read_text()


def _module(name: str, target: str, helpers: int) -> str:
    return f'"""{name} helpers."""\n\n\n' + "".join(_helper(i) for i in range(helpers)) + target + "\n"


def test_the_code_budget_reaches_every_ranked_file_not_only_the_first_whole_ones(tmp_path):
    """Six small files, each with a function the issue names: whole files in rank order would spend the
    budget on the first five and leave the sixth out."""
    names = ("alpha", "beta", "gamma", "delta", "omega", "sigma")
    files = {f"kit/{n}.py": _module(n, f"def {n}_total(rows):\n    return sum(r.{n} for r in rows)\n", 42)
             for n in names}
    repo = write_repo(tmp_path / "kit", {**files, "kit/__init__.py": ""})
    settings = Settings(cache_dir=tmp_path / "cache")
    costs = [estimate_tokens(t) for t in files.values()]
    assert max(costs) < settings.context.whole_file_tokens and sum(costs[:5]) > settings.context.file_tokens - 600
    issue = ", ".join(f"`{n}_total`" for n in names) + " count each row twice."
    pack = build_context_pack(repo, issue, settings)
    assert sum(f.tokens for f in pack.files) <= settings.context.file_tokens
    shown = {f.path: f for f in pack.files}
    for n in names:
        f = shown[f"kit/{n}.py"]
        assert f"def {n}_total(rows):\n    return sum(r.{n} for r in rows)\n" in f.text
        assert f.whole or f"{n}_total" in dict(f.chosen)
    assert any(f.whole for f in pack.files) and not all(f.whole for f in pack.files)


def test_a_helper_that_the_named_function_calls_is_shown_though_the_issue_never_names_it(tmp_path):
    helper = "def _unit_seconds(ch):\n    return {'h': 3600, 'm': 60}.get(ch, 1)\n\n\n"
    caller = ("def parse_duration(text):\n    total = 0\n    for ch in text:\n"
              "        total += _unit_seconds(ch)\n    return total\n")
    text = _module("Time", helper, 250) + "".join(_helper(i) for i in range(250, 500)) + caller
    repo = write_repo(tmp_path / "timekit", {"timekit/big.py": text, "timekit/__init__.py": ""})
    pack = build_context_pack(repo, "`parse_duration('1h')` returns 3601", Settings(cache_dir=tmp_path / "cache"))
    big = next(f for f in pack.files if f.path == "timekit/big.py")
    assert not big.whole and helper.rstrip() in big.text and caller in big.text
    assert "`parse_duration` uses it" in dict(big.chosen)["_unit_seconds"]


def test_a_chosen_function_is_shown_with_all_of_its_decorators_even_one_that_spans_lines(tmp_path):
    """click and pytest decorators often span lines; an edit of their arguments needs them shown."""
    before = "def _ready():\n    return True\n\n\n@_ready\ndef other():\n    pass\n\n\n"
    command = textwrap.dedent('''\
        @click.command("routes")
        @click.option(
            "--sort",
            type=click.Choice(("endpoint", "rule")),
        )
        @with_appcontext
        def routes_command(sort):
            """Show the routes."""
            return sorted_routes(sort)
    ''')
    text = _module("Cli", before + command, 300) + "".join(_helper(i) for i in range(300, 500))
    repo = write_repo(tmp_path / "clikit", {"clikit/cli.py": text, "clikit/__init__.py": ""})
    pack = build_context_pack(repo, "`routes_command` cannot sort by methods", Settings(cache_dir=tmp_path / "cache"))
    cli = next(f for f in pack.files if f.path == "clikit/cli.py")
    assert not cli.whole and "routes_command" in dict(cli.chosen)
    start = text[:text.index(command)].count("\n") + 1
    assert any(s.start <= start and command in s.text for s in cli.spans)
    assert "\n@_ready\ndef other():\n    pass\n" not in cli.text  # the walk up stops at the code above
    answer = ("clikit/cli.py\n```python\n<<<<<<< SEARCH\n    type=click.Choice((\"endpoint\", \"rule\")),\n=======\n"
              "    type=click.Choice((\"endpoint\", \"methods\", \"rule\")),\n>>>>>>> REPLACE\n```\n")
    assert apply_answer(answer, repo).ok


def test_a_method_is_shown_with_its_class_opening_the_docstring_and_the_attributes_before_its_first_method(tmp_path):
    doc = "".join(f"    :param option_{i}: what option {i} does.\n" for i in range(30))
    opening = f'class Table:\n    """A table.\n\n{doc}    """\n\n    default_width = 80\n    separator = " | "\n\n'
    methods = "".join(f"    def column_{i}(self, rows):\n        return [r[{i}] for r in rows]\n\n" for i in range(400))
    text = '"""Tables."""\n\n\n' + opening + methods + "    def render(self, rows):\n        return self.separator\n"
    repo = write_repo(tmp_path / "tabkit", {"tabkit/table.py": text, "tabkit/__init__.py": ""})
    pack = build_context_pack(repo, "`Table.render` ignores default_width", Settings(cache_dir=tmp_path / "cache"))
    table = next(f for f in pack.files if f.path == "tabkit/table.py")
    assert not table.whole and "Table.render" in dict(table.chosen)
    assert opening.rstrip() in table.text and "    def render(self, rows):\n" in table.text


def _feedback(i: int) -> str:
    return f"Your answer did not fix the issue yet (failed).\nTest output (tail):\n```\n{'E   assert 1 == 2 ' * 60}{i}\n```\n"


def test_older_test_output_is_trimmed_first_and_the_pack_never():
    pack = "CONTEXT " * 400
    msgs = [ChatMessage(role="user", content=pack)]
    for i in range(3):
        msgs += [ChatMessage(role="assistant", content=f"answer {i}: " + "edit " * 80), ChatMessage(role="user", content=_feedback(i))]
    full = sum(estimate_tokens(m.content) for m in msgs)
    budget = full - 2 * estimate_tokens(_feedback(0)) // 3
    fitted = fit_messages(msgs, budget, estimate_tokens)
    assert sum(estimate_tokens(m.content) for m in fitted) <= budget
    assert fitted[0].content == pack and fitted[-1].content == msgs[-1].content
    assert TRIMMED in fitted[2].content and fitted[4].content == msgs[4].content  # oldest first, only as needed
    assert fitted[1].content == msgs[1].content  # answers go only once no older output is left
    outputs_gone = full - 2 * (estimate_tokens(_feedback(0)) - estimate_tokens(fitted[2].content))
    tight = fit_messages(msgs, outputs_gone - 10, estimate_tokens)
    assert tight[1].content == DROPPED_ANSWER and tight[-2:] == msgs[-2:] and tight[0].content == pack
    with pytest.raises(PromptTooLongError, match="more than the 100"):
        fit_messages(msgs, 100, estimate_tokens)


def test_marker_format_is_what_the_edit_layer_recognises():
    from r1agent.tools.excerpts import marker_in

    assert marker_in(["x = 1\n", MARKER.format(start=3, end=9) + "\n"]) == (3, 9)
    assert marker_in(["# lines 3-9 not shown\n", "..."]) is None
