"""The hand-off touches only its own work: a commit holds exactly the fix, the user's index stays as it
was, a branch never silently lacks files the tests used, and a run killed at any hand-off step resumes
to one application with its undo record. Real git repos, the real CLI, Docker and the scripted endpoint."""

from __future__ import annotations

import json
import subprocess

import pytest
from agent_world import GOOD, turn

import r1agent.agent.nodes.handoff as handoff_node

pytestmark = pytest.mark.docker
TARGET = "tests/test_core.py::test_mean"
FIXED = "    return sum(xs) / len(xs)\n"


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def test_a_commit_holds_only_the_fix_and_the_users_staged_file_stays_staged(run_cli, bug_repo, endpoint):
    (bug_repo / "notes.txt").write_text("my notes\n")
    git(bug_repo, "add", "notes.txt")
    endpoint([turn(GOOD)])
    result = run_cli("-C", str(bug_repo), "fix", "mean is wrong", "--test", TARGET, "--candidates", "1", "--commit")
    assert result.code == 0, result.err
    assert git(bug_repo, "show", "--name-only", "--format=", "HEAD").split() == ["stats/core.py"]
    assert git(bug_repo, "diff", "--cached", "--name-only").split() == ["notes.txt"]
    assert git(bug_repo, "status", "--porcelain").splitlines() == ["A  notes.txt"]


def test_branch_mode_refuses_untracked_files_the_tests_would_use(run_cli, bug_repo, endpoint):
    (bug_repo / "stats" / "helpers.py").write_text("HALF = 0.5\n")
    ep = endpoint([turn(GOOD)])
    result = run_cli("-C", str(bug_repo), "fix", "mean is wrong", "--test", TARGET, "--branch", "r1/fix")
    assert result.code == 2 and "untracked files" in result.err and "stats/helpers.py" in result.err
    assert ep.requests == [] and "r1/fix" not in git(bug_repo, "branch")


class Killed(BaseException):
    """The process dies here: nothing after this point of the hand-off runs."""


def _kill_after(monkeypatch, name):
    real = getattr(handoff_node, name)

    def step(*args, **kwargs):
        real(*args, **kwargs)
        raise Killed(name)

    monkeypatch.setattr(handoff_node, name, step)


@pytest.mark.parametrize("mode, step", [
    ("--commit", "apply_to_worktree"), ("--commit", "commit_worktree_files"), ("--commit", "save_handoff"),
    ("--branch", "commit_on_branch"), ("--branch", "save_handoff"),
])
def test_a_kill_at_each_handoff_step_resumes_to_one_application(run_cli, bug_repo, endpoint, isolated_home,
                                                                mode, step):
    endpoint([turn(GOOD)])
    head = git(bug_repo, "rev-parse", "HEAD").strip()
    extra = [mode] + (["r1/fix-mean"] if mode == "--branch" else [])
    with pytest.MonkeyPatch.context() as kill, pytest.raises(Killed):
        _kill_after(kill, step)
        run_cli("-C", str(bug_repo), "fix", "mean is wrong", "--test", TARGET, "--candidates", "1", *extra)
    runs = sorted((isolated_home / "xdg_state_home" / "r1agent" / "runs").iterdir())
    resumed = run_cli("-C", str(bug_repo), "fix", "--resume", runs[-1].name, "--json")
    assert resumed.code == 0, resumed.err
    assert json.loads(resumed.out)["verified"]
    if mode == "--commit":
        assert (bug_repo / "stats/core.py").read_text().count(FIXED) == 1
        assert git(bug_repo, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
        assert git(bug_repo, "status", "--porcelain") == ""
    else:
        assert git(bug_repo, "rev-list", "--count", f"{head}..r1/fix-mean").strip() == "1"
        assert FIXED not in (bug_repo / "stats/core.py").read_text()  # the checkout is untouched
    undone = run_cli("-C", str(bug_repo), "undo")
    assert undone.code == 0, undone.err
    assert FIXED not in (bug_repo / "stats/core.py").read_text()
