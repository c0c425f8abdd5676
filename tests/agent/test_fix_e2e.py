"""End to end: `r1agent fix` with the scripted R1 endpoint, the real Docker sandbox and real
git repos. Each test reads as the behaviour a user relies on."""

from __future__ import annotations

import io
import json
import subprocess

import pytest
from agent_world import GOOD, MALFORMED, REGRESSES, STILL_WRONG, turn, turns_n

from r1agent.scripted import Fault

pytestmark = pytest.mark.docker
TARGET = "tests/test_core.py::test_mean"


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def fix(run_cli, repo, *extra):
    result = run_cli("-C", str(repo), "fix", "mean() gives the wrong answer", "--test", TARGET, "--json", *extra)
    summary = json.loads(result.out) if result.out.strip() else None
    return result, summary


def test_fix_on_first_try_applies_verified_patch(run_cli, bug_repo, endpoint):
    ep = endpoint([turn(GOOD)])
    result, summary = fix(run_cli, bug_repo, "--candidates", "1")
    assert result.code == 0, result.err
    assert summary["verified"] and summary["rounds"] == 1
    assert TARGET in summary["fail_to_pass"] and summary["pass_to_fail"] == []
    assert "return sum(xs) / len(xs)" in (bug_repo / "stats/core.py").read_text()
    assert git(bug_repo, "status", "--porcelain").split() == ["M", "stats/core.py"]
    assert len(ep.requests) == 1


def test_failing_candidate_gets_feedback_then_fix(run_cli, bug_repo, endpoint):
    ep = endpoint([turn(STILL_WRONG, reasoning="SECRET-REASONING-1"), turn(GOOD)])
    result, summary = fix(run_cli, bug_repo, "--candidates", "1")
    assert result.code == 0, result.err
    assert summary["rounds"] == 2
    second = ep.requests[1]["messages"]
    assert [m["role"] for m in second][-3:] == ["user", "assistant", "user"]
    assert second[-2]["content"].strip() == STILL_WRONG.strip()
    assert "test_mean" in second[-1]["content"]
    assert all("SECRET-REASONING-1" not in m["content"] for m in second)
    assert second[0]["content"] == ep.requests[0]["messages"][0]["content"]  # append-only


def test_malformed_edit_gets_match_feedback_then_fix(run_cli, bug_repo, endpoint):
    ep = endpoint([turn(MALFORMED), turn(GOOD)])
    result, summary = fix(run_cli, bug_repo, "--candidates", "1")
    assert result.code == 0, result.err
    assert [c["status"] for c in summary["candidates"]] == ["malformed", "verified"]
    feedback = ep.requests[1]["messages"][-1]["content"]
    assert "stats/core.py" in feedback and "return sum(xs) / (len(xs) - 1)" in feedback


def test_parallel_candidates_only_the_passing_one_wins(run_cli, bug_repo, endpoint):
    ep = endpoint([turns_n(STILL_WRONG, GOOD, REGRESSES)])
    result, summary = fix(run_cli, bug_repo, "--candidates", "3")
    assert result.code == 0, result.err
    statuses = {c["key"]: c["status"] for c in summary["candidates"]}
    assert statuses == {"r1c0": "failed", "r1c1": "verified", "r1c2": "failed"}
    assert summary["winner"] == "r1c1"
    assert ep.requests[0]["n"] == 3


def test_a_patch_already_tested_is_not_run_again(run_cli, bug_repo, endpoint):
    ep = endpoint([turns_n(STILL_WRONG, STILL_WRONG), turns_n(STILL_WRONG, GOOD)])
    result = run_cli("-C", str(bug_repo), "fix", "mean() gives the wrong answer", "--test", TARGET,
                     "--candidates", "2")
    assert result.code == 0, result.err
    err = " ".join(result.err.split())
    assert "candidate r1c1: the same patch as candidate r1c0, so its verdict is reused" in err
    assert "candidate r2c0: the same patch as candidate r1c0, so its verdict is reused" in err, err
    assert err.count("testing 1 candidate(s) in parallel sandboxes") == 2, err  # one sandbox a round, not two
    assert len(ep.requests) == 2
    assert "return sum(xs) / len(xs)" in (bug_repo / "stats/core.py").read_text()


def test_connection_dropped_mid_stream_is_retried(run_cli, bug_repo, endpoint):
    ep = endpoint([turn(GOOD)])
    ep.inject(Fault("drop", after_chunks=3))
    result, summary = fix(run_cli, bug_repo, "--candidates", "1")
    assert result.code == 0, result.err
    assert summary["verified"]
    assert len(ep.requests) == 2  # the dropped attempt and its retry


