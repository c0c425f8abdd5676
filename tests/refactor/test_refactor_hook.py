"""`r1agent refactor` as a pre-commit hook, driven by the real pre-commit framework in a real repo, with a
scripted R1 and real Docker sandboxes.

The hooks are `repo: local` with `language: system` and the venv's own `r1agent`: the published manifest
(`language: python`) would make pre-commit pip-install r1agent and its dependencies into a fresh env on every
test session, which is slow and needs the network. The manifest itself is checked with pre-commit's validator.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from r1agent.scripted import ScriptedEndpoint, ScriptedTurn

pytestmark = pytest.mark.docker

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
PROJECT = "shop"  # every repo here has this name and no dependency files, so all share one sandbox image
HOOK_TIMEOUT_S = 600

CALC = """def total(prices):
    result = 0
    for p in prices:
        result = result + p
    return result
"""
STAGED_CALC = CALC + """

def average(prices):
    if len(prices) == 0:
        return 0
    else:
        return total(prices) / len(prices)
"""
TESTS = """from calc import total


def test_total():
    assert total([1, 2, 3]) == 6
"""
STAGED_TESTS = """from calc import average, total


def test_total():
    assert total([1, 2, 3]) == 6


def test_average():
    assert average([1, 2]) == 1.5
    assert average([]) == 0
"""
HOOKS = f"""repos:
- repo: local
  hooks:
  - id: refactor-advisory
    name: r1agent refactor (advisory)
    entry: {VENV_BIN / "r1agent"} refactor --staged
    language: system
    pass_filenames: false
    always_run: true
    verbose: true
  - id: refactor-strict
    name: r1agent refactor (strict)
    entry: {VENV_BIN / "r1agent"} refactor --staged --strict
    language: system
    pass_filenames: false
    always_run: true
    verbose: true
