"""Choosing the backend the settings ask for. Docker unless the user says local; never a silent fallback."""

from __future__ import annotations

from pathlib import Path

from r1agent.events import EventSink
from r1agent.sandbox.docker_backend import DockerBackend
from r1agent.sandbox.local_backend import LocalBackend
from r1agent.settings import Settings

Backend = DockerBackend | LocalBackend


def open_backend(settings: Settings, repo: Path, on_event: EventSink | None = None) -> Backend:
    """The backend for ``repo``; SandboxError (one line, how to fix) when Docker is asked for but unreachable."""
    if settings.sandbox.backend == "local":
        return LocalBackend(settings, repo, on_event)
    return DockerBackend(settings, repo, on_event)
