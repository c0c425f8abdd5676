"""TUI fixtures: the demo's ranges repo, settings aimed at it, and the app built around them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from r1agent.demo import make_demo_repo
from r1agent.settings import load_settings
from r1agent.tui.app import R1App
from r1agent.tui.session import AgentSession


@pytest.fixture
def ranges_repo(tmp_path) -> Path:
    return make_demo_repo(tmp_path / "ranges")


@pytest.fixture
def make_app(ranges_repo) -> Callable[..., R1App]:
    def _make(repo: Path | None = None, flags: dict | None = None, **kwargs) -> R1App:
        repo = repo or ranges_repo
        settings = load_settings(repo=repo, flags=flags or {}).settings
        return R1App(AgentSession(settings, repo), **kwargs)

    return _make
