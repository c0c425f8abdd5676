"""Fixtures for the agent's end-to-end tests: a buggy repo, the scripted R1 endpoint wired
into the settings, and a way to run the real CLI in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from agent_world import CliResult, repo_files

from r1agent.cli import main
from r1agent.scripted import ScriptedEndpoint, ScriptedTurn


@pytest.fixture
def bug_repo(make_repo) -> Path:
    return make_repo(repo_files(), name="stats")


@pytest.fixture
def endpoint(monkeypatch) -> Callable[..., ScriptedEndpoint]:
    """Start a scripted endpoint with the given turns and point the settings at it."""
    started: list[ScriptedEndpoint] = []

    def _start(turns: list[ScriptedTurn], **kw) -> ScriptedEndpoint:
        ep = ScriptedEndpoint(turns, **kw).start()
        started.append(ep)
        monkeypatch.setenv("R1AGENT_ENDPOINT__BASE_URL", ep.base_url)
        monkeypatch.setenv("R1AGENT_ENDPOINT__MAX_RETRIES", "2")
        return ep

    yield _start
    for ep in started:
        ep.stop()


@pytest.fixture
def run_cli(capsys) -> Callable[..., CliResult]:
    def _run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return _run
