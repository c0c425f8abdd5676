"""Re-parsing only the blocks an edit touched gives what a whole-file parse gives, on every language."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r1agent.settings import Settings
from r1agent.tools import reparse, symbols
from r1agent.tools.files import repo_root
from r1agent.tools.index import _connect, db_path, update_index
from r1agent.tools.languages import language_for
from r1agent.tools.reparse import parse_edited
from r1agent.tools.symbols import parse_source
from r1agent.tools.terms import identifiers

SAMPLES = sorted((Path(__file__).parents[1] / "fixtures" / "tags").iterdir())
SNIPPETS = [
    b"def added(x):\n    return helper(x)\n", b"class Added:\n    def m(self):\n        return other()\n",
    b"function added() { return callee(); }\n", b"int added(void) { return callee(); }\n",
    b"fn added() -> u8 { callee() }\n", b"func Added() int { return callee() }\n",
    # Text that parses differently where it lands: it continues or closes what came before it.
    b"else:\n    pass\n", b"    indented()\n", b"# note\n    indented()\n", b"(paren)()\n", b"// note\n(paren)()\n",
    b"}\n", b"/* open comment\n", b"x = 1 + \\\n",
]


def _spans_parsed(monkeypatch) -> list[int]:
    """The sizes of the texts parse_edited hands to the parser, in order."""
    sizes: list[int] = []

    def counting(source: bytes, spec):
        sizes.append(len(source))
        return parse_source(source, spec)

    monkeypatch.setattr(reparse, "parse_source", counting)
    return sizes


def _cuts(blocks) -> list[int]:
    cuts = [0]
    for b in blocks:
        cuts.append(cuts[-1] + b.size)
    return cuts


@settings(max_examples=300, deadline=None)
@given(sample=st.sampled_from(SAMPLES), snippet=st.sampled_from(SNIPPETS), data=st.data())
def test_an_edited_file_parses_as_a_whole_file_parse_would(sample, snippet, data):
    source, spec = sample.read_bytes(), language_for(sample.name)
    last = parse_source(source, spec)
    assert last.blocks and not last.syntax_errors
    assert last.identifiers == identifiers(source.decode())  # found block by block, as one scan finds them
    cuts = _cuts(last.blocks)
    a = data.draw(st.integers(0, len(cuts) - 2), label="block")
    b = data.draw(st.integers(a + 1, len(cuts) - 1), label="to block")
    at = data.draw(st.sampled_from(cuts), label="at cut")
    where = data.draw(st.integers(cuts[a], cuts[a + 1]), label="inside block a")
    edited = data.draw(st.sampled_from([
        source[:at] + snippet + source[at:],  # a new block between two others
        source[:cuts[a]] + source[cuts[b]:],  # blocks deleted
        source[:where] + snippet + source[where:],  # a block changed inside
        source[:cuts[b]] + source[cuts[a]:cuts[b]] + source[cuts[b]:],  # blocks repeated
        source + snippet,
    ]), label="edit")
    assert parse_edited(edited, spec, last.blocks, last.definitions, last.identifiers) == parse_source(edited, spec)


def _many_blocks() -> bytes:
    return b"\n\n".join(b"def f%d(x):\n    return g%d(x)\n" % (i, i) for i in range(40))


def test_an_edit_to_one_function_parses_it_and_its_neighbours_only(monkeypatch):
    source, spec = _many_blocks(), language_for("m.py")
    last = parse_source(source, spec)
    assert len(last.blocks) == 40
    edited = source.replace(b"return g20(x)", b"return g20(x) + h(x)\n    # and a longer body")
    sizes = _spans_parsed(monkeypatch)
    scanned: list[int] = []  # the texts searched for identifier words: the kept blocks' words are reused
    words = symbols.identifiers
    monkeypatch.setattr(symbols, "identifiers", lambda text, start=0, end=None:
                        scanned.append((len(text) if end is None else end) - start) or words(text, start, end))
    got = parse_edited(edited, spec, last.blocks, last.definitions, last.identifiers)
    assert sizes == [sum(b.size for b in last.blocks[19:22]) + len(b" + h(x)\n    # and a longer body")]
    assert sum(scanned) == sizes[0]
    monkeypatch.undo()
    assert got == parse_source(edited, spec)
    assert got.references["h"] == 1 and [d.start_line for d in got.definitions][21] == 86  # shifted a line


@pytest.mark.parametrize(("name", "before", "insert", "after"), [
    ("m.py", b"if ready:\n    go()\n", b"else:\n    wait()\n", b"def f():\n    pass\n"),  # closes the if
    ("m.py", b"def f():\n    a()\n", b"    b()\n", b"def g():\n    pass\n"),  # continues f's body
    ("m.py", b"def f():\n    a()\n\n# a comment\n", b"    b()\n", b"def g():\n    pass\n"),  # comments between
    ("m.js", b"let x = 1\n", b"(callee)()\n", b"function f() {}\n"),  # no semicolon: a call of 1
])
def test_text_that_changes_how_its_neighbour_parses_falls_back_to_the_whole_file(monkeypatch, name, before, insert,
                                                                                   after):
    spec = language_for(name)
    source = b"function g() {}\n" * 3 if name.endswith(".js") else b"import os\n" * 3
    source += before + after
    last = parse_source(source, spec)
    edited = source.replace(before + after, before + insert + after)
    sizes = _spans_parsed(monkeypatch)
    got = parse_edited(edited, spec, last.blocks, last.definitions, last.identifiers)
    assert sizes[-1] == len(edited)  # the span check failed, so the whole file was parsed
    assert got == parse_source(edited, spec)


def test_words_are_found_block_by_block_where_characters_take_several_bytes():
    spec = language_for("m.py")
    source = "".join(f"def f{i}(x):\n    return 'café ☕ {i}' + g{i}(x)\n\n" for i in range(10)).encode()
    last = parse_source(source, spec)
    cuts = _cuts(last.blocks)
    assert len(last.blocks) >= 10 and len(source) > len(source.decode())
    assert last.identifiers == identifiers(source.decode())
    spans = zip(cuts, cuts[1:], strict=False)
    assert [b.identifiers for b in last.blocks] == [len(identifiers(source[a:b].decode())) for a, b in spans]
    edited = source.replace(b"g4(x)", "g4(x) + ünï(x)".encode())
    assert parse_edited(edited, spec, last.blocks, last.definitions, last.identifiers) == parse_source(edited, spec)


def test_words_that_do_not_match_the_blocks_make_a_whole_file_parse(monkeypatch):
    source, spec = _many_blocks(), language_for("m.py")
    last = parse_source(source, spec)
    assert sum(b.identifiers for b in last.blocks) == len(last.identifiers) > 0
    edited = source + b"def ok():\n    pass\n"
    sizes = _spans_parsed(monkeypatch)
    assert parse_edited(edited, spec, last.blocks, last.definitions, last.identifiers[1:]) == parse_source(edited, spec)
    assert sizes == [len(edited)]


def test_a_file_with_syntax_errors_keeps_no_blocks_and_is_parsed_whole(monkeypatch):
    spec = language_for("m.py")
    broken = parse_source(_many_blocks() + b"def (:\n", spec)
    assert broken.syntax_errors and broken.blocks == []
    sizes = _spans_parsed(monkeypatch)
    edited = _many_blocks() + b"def ok():\n    pass\n"
    assert parse_edited(edited, spec, broken.blocks, broken.definitions, broken.identifiers) == parse_source(edited, spec)
    assert sizes == [len(edited)]


def test_the_index_reparses_an_edited_file_by_blocks_and_stores_the_same_rows(make_repo, tmp_path, monkeypatch):
    repo = make_repo({"big.py": _many_blocks().decode(), "other.py": "def g5():\n    return 1\n"})
    settings = Settings(cache_dir=tmp_path / "cache")
    update_index(repo, settings, workers=1)
    text = (repo / "big.py").read_text().replace("return g7(x)", "return g7(x) or late()")
    (repo / "big.py").write_text(text)
    sizes = _spans_parsed(monkeypatch)
    assert update_index(repo, settings, workers=1).parsed == ["big.py"]
    assert sizes and max(sizes) < len(text) // 4
    monkeypatch.undo()
    fresh = Settings(cache_dir=tmp_path / "fresh")
    update_index(repo, fresh, workers=1)
    rows = "SELECT path, defs, refs, idents, value FROM files JOIN blocks USING (path) ORDER BY path"
    root = repo_root(repo)
    assert _connect(db_path(root, settings)).execute(rows).fetchall() == \
        _connect(db_path(root, fresh)).execute(rows).fetchall()
