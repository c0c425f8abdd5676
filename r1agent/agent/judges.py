"""The files that judge a fix: a candidate may not edit them, so it cannot pass by changing its judges.

They are the target tests' files, the reproduction test, every ``conftest.py`` (new ones too) and the test
runner's configuration: ``pytest.ini``, and the pytest sections of ``pyproject.toml``, ``setup.cfg`` and
``tox.ini`` (a change elsewhere in those files is the project's own business). SWE-bench guards the same
way, by restoring the test files before it grades.
"""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path, PurePosixPath

from r1agent.tools.edits.patch import file_patch

from .state import FixState


def _pytest_section(path: str, text: str | None) -> object:
    """The pytest configuration a file holds (None when it holds none or cannot be read)."""
    if not text:
        return None
    name = PurePosixPath(path).name
    try:
        if name == "pyproject.toml":
            return tomllib.loads(text).get("tool", {}).get("pytest")
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read_string(text)
        section = "tool:pytest" if name == "setup.cfg" else "pytest"
        return dict(cfg[section]) if cfg.has_section(section) else None
    except (tomllib.TOMLDecodeError, configparser.Error):
        return ("unreadable", text)  # any change to an unreadable config counts as a change


def why_protected(path: str, state: FixState, before: str | None, after: str | None) -> str | None:
    """Why an edit of ``path`` (from ``before`` to ``after``) is refused, or None when it may be made."""
    name = PurePosixPath(path).name
    targets = {t.split("::")[0].rstrip("/") for t in state.target_tests}
    if any(path == t or path.startswith(t + "/") for t in targets):
        return "a test the fix must make pass"
    if state.repro_test and path == state.repro_test:
        return "the reproduction test"
    if name == "conftest.py":
        return "pytest configuration (conftest.py)"
    if name == "pytest.ini":
        return "the test runner's configuration"
    if name in ("pyproject.toml", "setup.cfg", "tox.ini") and \
            _pytest_section(path, before) != _pytest_section(path, after):
        return f"the test runner's configuration (its pytest section in {name})"
    return None


def without_judges(state: FixState, base: Path, files: dict[str, str]) -> tuple[str, list[str], list[str]]:
    """The candidate's patch with the edits of judging files left out: (patch, kept paths, refusals)."""
    patch, kept, refused = [], [], []
    for path in sorted(files):
        original = base / path
        before = original.read_text(encoding="utf-8", errors="surrogateescape") if original.is_file() else None
        reason = why_protected(path, state, before, files[path])
        if reason:
            refused.append(f"{path} ({reason})")
            continue
        patch.append(file_patch(path, before, files[path]))
        kept.append(path)
    return "".join(patch), kept, refused


def refusal_feedback(refused: list[str]) -> str:
    return ("Your edits to the files that judge the fix were refused and left out: " + "; ".join(refused)
            + ". They must stay as they are: fix the code under test, not the tests or their configuration.")
