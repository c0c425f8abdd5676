"""A baseline that cannot run is a setup error, named by its cause, never a result to fix against; and
with no test that shows the issue, a candidate is judged by breaking nothing. Real CLI, Docker, scripted R1."""

from __future__ import annotations

import json

import pytest
from agent_world import GOOD, repo_files, turn

pytestmark = pytest.mark.docker


def _errors(result) -> list[str]:
    return [line for line in result.err.splitlines() if line.startswith("r1agent: error:")]


@pytest.mark.parametrize("extra, cause", [
    ({"tests/test_core.py": "import nosuchmod\n\n\ndef test_mean():\n    assert nosuchmod.mean([1, 2]) == 1.5\n"},
     "ModuleNotFoundError: No module named 'nosuchmod'"),
    ({"tests/test_core.py": "# no tests here yet\n"}, "no tests were collected"),
])
def test_a_baseline_that_cannot_run_stops_with_its_cause_and_exit_2(run_cli, make_repo, endpoint, extra, cause):
    repo = make_repo(repo_files() | extra, name="stats")
    ep = endpoint([turn(GOOD)])
    result = run_cli("-C", str(repo), "fix", "mean is wrong", "--no-reproduce")
    assert result.code == 2, result.err
    (error,) = _errors(result)
    assert "cannot run on the unchanged code" in error and cause in error
    assert result.err.rstrip().endswith(error) and ep.requests == []


def test_with_no_test_showing_the_issue_tests_failing_already_are_not_demanded(run_cli, make_repo, endpoint):
    files = repo_files() | {"tests/test_net.py": "def test_needs_the_network():\n    assert False, 'offline'\n"}
    repo = make_repo(files, name="stats")
    endpoint([turn(GOOD)])
    result = run_cli("-C", str(repo), "fix", "mean() gives the wrong answer", "--no-reproduce", "--candidates", "1",
                     "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["pass_to_fail"] == [] and "tests/test_core.py::test_mean" in summary["fail_to_pass"]
    assert "return sum(xs) / len(xs)" in (repo / "stats/core.py").read_text()
