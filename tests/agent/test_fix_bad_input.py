"""Bad input to `r1agent fix`: one line on stderr, exit code 2, nothing changed."""

from __future__ import annotations

import subprocess

from agent_world import GOOD, turn


def status(repo):
    return subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout


def assert_one_line_error(result, needle):
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("r1agent: error:") and needle in lines[0], result.err


def test_not_a_git_repo(run_cli, tmp_path):
    assert_one_line_error(run_cli("-C", str(tmp_path), "fix", "x"), "not inside a git repository")


def test_no_issue_given(run_cli, bug_repo):
    assert_one_line_error(run_cli("-C", str(bug_repo), "fix"), "say what to fix")


def test_empty_and_binary_issue_files(run_cli, bug_repo, tmp_path):
    (tmp_path / "empty.md").write_text("  \n")
    (tmp_path / "bin.md").write_bytes(b"\x00\x01\x02")
    assert_one_line_error(run_cli("-C", str(bug_repo), "fix", "--issue-file", str(tmp_path / "empty.md")), "is empty")
    assert_one_line_error(run_cli("-C", str(bug_repo), "fix", "--issue-file", str(tmp_path / "bin.md")), "binary")


def test_unreachable_endpoint(run_cli, bug_repo, monkeypatch):
    monkeypatch.setenv("R1AGENT_ENDPOINT__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("R1AGENT_ENDPOINT__MAX_RETRIES", "0")
    assert_one_line_error(run_cli("-C", str(bug_repo), "fix", "x"), "cannot reach the endpoint")
    assert status(bug_repo) == ""


def test_branch_with_dirty_tree_is_refused(run_cli, bug_repo, endpoint):
    endpoint([turn(GOOD)])
    (bug_repo / "stats/core.py").write_text("# my work\n")
    result = run_cli("-C", str(bug_repo), "fix", "x", "--branch", "b")
    assert_one_line_error(result, "uncommitted changes")
    assert (bug_repo / "stats/core.py").read_text() == "# my work\n"


def test_missing_docker_engine(run_cli, bug_repo, endpoint, monkeypatch, tmp_path):
    ep = endpoint([turn(GOOD)])
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    result = run_cli("-C", str(bug_repo), "fix", "x")
    assert_one_line_error(result, "Docker")
    assert ep.requests == [] and status(bug_repo) == ""
