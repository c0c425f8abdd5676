"""Shared fixtures: an isolated home for every test, and real git repos made on demand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from testkit import write_repo


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch) -> Path:
    """No test reads or writes the real ~/.config, ~/.cache or ~/.local/state."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    for var in list(__import__("os").environ):
        if var.startswith("R1AGENT_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.com")
    return home


@pytest.fixture
def make_repo(tmp_path) -> Callable[..., Path]:
    """Create a git repo holding ``files`` ({path: text}), committed once."""
    counter = {"n": 0}

    def _make(files: dict[str, str], name: str | None = None, commit: bool = True) -> Path:
        counter["n"] += 1
        return write_repo(tmp_path / (name or f"repo{counter['n']}"), files, commit)

    return _make
