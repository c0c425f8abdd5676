"""Reproduction tests from R1, follow-ups in the same thread, and the offline demo."""

from __future__ import annotations

import json
import subprocess

import pytest
from agent_world import GOOD, edit, turn

from r1agent.agent.runner import FixRequest, FixRun
from r1agent.scripted import ScriptedTurn
from r1agent.settings import load_settings

pytestmark = pytest.mark.docker


def new_test_file(body: str) -> str:
    return (f"tests/test_r1agent_reproduction.py\n```python\n<<<<<<< SEARCH\n=======\n{body}>>>>>>> REPLACE\n```\n")


FAILS_ON_BASE = new_test_file("from stats.core import mean\n\n\ndef test_mean_of_two():\n    assert mean([2, 4]) == 3\n")
PASSES_ON_BASE = new_test_file("from stats.core import median\n\n\ndef test_median_three():\n    assert median([1, 2, 3]) == 2\n")


def repro_turn(answer: str) -> ScriptedTurn:
    return ScriptedTurn(reasoning="A test first.", answer=answer, match="Do not fix the issue yet")


def test_reproduction_test_that_fails_on_base_becomes_the_target(run_cli, bug_repo, endpoint):
    ep = endpoint([repro_turn(FAILS_ON_BASE), turn(GOOD)])
    result = run_cli("-C", str(bug_repo), "fix", "mean() is wrong for two values", "--candidates", "1", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert "tests/test_r1agent_reproduction.py::test_mean_of_two" in summary["fail_to_pass"]
    assert "Do not fix the issue yet" in ep.requests[0]["messages"][-1]["content"]
    # The reproduction prompt and the fix prompt share their long context prefix.
    first, second = ep.requests[0]["messages"][0]["content"], ep.requests[1]["messages"][0]["content"]
    assert first.split("Do not fix the issue yet")[0] == second.split("Write the edits")[0]
    assert not (bug_repo / "tests/test_r1agent_reproduction.py").exists()  # the patch is the fix alone


def test_reproduction_test_that_passes_on_base_is_discarded(run_cli, bug_repo, endpoint):
    endpoint([repro_turn(PASSES_ON_BASE), turn(GOOD)])
    result = run_cli("-C", str(bug_repo), "fix", "mean() is wrong", "--candidates", "1", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["fail_to_pass"] == ["tests/test_core.py::test_mean"]
    assert not any("reproduction" in t for t in summary["fail_to_pass"])
    shown = run_cli("runs", "show", summary["run_id"])
    assert shown.code == 0 and "proves nothing" in shown.out


def test_follow_up_continues_the_thread(bug_repo, endpoint):
    empty_ok = edit("    return sum(xs) / len(xs)", "    return sum(xs) / len(xs) if xs else 0.0", commit="Empty mean")
    ep = endpoint([turn(GOOD), turn(empty_ok)])
    settings = load_settings(bug_repo, flags={"budget.candidates": 1}).settings
    run = FixRun.create(settings, FixRequest(repo=bug_repo, issue="mean() is wrong",
                                             tests=["tests/test_core.py::test_mean"]))
    try:
        assert run.run(lambda e: None).exit_code == 0
        run.follow_up("also return 0.0 for an empty list")
        final = run.run(lambda e: None)
    finally:
        run.close()
    assert final.exit_code == 0 and final.winner == "r2c0"
    assert "return sum(xs) / len(xs) if xs else 0.0" in (bug_repo / "stats/core.py").read_text()
    second = ep.requests[1]["messages"]
    assert second[-1]["content"].count("also return 0.0 for an empty list") == 1
    assert second[-2]["role"] == "assistant" and second[-2]["content"].strip() == GOOD.strip()


def test_demo_turns_a_red_test_green(run_cli, tmp_path):
    target = tmp_path / "demo"
    result = run_cli("demo", "--dir", str(target), "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["verified"] and summary["rounds"] == 2
    assert summary["fail_to_pass"] == ["tests/test_merge.py::test_touching_ranges_merge"]
    assert "scripted R1 endpoint" in result.err
    diff = subprocess.run(["git", "diff"], cwd=target, capture_output=True, text=True).stdout
    assert "+        if merged and start <= merged[-1][1]:" in diff
