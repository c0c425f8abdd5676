"""The offline demo: a small repo with a real bug, fixed by the agent against the scripted R1
endpoint (or a real one, when the settings name it), in the real Docker sandbox."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

DEMO_DIR = Path(__file__).parent / "demo"
DEMO_TEST = "tests/test_merge.py::test_touching_ranges_merge"


def make_demo_repo(dest: Path) -> Path:
    """Copy the example repo to ``dest`` and commit it, so the agent has a git repo to work on."""
    shutil.copytree(DEMO_DIR / "repo", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env_git = ["git", "-c", "user.name=r1agent demo", "-c", "user.email=demo@r1agent.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=dest, check=True)
    subprocess.run([*env_git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*env_git, "commit", "-q", "-m", "ranges: initial version"], cwd=dest, check=True)
    return dest


def demo_issue() -> str:
    return (DEMO_DIR / "repo" / "ISSUE.md").read_text(encoding="utf-8")


def default_demo_path(cache_dir: Path) -> Path:
    return cache_dir / "demo" / time.strftime("ranges-%Y%m%d-%H%M%S")
