"""Which tree-sitter grammar and tags query serve each source file extension.

Grammars come from tree_sitter_language_pack 0.13, which ships them compiled, so parsing works offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from importlib import resources

import tree_sitter
from tree_sitter_language_pack import get_language, get_parser


@dataclass(frozen=True)
class LanguageSpec:
    """A grammar name in the language pack and the query file under ``queries/`` that tags it."""

    grammar: str
    query: str


_PY = LanguageSpec("python", "python")
_JS = LanguageSpec("javascript", "javascript")
_TS = LanguageSpec("typescript", "typescript")
_TSX = LanguageSpec("tsx", "typescript")
_GO = LanguageSpec("go", "go")
_RS = LanguageSpec("rust", "rust")
_JAVA = LanguageSpec("java", "java")
_C = LanguageSpec("c", "c")
_CPP = LanguageSpec("cpp", "cpp")

EXTENSIONS: dict[str, LanguageSpec] = {
    ".py": _PY, ".pyi": _PY,
    ".js": _JS, ".jsx": _JS, ".mjs": _JS, ".cjs": _JS,
    ".ts": _TS, ".mts": _TS, ".cts": _TS, ".tsx": _TSX,
    ".go": _GO,
    ".rs": _RS,
    ".java": _JAVA,
    # .h is shared by C and C++; the C++ grammar parses both, so headers get the richer one.
    ".c": _C, ".h": _CPP,
    ".cc": _CPP, ".cpp": _CPP, ".cxx": _CPP, ".hpp": _CPP, ".hh": _CPP, ".hxx": _CPP,
}


def language_for(path: str) -> LanguageSpec | None:
    """The grammar for a repo-relative path, or None when no supported grammar covers it."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


@cache
def parser(grammar: str) -> tree_sitter.Parser:
    return get_parser(grammar)


def _query_source(spec: LanguageSpec) -> str:
    return resources.files("r1agent.tools").joinpath("queries", f"{spec.query}.scm").read_text("utf-8")


@cache
def queries(spec: LanguageSpec) -> tuple[tree_sitter.Query, tree_sitter.Query]:
    """The tags query split in two (compiled once per process): definitions, read as matches to pair
    each node with its name, and references, read as flat captures, which is much cheaper."""
    source = _query_source(spec)
    language = get_language(spec.grammar)
    defs, refs = tree_sitter.Query(language, source), tree_sitter.Query(language, source)
    encoded = source.encode("utf-8")
    for i in range(defs.pattern_count):
        is_ref = b"@ref" in encoded[defs.start_byte_for_pattern(i):defs.end_byte_for_pattern(i)]
        (defs if is_ref else refs).disable_pattern(i)
    return defs, refs