"""
GOOD = """Suggestion: Use the built-in sum instead of a hand-written loop
calc.py
```python
<<<<<<< SEARCH
    result = 0
    for p in prices:
        result = result + p
    return result
=======
    return sum(prices)
>>>>>>> REPLACE
```
"""
BREAKS_A_TEST = """Suggestion: Use floor division for the average
calc.py
```python
<<<<<<< SEARCH
        return total(prices) / len(prices)
=======
        return total(prices) // len(prices)
>>>>>>> REPLACE
```
"""
ADDS_A_LINT_FINDING = """Suggestion: Import os for later path handling
calc.py
```python
<<<<<<< SEARCH
def total(prices):
=======
import os


def total(prices):
>>>>>>> REPLACE
```
"""
ANSWER = f"Three independent refactors.\n\n{GOOD}\n{BREAKS_A_TEST}\n{ADDS_A_LINT_FINDING}"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def scripted_r1(answer: str = ANSWER) -> ScriptedEndpoint:
    return ScriptedEndpoint([ScriptedTurn(reasoning="total is sum(); average could floor.", answer=answer)])


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def hook_env(base_url: str, skip: str) -> dict[str, str]:
    """What `git commit` hands the hooks: r1agent pointed at ``base_url``; SKIP turns the other hook off."""
    return {**os.environ, "R1AGENT_ENDPOINT__BASE_URL": base_url, "R1AGENT_ENDPOINT__MAX_RETRIES": "0",
            "R1AGENT_ENDPOINT__CONNECT_TIMEOUT": "2", "SKIP": skip}


def run(repo: Path, cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=HOOK_TIMEOUT_S)


@pytest.fixture(scope="session")
def sandbox_image(tmp_path_factory) -> str:
    """The image all repos named PROJECT use, built once per session (a missing base image takes minutes)."""
    from r1agent.sandbox import open_backend
    from r1agent.settings import Settings

    repo = tmp_path_factory.mktemp("image") / PROJECT
    repo.mkdir()
    git(repo, "init", "-q")
    return open_backend(Settings(cache_dir=tmp_path_factory.mktemp("cache")), repo).ensure_image()


@pytest.fixture
def shop(tmp_path, sandbox_image) -> Path:
    """A committed repo with a test, a ruff config and the hooks installed; a change to calc.py is staged."""
    repo = tmp_path / PROJECT
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    files = {"calc.py": CALC, "test_calc.py": TESTS, "ruff.toml": '[lint]\nselect = ["E", "F"]\n',
             ".pre-commit-config.yaml": HOOKS}
    for name, text in files.items():
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    installed = subprocess.run([str(VENV_BIN / "pre-commit"), "install"], cwd=repo, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    (repo / "calc.py").write_text(STAGED_CALC)
    (repo / "test_calc.py").write_text(STAGED_TESTS)
    git(repo, "add", "calc.py", "test_calc.py")
    return repo


def test_advisory_hook_shows_only_verified_suggestions_then_answers_from_cache(shop):
    staged_before = git(shop, "diff", "--cached")
    pre_commit_run = [str(VENV_BIN / "pre-commit"), "run", "refactor-advisory"]
    with scripted_r1() as r1:
        first = run(shop, pre_commit_run, hook_env(r1.base_url, skip=""))
    out = first.stdout + first.stderr
    assert first.returncode == 0, out
    assert len(r1.requests) == 1, out
    assert "Use the built-in sum instead of a hand-written loop" in out
    assert "+    return sum(prices)" in out
    assert "1 verified suggestion; 2 dropped (1 broke_tests, 1 lint)" in out
    assert "test_calc.py::test_average" in out  # the broken test is named in the drop line
    saved = list((shop / ".git" / "r1agent" / "suggestions").glob("*.patch"))
    assert len(saved) == 1 and "return sum(prices)" in saved[0].read_text()
    assert (shop / "calc.py").read_text() == STAGED_CALC and git(shop, "diff", "--cached") == staged_before

    with scripted_r1() as r1:
        again = run(shop, pre_commit_run, hook_env(r1.base_url, skip=""))
        assert len(r1.requests) == 0
    assert again.returncode == 0
    assert "(cached: no model request)" in again.stdout and "Use the built-in sum" in again.stdout

    applied = run(shop, [str(VENV_BIN / "r1agent"), "refactor", "--apply", saved[0].stem], dict(os.environ))
    assert applied.returncode == 0, applied.stderr
    assert "return sum(prices)" in (shop / "calc.py").read_text()
    assert git(shop, "diff", "--cached") == staged_before  # --apply without --stage leaves the index alone


def test_strict_hook_blocks_the_commit_while_a_verified_suggestion_exists(shop):
    head = git(shop, "rev-parse", "HEAD")
    with scripted_r1(GOOD) as r1:
        commit = run(shop, ["git", "commit", "-m", "add average"], hook_env(r1.base_url, skip="refactor-advisory"))
    assert commit.returncode != 0
    assert "Use the built-in sum" in commit.stdout + commit.stderr
    assert git(shop, "rev-parse", "HEAD") == head


def test_down_endpoint_never_blocks_an_advisory_commit_but_fails_strict_runs(shop):
    down = closed_port_url()
    strict = run(shop, [str(VENV_BIN / "r1agent"), "refactor", "--staged", "--strict"], hook_env(down, skip=""))
    assert strict.returncode == 2 and "cannot" in strict.stderr

    commit = run(shop, ["git", "commit", "-m", "add average"], hook_env(down, skip="refactor-strict"))
    out = commit.stdout + commit.stderr
    assert commit.returncode == 0, out
    assert "r1agent refactor: skipped" in out
    assert git(shop, "log", "-1", "--format=%s").strip() == "add average"


def test_published_manifest_is_valid_for_pre_commit():
    done = subprocess.run([str(VENV_BIN / "pre-commit"), "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "id: r1agent-refactor" in (ROOT / ".pre-commit-hooks.yaml").read_text()
