"""Reading an issue from the command line: text, a file, or failing tests."""

from __future__ import annotations

from pathlib import Path

from r1agent.errors import InputError


def resolve_issue(text: str | None, file: Path | None, tests: tuple[str, ...]) -> str:
    if text and file:
        raise InputError("give the issue as text or with --issue-file, not both")
    if file:
        return read_issue(file)
    if text is not None and not text.strip() and not tests:
        raise InputError("the issue text is empty")
    if not text and not tests:
        raise InputError('say what to fix: r1agent fix "issue text" | --issue-file F | --test NODEID')
    return text or ""


def read_issue(path) -> str:
    """The text of an issue file; an InputError when it is missing, binary, or empty."""
    try:
        data = open(path, "rb").read()
    except OSError as e:
        raise InputError(f"{path}: cannot read issue file: {e.strerror}") from None
    if b"\0" in data[:8192]:
        raise InputError(f"{path}: issue file is binary, expected text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: issue file is not UTF-8 text") from None
    if not text.strip():
        raise InputError(f"{path}: issue file is empty")
    return text
