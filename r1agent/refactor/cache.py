"""Finished refactor runs, keyed by the staged tree, the focus, the goal and the model.

An unchanged re-run (the usual pre-commit retry) is answered from here without any model request.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from r1agent.refactor.outcome import RefactorOutcome
from r1agent.refactor.staged import Focus
from r1agent.settings import Settings

CACHE_VERSION = "1"  # bump when the prompt or the checks change meaning


def cache_key(focus: Focus, goal: str | None, max_suggestions: int, settings: Settings) -> str:
    """The configured model name, not the endpoint's address: a hit needs no request, even to list models."""
    ep = settings.endpoint
    parts = {
        "v": CACHE_VERSION, "index": focus.index_digest, "focus": list(focus.paths), "goal": goal or "",
        "max": max_suggestions, "model": ep.model, "profile": ep.profile,
        "tests": settings.tests.command or "",
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _path(settings: Settings, key: str) -> Path:
    return settings.cache_dir / "refactor" / f"{key}.json"


def load(settings: Settings, key: str) -> RefactorOutcome | None:
    """The cached outcome, or None (a missing or unreadable entry is simply a miss)."""
    try:
        outcome = RefactorOutcome.model_validate_json(_path(settings, key).read_bytes())
    except (OSError, ValidationError):
        return None
    return outcome.model_copy(update={"cached": True})


def save(settings: Settings, key: str, outcome: RefactorOutcome) -> None:
    """Write atomically, so a concurrent run never reads half an entry."""
    path = _path(settings, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(outcome.model_copy(update={"cached": False}).model_dump_json())
    os.replace(tmp, path)
