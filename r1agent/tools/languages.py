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


# (grammar in the language pack, query file, extensions). .h is shared by C and C++; the C++ grammar parses
# both, so headers get the richer one.
EXTENSIONS: dict[str, LanguageSpec] = {ext: LanguageSpec(grammar, query) for grammar, query, exts in [
    ("python", "python", ".py .pyi"), ("javascript", "javascript", ".js .jsx .mjs .cjs"),
    ("typescript", "typescript", ".ts .mts .cts"), ("tsx", "typescript", ".tsx"), ("go", "go", ".go"),
    ("rust", "rust", ".rs"), ("java", "java", ".java"), ("c", "c", ".c"),
    ("cpp", "cpp", ".h .cc .cpp .cxx .hpp .hh .hxx"),
] for ext in exts.split()}


def language_for(path: str) -> LanguageSpec | None:
    """The grammar for a repo-relative path, or None when no supported grammar covers it."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


@cache
def parser(grammar: str) -> tree_sitter.Parser:
    return get_parser(grammar)


def query_source(spec: LanguageSpec) -> str:
    """The text of the language's tags query (definitions and references), shipped in queries/."""
    return (Path(__file__).parent / "queries" / f"{spec.query}.scm").read_text("utf-8")
