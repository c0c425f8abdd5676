"""The tree walk that matches the tags queries, held to tree-sitter's own Query as the oracle."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import pytest
import tree_sitter
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter_language_pack import get_language

from r1agent.tools import symbols
from r1agent.tools.languages import EXTENSIONS, LanguageSpec, language_for, parser, query_source
from r1agent.tools.patterns import TagPatterns, parse_patterns

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tags"
SAMPLES = sorted(FIXTURES.iterdir())


def _query(spec: LanguageSpec) -> tree_sitter.Query:
    return tree_sitter.Query(get_language(spec.grammar), query_source(spec))


def _key(caps: dict[str, list[tree_sitter.Node]]) -> dict[str, set[tuple[int, int, str]]]:
    """Captures as comparable sets: each node by its span and type (the order of captures is no one's promise)."""
    return {name: {(n.start_byte, n.end_byte, n.type) for n in nodes} for name, nodes in caps.items() if nodes}


def _same_captures(source: bytes, spec: LanguageSpec) -> tuple[dict, dict]:
    root = parser(spec.grammar).parse(source).root_node
    walked = TagPatterns(query_source(spec)).captures(root)
    queried = tree_sitter.QueryCursor(_query(spec)).captures(root)
    return _key(walked), _key(queried)


@pytest.mark.parametrize("grammar", sorted({s.grammar for s in EXTENSIONS.values()} - {"tsx"}))
def test_each_language_sample_exercises_every_pattern_of_its_query(grammar):
    sample = next(p for p in SAMPLES if language_for(p.name).grammar == grammar)
    spec = language_for(sample.name)
    root = parser(grammar).parse(sample.read_bytes()).root_node
    matched = {pattern for pattern, _ in tree_sitter.QueryCursor(_query(spec)).matches(root)}
    assert matched == set(range(_query(spec).pattern_count)), f"{sample.name} leaves patterns untried"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_walk_captures_what_the_query_captures(sample):
    walked, queried = _same_captures(sample.read_bytes(), language_for(sample.name))
    assert walked == queried
    assert walked["ref"] and walked["name"]


def _installed_sources(limit_per_language: int = 40) -> list[Path]:
    """Real files on any machine that runs the tests: the standard library, the venv's packages
    (matplotlib's JavaScript, pre-commit's Go and Rust templates, C extensions) and C headers."""
    roots = [Path(sysconfig.get_paths()["stdlib"]) / "email", Path(sysconfig.get_paths()["purelib"]),
             Path(sysconfig.get_paths()["include"]), Path(sys.prefix) / "include"]
    by_grammar: dict[str, list[Path]] = {}
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            spec = language_for(path.name)
            if spec and path.is_file() and path.stat().st_size < 200_000:
                found = by_grammar.setdefault(spec.grammar, [])
                if len(found) < limit_per_language:
                    found.append(path)
    return [p for paths in by_grammar.values() for p in paths]


def test_walk_agrees_with_the_query_on_installed_real_files():
    files = _installed_sources()
    assert sum(p.suffix == ".py" for p in files) >= 20
    for path in files:
        walked, queried = _same_captures(path.read_bytes(), language_for(path.name))
        assert walked == queried, path


@settings(max_examples=150, deadline=None)
@given(sample=st.sampled_from(SAMPLES), cuts=st.lists(
    st.tuples(st.floats(0, 1), st.integers(0, 12), st.sampled_from([b"", b"(", b"}", b"{", b";", b"\n", b"x."])),
    min_size=1, max_size=4))
def test_walk_agrees_with_the_query_on_broken_code(sample, cuts):
    """Edits mid-typing leave ERROR and MISSING nodes; the walk must see the tree as the query does."""
    source = sample.read_bytes()
    for where, length, insert in cuts:
        at = int(where * len(source))
        source = source[:at] + insert + source[at + length:]
    walked, queried = _same_captures(source, language_for(sample.name))
    assert walked == queried


@pytest.mark.parametrize("bad", ['(call function: "print")', "(call) @c (#eq? @c x)", "(call . (identifier))",
                                 "(call (identifier)* @x)", "(_ (identifier) @x)", "(call function: (identifier)"])
def test_query_syntax_the_walk_does_not_implement_is_refused(bad):
    with pytest.raises(ValueError):
        parse_patterns(bad)


def test_parse_source_is_the_same_walked_or_queried(monkeypatch):
    """Which matcher ran never shows: small trees are walked, bulk parsing uses the compiled query."""
    for sample in SAMPLES:
        spec = language_for(sample.name)
        monkeypatch.setattr(symbols, "WALK_BUDGET", 10**9)
        monkeypatch.setattr(symbols, "_queries", {})
        walked = symbols.parse_source(sample.read_bytes(), spec)
        assert spec not in symbols._queries
        monkeypatch.setattr(symbols, "WALK_BUDGET", 0)
        queried = symbols.parse_source(sample.read_bytes(), spec)
        assert spec in symbols._queries
        assert walked == queried and walked.definitions
