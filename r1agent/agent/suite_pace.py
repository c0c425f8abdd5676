"""How long a repo's full suite took on an earlier run, per test function its files define. The related
tests' pace says little of the rest of a suite (sympy's ran past tests.confirm_seconds at under half the
estimate, 6 times in 39), so a suite that was killed at the budget once is not started again only to be
killed again. Kept in the cache dir, keyed by the repo's first commit: every clone and checkout shares it."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import git

from .related import test_files

_TEST_DEF = re.compile(rb"^\s*(?:async\s+)?def test", re.M)


def count_test_defs(base: Path, paths: list[str] | set[str] | None = None) -> int:
    """Test functions defined in ``paths`` (default: every test file of ``base``)."""
    total = 0
    for path in test_files(base) if paths is None else paths:
        try:
            total += len(_TEST_DEF.findall((base / path).read_bytes()))
        except OSError:
            pass
    return total


def repo_key(repo: Path) -> str | None:
    """The repo's first commit (the oldest root: a history merged in later brings roots of its own, so
    the set differs between commits), or None when git cannot say (no commits, not a repo)."""
    try:
        roots = git.Repo(repo, search_parent_directories=True).git.rev_list("--max-parents=0", "HEAD").split()
    except (git.GitError, ValueError):
        return None
    return roots[-1] if roots else None  # newest first


@dataclass(frozen=True)
class Pace:
    seconds_per_test: float
    finished: bool  # False: the suite was killed, so this is a lower bound


def _path(cache_dir: Path) -> Path:
    return cache_dir / "suite-pace.json"


def _read(cache_dir: Path) -> dict:
    try:
        data = json.loads(_path(cache_dir).read_text())
    except (OSError, ValueError):
        return {}  # none yet, or damaged: it is only a cache
    return data if isinstance(data, dict) else {}


def _pace(entry) -> Pace | None:
    try:
        return Pace(float(entry["seconds_per_test"]), bool(entry["finished"]))
    except (TypeError, KeyError, ValueError):
        return None


def recorded(cache_dir: Path, key: str | None) -> Pace | None:
    return _pace(_read(cache_dir).get(key)) if key else None


def record(cache_dir: Path, key: str | None, seconds: float, tests: int, finished: bool) -> None:
    """A full run of ``tests`` test functions took ``seconds`` (or was killed at them); a kill never
    lowers what an earlier run measured."""
    if not key or tests <= 0:
        return
    data = _read(cache_dir)  # read once: the file is rewritten whole below
    pace = Pace(seconds / tests, finished)
    if (old := _pace(data.get(key))) and not finished and old.seconds_per_test > pace.seconds_per_test:
        pace = old
    data[key] = {"seconds_per_test": pace.seconds_per_test, "finished": pace.finished}
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".suite-pace-")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, _path(cache_dir))  # parallel batch workers: whole files only, the last one wins
