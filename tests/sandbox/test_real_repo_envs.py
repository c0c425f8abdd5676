"""Environments as real projects need them: the Python they declare, their lock files and dependency
groups, and dependencies as they were at their commit date."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from r1agent.sandbox.docker_backend import DockerBackend

pytestmark = pytest.mark.docker
DATA = Path(__file__).parent / "data"


def commit_dated(repo: Path, day: str) -> None:
    """Commit everything in ``repo`` as if on ``day`` (author and committer dates)."""
    stamp = f"{day}T12:00:00+00:00"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "dated"], cwd=repo, check=True, env=env)


OLD_PYTHON = {
    # collections.Mapping left in Python 3.10: this code runs on 3.9 and not after.
    "setup.py": (
        "from setuptools import setup\n"
        "setup(name='oldpy', version='1.0', py_modules=['oldpy'], python_requires='>=3.6,<3.10',\n"
        "      classifiers=['Programming Language :: Python :: 3.8'])\n"
    ),
    "oldpy.py": "from collections import Mapping\n\n\ndef is_mapping(x):\n    return isinstance(x, Mapping)\n",
    "tests/test_oldpy.py": "from oldpy import is_mapping\n\n\ndef test_dict():\n    assert is_mapping({})\n",
}


def test_a_repo_that_needs_python_39_gets_it_and_says_why(make_repo):
    repo = make_repo(OLD_PYTHON, name="oldpy")
    done = subprocess.run([sys.executable, "-m", "r1agent", "-C", str(repo), "sandbox", "test", "--json"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"tests/test_oldpy.py::test_dict": "passed"' in done.stdout
    built = subprocess.run([sys.executable, "-m", "r1agent", "-C", str(repo), "sandbox", "build"],
                           capture_output=True, text=True, timeout=900)
    first = built.stdout.splitlines()[0]
    assert first.startswith("python 3.9 (Debian bullseye): setup.py classifiers lists up to 3.8"), built.stdout
    assert "setup.py python_requires '<3.10,>=3.6'" in first


LOCKED = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "lockdemo"\nversion = "0.1"\nrequires-python = ">=3.9"\n\n'
        '[dependency-groups]\ntests = ["iniconfig"]\n\n[tool.setuptools]\npy-modules = ["lockdemo"]\n'
    ),
    "lockdemo.py": "VALUE = 7\n",
    "tests/test_lock.py": (
        "import importlib.metadata\nimport lockdemo\n\n\n"
        "def test_locked_version():\n    assert importlib.metadata.version('iniconfig') == '1.1.1'\n"
        "    assert lockdemo.VALUE == 7\n"
    ),
}


def test_test_dependencies_come_from_a_pep_735_group_at_the_versions_uv_lock_pins(make_repo, make_settings,
                                                                                   docker_client, base_image):
    """iniconfig's newest release is 2.x; the lock pins 1.1.1 and that is what the tests get."""
    repo = make_repo({**LOCKED, "uv.lock": (DATA / "lockdemo-uv.lock").read_text()}, name="lockdemo")
    backend = DockerBackend(make_settings(), repo, client=docker_client)
    backend.ensure_image()
    with backend.create("lock") as sb:
        report = sb.run_tests()
        editable = sb.exec(["python", "-c", "import lockdemo; print(lockdemo.__file__)"]).stdout.strip()
    assert report.tests == {"tests/test_lock.py::test_locked_version": "passed"}
    assert editable == "/work/lockdemo.py"  # the project itself is installed editable from the lock


DRIFTED = {
    # MarkupSafe 2.1 (2022-02) removed soft_unicode: at the commit's date this code worked.
    "pyproject.toml": (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "drift"\nversion = "0.1"\ndependencies = ["markupsafe"]\n\n'
        '[tool.setuptools]\npy-modules = ["drift"]\n'
    ),
    "drift.py": "from markupsafe import soft_unicode\n\n\ndef text(x):\n    return soft_unicode(x)\n",
    "tests/test_drift.py": "from drift import text\n\n\ndef test_text():\n    assert text(3) == '3'\n",
}


def test_dependencies_resolved_at_the_commit_date_run_code_their_newest_release_breaks(
        make_repo, make_settings, docker_client, base_image):
    repo = make_repo(DRIFTED, name="drift", commit=False)
    commit_dated(repo, "2021-09-01")
    dated = DockerBackend(make_settings(dependency_date="commit"), repo, client=docker_client)
    assert dated.python().version == "3.9"  # no Python had settled after 3.9 by then
    dated.ensure_image()
    with dated.create("dated") as sb:
        report = sb.run_tests()
        markupsafe = sb.exec(["python", "-c", "import markupsafe; print(markupsafe.__version__)"]).stdout.strip()
    assert report.tests == {"tests/test_drift.py::test_text": "passed"}
    assert markupsafe.startswith("2.0.")

    today = DockerBackend(make_settings(), repo, client=docker_client)  # dependency_date=today: the newest
    today.ensure_image()
    with today.create("today") as sb:
        broken = sb.run_tests()
    assert "soft_unicode" in broken.output_tail and broken.tests.get("tests/test_drift.py::test_text") != "passed"