def test_exhausted_budget_exits_1_and_saves_best_candidate(run_cli, bug_repo, endpoint, isolated_home):
    endpoint([turn(STILL_WRONG), turn(STILL_WRONG)])
    before = (bug_repo / "stats/core.py").read_text()
    result, summary = fix(run_cli, bug_repo, "--candidates", "1", "--rounds", "2")
    assert result.code == 1, result.err
    assert not summary["verified"] and summary["stop_reason"].startswith("rounds")
    saved = json.loads(result.out)["record"] + "/best-candidate.patch"
    assert "len(xs) + 1" in open(saved).read()
    assert (bug_repo / "stats/core.py").read_text() == before


def test_dirty_working_tree_is_preserved(run_cli, bug_repo, endpoint):
    endpoint([turn(GOOD)])
    core = bug_repo / "stats/core.py"
    core.write_text(core.read_text().replace("Middle value", "Middle value (uncommitted note)"))
    (bug_repo / "NOTES.txt").write_text("my untracked notes\n")
    result, summary = fix(run_cli, bug_repo, "--candidates", "1")
    assert result.code == 0, result.err
    text = core.read_text()
    assert "Middle value (uncommitted note)" in text and "return sum(xs) / len(xs)" in text
    assert (bug_repo / "NOTES.txt").read_text() == "my untracked notes\n"


def test_branch_option_commits_on_new_branch_and_leaves_checkout(run_cli, bug_repo, endpoint):
    endpoint([turn(GOOD)])
    head = git(bug_repo, "rev-parse", "HEAD").strip()
    result, summary = fix(run_cli, bug_repo, "--candidates", "1", "--branch", "r1/fix-mean")
    assert result.code == 0, result.err
    assert git(bug_repo, "rev-parse", "HEAD").strip() == head
    assert git(bug_repo, "status", "--porcelain") == ""
    assert "return sum(xs) / len(xs)" in git(bug_repo, "show", "r1/fix-mean:stats/core.py")
    assert git(bug_repo, "log", "-1", "--format=%s", "r1/fix-mean").strip() == "Fix mean"


def test_approve_declined_changes_nothing(run_cli, bug_repo, endpoint, monkeypatch):
    endpoint([turn(GOOD)])
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    result, summary = fix(run_cli, bug_repo, "--candidates", "1", "--approve")
    assert result.code == 0, result.err
    assert "declined" in summary["result"]
    assert git(bug_repo, "status", "--porcelain") == ""


def test_undo_reverts_the_last_handoff_only_if_files_are_unchanged(run_cli, bug_repo, endpoint):
    endpoint([turn(GOOD)])
    core = bug_repo / "stats/core.py"
    original = core.read_text()
    assert fix(run_cli, bug_repo, "--candidates", "1")[0].code == 0
    fixed = core.read_text()
    core.write_text(fixed + "# my edit after the fix\n")
    refused = run_cli("-C", str(bug_repo), "undo")
    assert refused.code == 2 and "changed since the hand-off" in refused.err
    assert core.read_text().endswith("# my edit after the fix\n")
    core.write_text(fixed)
    undo = run_cli("-C", str(bug_repo), "undo")
    assert undo.code == 0, undo.err
    assert (bug_repo / "stats/core.py").read_text() == original


def test_later_rounds_share_90_percent_prompt_prefix(run_cli, bug_repo, endpoint):
    import urllib.request

    from r1agent.scripted import prompt_tokens

    ep = endpoint([turn(STILL_WRONG), turn(STILL_WRONG), turn(GOOD)])
    result, summary = fix(run_cli, bug_repo, "--candidates", "1", "--rounds", "3")
    assert result.code == 0, result.err
    prompts = [prompt_tokens(r["messages"]) for r in ep.requests]
    assert len(prompts) == 3
    shared = []
    for before, after in zip(prompts, prompts[1:], strict=False):
        common = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), min(len(before), len(after)))
        shared.append(common)
        print(f"round prompt shares {common}/{len(after)} tokens ({common / len(after):.1%}) with the one before")
        assert common / len(after) >= 0.9, f"only {common}/{len(after)} tokens shared"
    metrics = urllib.request.urlopen(ep.base_url.removesuffix("/v1") + "/metrics").read().decode()
    hits = sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("vllm:prefix_cache_hits_total"))
    assert hits == sum(shared)


def test_a_failing_test_alone_is_the_issue(run_cli, bug_repo, endpoint):
    ep = endpoint([turn(GOOD)])
    result = run_cli("-C", str(bug_repo), "fix", "--test", TARGET, "--candidates", "1", "--json")
    assert result.code == 0, result.err
    prompt = ep.requests[0]["messages"][-1]["content"]
    assert f"These tests fail and must pass: {TARGET}" in prompt
    assert "assert 3.3333333333333335 == 2.5" in prompt  # the failure output R1 gets to read
    assert "def test_mean():" in prompt  # the test file is pinned into the context
