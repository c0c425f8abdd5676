"""The related baseline runs closest first in runs sized by the pace so far, until its time is spent.
Real pytest runs in the local backend's sandbox."""

from __future__ import annotations

from r1agent.agent.baseline_runs import within_seconds
from r1agent.sandbox import open_backend
from r1agent.settings import Settings

LOCAL = Settings.model_validate({"sandbox": {"backend": "local"}})


def _test_file(seconds: float) -> str:
    return f"import time\n\n\ndef test_it():\n    time.sleep({seconds})\n"


def test_runs_grow_with_the_pace_and_a_run_past_the_time_left_is_cut(make_repo):
    files = {f"tests/test_quick_{i}.py": _test_file(0.05) for i in range(8)} | {"tests/test_stuck.py": _test_file(60)}
    repo = make_repo(files)
    order = [f"tests/test_quick_{i}.py" for i in range(8)]
    with open_backend(LOCAL, repo).create("related") as sb:
        quick = within_seconds(sb, order, seconds=120, timeout=60, targets=[])
        cut = within_seconds(sb, [*order[:3], "tests/test_stuck.py", *order[3:]], seconds=8, timeout=60, targets=[])
    # the first file learns the pace; the rest fit the time left, each run at most twice what ran before
    assert [chunk for chunk, _ in quick] == [order[:1], order[1:3], order[3:]]
    assert all(not r.timed_out and set(r.tests.values()) == {"passed"} for _, r in quick)
    # a later run is killed at the time left, not at tests.timeout, and nothing runs after it
    *done, (last, killed) = cut
    # (how many runs came before it depends on this machine's pace: at most the three files before the stuck one)
    finished = [f for chunk, _ in done for f in chunk]
    assert finished and finished == order[:len(finished)] and len(finished) <= 3
    assert not any(r.timed_out for _, r in done)
    assert "tests/test_stuck.py" in last and killed.timed_out
    assert sum(r.duration_s for _, r in cut) < 20


def test_targets_ride_in_the_first_run_and_no_limit_is_one_run(make_repo):
    files = {f"tests/test_quick_{i}.py": _test_file(0) for i in range(6)}
    repo = make_repo(files)
    order = ["tests/test_quick_5.py::test_it", *(f"tests/test_quick_{i}.py" for i in range(5))]
    with open_backend(LOCAL, repo).create("related") as sb:
        runs = within_seconds(sb, order, seconds=120, timeout=60, targets=[order[0]])
        unlimited = within_seconds(sb, order, seconds=0, timeout=60, targets=[order[0]])
    assert [chunk for chunk, _ in runs] == [order[:2], order[2:]]
    assert [chunk for chunk, _ in unlimited] == [order] and len(unlimited[0][1].tests) == 6


def test_the_full_suite_estimate_counts_test_functions_not_files(make_repo):
    """A related file of quick tests (sympy's printing) says little of a suite whose other files hold far
    more: 1 file of 2 tests ran in 10 s, and the other file defines 40."""
    from r1agent.agent.nodes.select import full_suite_estimate
    from r1agent.agent.state import Candidate, FixState
    from r1agent.sandbox import TestReport

    big = "".join(f"def test_{i}():\n    pass\n\n\n" for i in range(40))
    repo = make_repo({"tests/test_core.py": "def test_a():\n    pass\n\n\nasync def test_b():\n    pass\n",
                      "tests/test_big.py": big})
    ran = TestReport({"tests/test_core.py::test_a": "passed", "tests/test_core.py::test_b": "passed"}, 0)
    winner = Candidate(round=1, index=0, answer="", report=ran, test_seconds=10.0)
    state = FixState(run_id="r", repo=str(repo), issue="", base_dir=str(repo))
    assert full_suite_estimate(state, winner) == 10.0 * 42 / 2  # by files it would be 20 s
