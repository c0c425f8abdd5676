"""Shared sandbox fixtures: one Docker client, the base image built once (reused when tagged)."""

from __future__ import annotations

from datetime import date

import pytest

from r1agent.events import ignore
from r1agent.sandbox.base_image import ensure_base_image
from r1agent.sandbox.docker_connect import connect
from r1agent.sandbox.python_choice import PythonChoice, settled_python
from r1agent.settings import SandboxSettings, Settings, TestSettings

SAMPLE_FILES = {
    "calc.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
    "tests/test_calc.py": (
        "import pytest\nfrom calc import add, mul\n\n\n"
        "def test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_mul():\n    assert mul(2, 3) == 6\n\n\n"
        "class TestMore:\n    @pytest.mark.parametrize('n', [1, 2])\n    def test_square(self, n):\n        assert mul(n, n) == n ** 2\n\n"
        "    @pytest.mark.skip(reason='later')\n    def test_skipped(self):\n        pass\n\n"
        "    @pytest.mark.xfail(strict=True)\n    def test_known_bug(self):\n        assert mul(0, 1) == 1\n"
    ),
    "conftest.py": "",
    ".gitignore": "build/\n*.log\n",
}
FIX_ADD = (
    "--- a/calc.py\n+++ b/calc.py\n@@ -1,5 +1,5 @@\n def add(a, b):\n-    return a - b\n+    return a + b\n \n \n"
    " def mul(a, b):\n"
)


def sandbox_settings(**sandbox) -> Settings:
    """Small limits so hostile tests hit them quickly."""
    base = {"memory": "512m", "pids_limit": 256, "timeout": 120.0, "parallel": 4}
    return Settings(sandbox=SandboxSettings(**{**base, **sandbox}), tests=TestSettings(timeout=300))


@pytest.fixture(scope="session")
def make_settings():
    """``make_settings(**sandbox)``: Settings with small sandbox limits, overridable."""
    return sandbox_settings


@pytest.fixture(scope="session")
def sample_files() -> dict[str, str]:
    """A small project: one bug (add), passing, skipped and xfail tests."""
    return dict(SAMPLE_FILES)


@pytest.fixture(scope="session")
def fix_add() -> str:
    """A patch fixing the sample's bug."""
    return FIX_ADD


@pytest.fixture(scope="session")
def docker_client():
    return connect()


@pytest.fixture(scope="session")
def base_image(docker_client, tmp_path_factory) -> str:
    """The base a repo committed today gets: built from the host's Debian mirror the first time
    (a minute or two), then found by tag."""
    today = PythonChoice(settled_python(date.today()), "")
    return ensure_base_image(docker_client, today.base_tag, tmp_path_factory.mktemp("base-build"), ignore, today.suite)


def commit_repo(root, files: dict[str, str], commit: bool = True):
    """A real git repo at ``root`` holding ``files``, committed once (for module-scoped fixtures)."""
    import subprocess

    root.mkdir(parents=True, exist_ok=True)
    ident = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    if commit:
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(root), *ident, "commit", "-q", "-m", "initial"], check=True)
    return root


@pytest.fixture(scope="session")
def repo_factory():
    """``repo_factory(root, files)``: a committed git repo, usable from module-scoped fixtures."""
    return commit_repo


@pytest.fixture(scope="module")
def sample_repo(tmp_path_factory):
    return commit_repo(tmp_path_factory.mktemp("sample") / "calcrepo", SAMPLE_FILES)


@pytest.fixture(scope="module")
def docker_backend(docker_client, base_image, sample_repo):
    """A Docker backend for the sample repo with its environment image ready."""
    from r1agent.sandbox.docker_backend import DockerBackend

    backend = DockerBackend(sandbox_settings(), sample_repo, client=docker_client)
    backend.ensure_image()
    return backend
