"""Trust boundaries of a fix run: a candidate cannot rewrite the tests that judge it, and the protocol
keeps R1's answers whole and its candidates counted. The real CLI, Docker sandbox and scripted endpoint."""

from __future__ import annotations

import json
import subprocess

import pytest
from agent_world import GOOD, STILL_WRONG, edit, turn

pytestmark = pytest.mark.docker
TARGET = "tests/test_core.py::test_mean"
ISSUE = "mean() gives the wrong answer"
# "Fixes" the red test by changing what it expects: the answer a test-gaming model would give.
EDITS_THE_TEST = edit("    assert mean([1, 2, 3, 4]) == 2.5", "    assert mean([1, 2, 3, 4]) == 10 / 3",
                      path="tests/test_core.py", commit="Fix the test")
CONFTEST_SKIP = ("tests/conftest.py\n```python\n<<<<<<< SEARCH\n=======\nimport pytest\n\n\n"
                 "def pytest_collection_modifyitems(items):\n    for item in items:\n"
                 "        item.add_marker(pytest.mark.skip)\n>>>>>>> REPLACE\n```\n")


def fix(run_cli, repo, *extra):
    result = run_cli("-C", str(repo), "fix", ISSUE, "--test", TARGET, "--json", *extra)
    return result, (json.loads(result.out) if result.out.strip() else None)


def test_a_candidate_that_edits_the_failing_test_is_not_verified(run_cli, bug_repo, endpoint):
    ep = endpoint([turn(EDITS_THE_TEST), turn(EDITS_THE_TEST)])
    before = (bug_repo / "tests/test_core.py").read_text()
    result, summary = fix(run_cli, bug_repo, "--candidates", "1", "--rounds", "2")
    assert result.code == 1, result.err
    assert not summary["verified"] and [c["status"] for c in summary["candidates"]] == ["malformed", "malformed"]
    feedback = ep.requests[1]["messages"][-1]["content"]
    assert "refused" in feedback and "tests/test_core.py (a test the fix must make pass)" in feedback
    assert (bug_repo / "tests/test_core.py").read_text() == before
    assert subprocess.run(["git", "status", "--porcelain"], cwd=bug_repo, capture_output=True, text=True).stdout == ""


def test_edits_to_a_conftest_are_left_out_and_the_real_fix_is_judged_without_them(run_cli, bug_repo, endpoint):
    endpoint([turn(CONFTEST_SKIP + "\n" + GOOD)])
    result, summary = fix(run_cli, bug_repo, "--candidates", "1")
    assert result.code == 0, result.err
    (cand,) = summary["candidates"]
    assert cand["status"] == "verified" and TARGET in summary["fail_to_pass"]
    assert not (bug_repo / "tests/conftest.py").exists()
    assert "return sum(xs) / len(xs)" in (bug_repo / "stats/core.py").read_text()


def test_a_skipping_conftest_alone_cannot_turn_the_run_green(run_cli, bug_repo, endpoint):
    endpoint([turn(CONFTEST_SKIP)])
    result, summary = fix(run_cli, bug_repo, "--candidates", "1", "--rounds", "1")
    assert result.code == 1 and not summary["verified"]
    assert not (bug_repo / "tests/conftest.py").exists()


def test_an_answer_quoting_the_think_tag_survives_two_rounds(run_cli, bug_repo, endpoint):
    tricky = STILL_WRONG.replace("Commit: Fix mean", 'Note: the parser splits on TAG = "</think>", so keep it.\n'
                                 "Commit: Fix mean")
    ep = endpoint([turn(tricky), turn(GOOD)])
    result, summary = fix(run_cli, bug_repo, "--candidates", "1")
    assert result.code == 0, result.err and summary["rounds"] == 2
    assert ep.requests[1]["messages"][1] == {"role": "assistant", "content": tricky.strip()}


def test_an_endpoint_that_ignores_n_still_yields_n_candidates(run_cli, bug_repo, endpoint):
    ep = endpoint([turn(STILL_WRONG), turn(GOOD)], ignores_n=True)
    result, summary = fix(run_cli, bug_repo, "--candidates", "2", "--rounds", "1")
    assert result.code == 0, result.err
    assert len(summary["candidates"]) == 2 and summary["verified"]
    assert [r.get("n") for r in ep.requests] == [2, 1]
