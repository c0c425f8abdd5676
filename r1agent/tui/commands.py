"""Slash commands: parsing what the person typed, and completing command names, file paths
and run ids as they type."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.suggester import Suggester

from r1agent.errors import InputError


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    help: str
    needs_arg: bool = False


SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("fix", "/fix ISSUE", "start a new fix run for ISSUE", needs_arg=True),
    CommandSpec("test", "/test NODEID", "pin a failing test the fix must make pass", needs_arg=True),
    CommandSpec("add", "/add FILE", "pin a file into the context R1 sees", needs_arg=True),
    CommandSpec("map", "/map", "show the repository map R1 is given"),
    CommandSpec("runs", "/runs", "browse earlier runs (Enter resumes one)"),
    CommandSpec("resume", "/resume ID", "resume an earlier or killed run", needs_arg=True),
    CommandSpec("undo", "/undo", "revert the last hand-off in this repository"),
    CommandSpec("model", "/model [NAME]", "show the model endpoint, or use model NAME from now on"),
    CommandSpec("help", "/help", "list the commands and keys"),
)
BY_NAME = {s.name: s for s in SPECS}


@dataclass(frozen=True)
class Command:
    """A parsed line: a slash command with its argument, or plain text (name ``""``)."""

    name: str
    arg: str = ""


def parse_command(line: str) -> Command:
    """``/name arg`` → Command(name, arg); anything not starting with ``/`` is plain text."""
    text = line.strip()
    if not text.startswith("/"):
        return Command("", text)
    name, _, arg = text[1:].partition(" ")
    spec = BY_NAME.get(name.lower())
    if spec is None:
        raise InputError(f"unknown command /{name}; type /help for the list")
    if spec.needs_arg and not arg.strip():
        raise InputError(f"usage: {spec.usage}")
    return Command(spec.name, arg.strip())


def help_text() -> str:
    return "\n".join(f"  {s.usage:<16} {s.help}" for s in SPECS)


def tracked_files(repo: Path) -> list[str]:
    """The repo's files as git lists them (what /add can pin)."""
    done = subprocess.run(["git", "-C", str(repo), "ls-files", "-co", "--exclude-standard"],
                          capture_output=True, text=True, check=False)
    return sorted(done.stdout.splitlines()) if done.returncode == 0 else []


class CommandSuggester(Suggester):
    """Completes ``/name``, then the argument: files for /add, run ids for /resume."""

    def __init__(self, files: Callable[[], list[str]], run_ids: Callable[[], list[str]]):
        super().__init__(use_cache=False, case_sensitive=True)
        self._files, self._run_ids = files, run_ids

    async def get_suggestion(self, value: str) -> str | None:
        if not value.startswith("/"):
            return None
        name, space, arg = value[1:].partition(" ")
        if not space:
            return next((f"/{s.name}" + (" " if s.needs_arg else "") for s in SPECS
                         if s.name.startswith(name) and s.name != name), None)
        options = self._files() if name == "add" else self._run_ids() if name == "resume" else []
        match = next((o for o in options if o.startswith(arg) and o != arg), None)
        return f"/{name} {match}" if match else None
