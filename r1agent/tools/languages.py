"""Which tree-sitter grammar and tags query serve each source file extension.

Grammars come from tree_sitter_language_pack 0.13, which ships them compiled, so parsing works offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter
from tree_sitter_language_pack import get_parser


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


def query_source(spec: LanguageSpec) -> str:
    """The text of the language's tags query (definitions and references), shipped in queries/."""
    return (Path(__file__).parent / "queries" / f"{spec.query}.scm").read_text("utf-8")
