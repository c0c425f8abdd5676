"""Reading an issue from the command line: text, a file, or failing tests."""

from __future__ import annotations

from pathlib import Path

from r1agent.errors import InputError


def read_issue_file(path: Path) -> str:
    """The issue text of a file, refusing empty, binary and unreadable ones with one line."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read issue file {path}: {e.strerror or e}") from None
    if b"\0" in data[:8192]:
        raise InputError(f"issue file {path} is binary; give a text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"issue file {path} is not UTF-8 text") from None
    if not text.strip():
        raise InputError(f"issue file {path} is empty")
    return text


def resolve_issue(text: str | None, file: Path | None, tests: tuple[str, ...]) -> str:
    if text and file:
        raise InputError("give the issue as text or with --issue-file, not both")
    if file:
        return read_issue_file(file)
    if text is not None and not text.strip() and not tests:
        raise InputError("the issue text is empty")
    if not text and not tests:
        raise InputError('say what to fix: r1agent fix "issue text" | --issue-file F | --test NODEID')
    return text or ""
