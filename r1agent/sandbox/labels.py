"""Labels on everything r1agent creates in Docker, so prune and crash cleanup can find it."""

from __future__ import annotations

import os
import socket

OWNED = "r1agent"  # value "1" on every image, container and volume we make
KIND = "r1agent.kind"  # base | env | sandbox | build
OWNER_PID = "r1agent.pid"
OWNER_HOST = "r1agent.host"
REPO = "r1agent.repo"
DEPS_HASH = "r1agent.deps"


def owned(kind: str, **extra: str) -> dict[str, str]:
    """Labels for a new object: ours, its kind, and the live process that must remove it."""
    return {OWNED: "1", KIND: kind, OWNER_PID: str(os.getpid()), OWNER_HOST: socket.gethostname(), **extra}


def owned_filter(kind: str | None = None) -> dict[str, list[str]]:
    return {"label": [f"{OWNED}=1"] + ([f"{KIND}={kind}"] if kind else [])}
