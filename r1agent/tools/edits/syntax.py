"""Count tree-sitter syntax errors, so an edit that breaks a file's syntax is caught before tests run."""

from __future__ import annotations

import threading
from pathlib import PurePosixPath

from tree_sitter_language_pack import get_parser

LANGUAGE_BY_SUFFIX = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".tsx": "tsx", ".go": "go", ".rs": "rust",
    ".java": "java", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".rb": "ruby", ".php": "php", ".cs": "csharp", ".kt": "kotlin", ".swift": "swift",
    ".scala": "scala", ".lua": "lua", ".sh": "bash", ".bash": "bash", ".json": "json",
    ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".html": "html", ".css": "css",
}


_local = threading.local()  # tree-sitter parsers are not thread-safe; the agent applies candidates in parallel


def _parser(language: str):
    parsers = _local.__dict__.setdefault("parsers", {})
    if language not in parsers:
        parsers[language] = get_parser(language)
    return parsers[language]


def language_for(path: str) -> str | None:
    return LANGUAGE_BY_SUFFIX.get(PurePosixPath(path).suffix.lower())


def error_lines(path: str, text: str) -> list[int] | None:
    """1-based lines of each syntax error (ERROR or MISSING node); None when the language is unknown."""
    language = language_for(path)
    if language is None:
        return None
    tree = _parser(language).parse(text.encode("utf-8"))
    lines: list[int] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            lines.append(node.start_point[0] + 1)
            continue
        if node.has_error:
            stack.extend(node.children)
    return sorted(lines)


def new_error_line(path: str, before: str | None, after: str) -> int | None:
    """The first line of a syntax error the edit introduced, or None if it added none."""
    after_errors = error_lines(path, after)
    if not after_errors:
        return None
    before_errors = error_lines(path, before) if before is not None else []
    if len(after_errors) <= len(before_errors or []):
        return None
    fresh = [line for line in after_errors if line not in set(before_errors or [])]
    return (fresh or after_errors)[0]
