"""Reading an issue from the command line: text, a file, or failing tests."""

from __future__ import annotations

from pathlib import Path

from r1agent.errors import InputError


def resolve_issue(text: str | None, file: Path | None, tests: tuple[str, ...]) -> str:
    if text and file:
        raise InputError("give the issue as text or with --issue-file, not both")
    if file:
        from r1agent.tools.mentions import read_issue

        return read_issue(file)
    if text is not None and not text.strip() and not tests:
        raise InputError("the issue text is empty")
    if not text and not tests:
        raise InputError('say what to fix: r1agent fix "issue text" | --issue-file F | --test NODEID')
    return text or ""
