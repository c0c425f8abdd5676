"""Candidates run the tests related to what they change, not the whole suite; the full suite runs once,
to confirm the candidate about to be handed off. Real CLI, Docker, index and scripted R1."""

from __future__ import annotations

import subprocess

import pytest
from agent_world import GOOD, edit, repo_files, turn

from r1agent.agent.related import related_test_files

pytestmark = pytest.mark.docker

# A test the change can break that neither imports stats.core nor names what it defines: only the
# full suite finds it.
HIDDEN = ("import importlib, inspect\n\n\ndef test_public_signature_is_stable():\n"
          "    module = importlib.import_module('stats.' + 'core')\n"
          "    assert list(inspect.signature(getattr(module, 'me' + 'an')).parameters) == ['xs']\n")
UNRELATED = {f"tests/test_report_{i}.py": f"from stats.report_{i} import header_{i}\n\n\ndef test_header():\n"
                                          f"    assert header_{i}(['a']).count('-') > 0\n" for i in range(4)}
CHANGES_SIGNATURE = edit("def mean(xs):\n    \"\"\"Arithmetic mean of a non-empty sequence.\"\"\"\n"
                         "    return sum(xs) / (len(xs) - 1)",
                         "def mean(xs, weights=None):\n    \"\"\"Arithmetic mean of a non-empty sequence.\"\"\"\n"
                         "    return sum(xs) / len(xs)")


def test_related_test_files_follow_imports_and_the_def_ref_graph(make_repo):
    from r1agent.settings import Settings
    from r1agent.tools.index import load_snapshot, update_index

    files = repo_files(filler=2) | {"tests/test_uses_names.py": "def test_it():\n    assert median([2]) == 2\n",
                                    "tests/test_from.py": "from stats import core\n\n\ndef test_x():\n    pass\n",
                                    "tests/test_other.py": "import os\n\n\ndef test_y():\n    pass\n"}
    repo = make_repo(files, name="stats")
    settings = Settings()
    update_index(repo, settings)
    graph = load_snapshot(repo, settings).graph
    found = related_test_files(["stats/core.py"], repo, graph)
    # closest first: the summed weight of the names used; an importer that uses none comes last
    assert found == ["tests/test_core.py", "tests/test_uses_names.py", "tests/test_from.py"]
    assert related_test_files(["stats/core.py"], repo) == ["tests/test_core.py", "tests/test_from.py"]  # imports only
    assert related_test_files(["tests/test_other.py"], repo) == ["tests/test_other.py"]


def test_a_test_file_named_after_a_module_is_related_though_it_imports_only_the_package(make_repo):
    """sympy's test_mathematica.py reaches printing/mathematica.py only as ``from sympy import
    mathematica_code``: no import of the module, and the index sees no use of its names."""
    by_package = "import stats\n\n\ndef test_it():\n    assert stats\n"
    repo = make_repo(repo_files(filler=2) | {"tests/test_report_0.py": by_package, "stats/tests/test_report_1.py": by_package,
                                             "other/test_report_0.py": by_package}, name="stats")
    assert related_test_files(["stats/report_0.py"], repo) == ["tests/test_report_0.py"]
    assert related_test_files(["stats/report_1.py"], repo) == ["stats/tests/test_report_1.py"]


def test_graph_linked_test_files_are_capped_strongest_link_first(make_repo):
    """A core module is used by much of a suite in passing (sympy's matrices.py: 268 of 430 test files);
    only its strongest users run, and importers run whatever the cap."""
    from r1agent.settings import Settings
    from r1agent.tools.index import load_snapshot, update_index

    uses = {"tests/test_heavy.py": "def test_a():\n    assert mean([1]) == median([1]) == mean([1])\n"
                                   "def test_b():\n    assert median([2]) == mean([2]) == median([2])\n",
            "tests/test_light.py": "def test_c():\n    assert median([3]) == 3\n",
            "tests/test_from.py": "from stats import core\n\n\ndef test_x():\n    pass\n"}
    repo = make_repo(repo_files(filler=2) | uses, name="stats")
    settings = Settings()
    update_index(repo, settings)
    graph = load_snapshot(repo, settings).graph
    everything = related_test_files(["stats/core.py"], repo, graph)
    assert {"tests/test_heavy.py", "tests/test_light.py", "tests/test_from.py"} <= set(everything)
    capped = related_test_files(["stats/core.py"], repo, graph, graph_limit=1)
    assert capped == ["tests/test_heavy.py", "tests/test_core.py", "tests/test_from.py"]  # by summed weight
    assert related_test_files(["stats/core.py"], repo, graph, graph_limit=0) == ["tests/test_core.py",
                                                                                 "tests/test_from.py"]


def test_a_candidate_runs_its_related_tests_and_the_full_suite_confirms_the_chosen_one(run_cli, make_repo,
                                                                                       endpoint):
    repo = make_repo(repo_files() | UNRELATED | {"tests/test_api.py": HIDDEN}, name="stats")
    ep = endpoint([turn(CHANGES_SIGNATURE), turn(GOOD)])
    result = run_cli("-C", str(repo), "fix", "mean() gives the wrong answer", "--no-reproduce", "--candidates", "1")
    assert result.code == 0, result.err
    err = " ".join(result.err.split())
    # Round 1: the related run (tests/test_core.py) passes, the full suite finds the hidden regression.
    assert "ran 3 tests of 1 selected test file(s) or test(s), related to stats/core.py; 5 other test file(s) not run" in err
    assert "breaks 1 test(s) of the full suite: tests/test_api.py::test_public_signature_is_stable" in err
    # Round 2: told about it, R1 sends the plain fix; the full suite confirms it.
    assert "test_public_signature_is_stable" in ep.requests[1]["messages"][-1]["content"]
    assert "full suite confirms candidate" in err
    assert "def mean(xs):" in (repo / "stats/core.py").read_text()
    # its pace is kept for the next run of this repo: finished, well within the budget, so it runs again
    from r1agent.agent.suite_pace import recorded, repo_key
    from r1agent.settings import Settings

    pace = recorded(Settings().cache_dir, repo_key(repo))
    assert pace is not None and pace.finished and 0 < pace.seconds_per_test < 10
    assert "return sum(xs) / len(xs)" in (repo / "stats/core.py").read_text()


def test_a_full_suite_far_over_the_budget_at_the_related_runs_pace_is_not_started(run_cli, make_repo, endpoint):
    repo = make_repo(repo_files() | UNRELATED, name="stats")
    endpoint([turn(GOOD)])
    result = run_cli("--set", "tests.confirm_seconds=0.01", "-C", str(repo), "fix", "mean() gives the wrong answer",
                     "--no-reproduce", "--candidates", "1")
    assert result.code == 0, result.err
    err = " ".join(result.err.split())
    assert "full suite skipped: at its related run's pace it takes about" in err
    assert "too close to tests.confirm_seconds (0.01 s) to finish" in err and "full suite confirms" not in err
    assert "return sum(xs) / len(xs)" in (repo / "stats/core.py").read_text()  # it stands on its related tests


def test_a_suite_killed_at_tests_confirm_seconds_is_not_started_again_in_any_clone(run_cli, make_repo, endpoint):
    """sympy's related tests ran at a pace that put its full suite under half of tests.confirm_seconds,
    and the suite was killed at the budget, 6 times in 39: once killed, the same repo skips it."""
    many = "from stats.core import mean\n\n" + "".join(f"\ndef test_{i}():\n    assert mean\n\n" for i in range(40))
    slow = "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"
    repo = make_repo(repo_files() | {"tests/test_core_more.py": many, "tests/test_slow.py": slow}, name="stats")
    clone = repo.parent / "stats-clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    endpoint([turn(GOOD), turn(GOOD)])
    args = ("--set", "tests.confirm_seconds=12", "fix", "mean() gives the wrong answer", "--no-reproduce",
            "--candidates", "1")
    first = run_cli("-C", str(repo), *args)
    assert first.code == 0, first.err
    err = " ".join(first.err.split())
    # the related run (43 quick tests of 44) puts the suite near 1 s; test_slow.py holds it past 12 s
    assert "running the full suite for candidate r1c0 (at most 12 s)" in err
    assert "full suite skipped: it does not finish within tests.confirm_seconds (12 s)" in err
    second = run_cli("-C", str(clone), *args)
    assert second.code == 0, second.err
    err = " ".join(second.err.split())
    assert "full suite skipped: on an earlier run this repo's full suite took over 1" in err
    assert "too close to tests.confirm_seconds (12 s) to finish" in err and "running the full suite" not in err
    assert "return sum(xs) / len(xs)" in (clone / "stats/core.py").read_text()


def test_related_files_past_tests_related_seconds_are_left_out_least_related_first(run_cli, make_repo, endpoint):
    """sympy's related files for one change can take longer than tests.timeout; the baseline runs them
    closest first until tests.related_seconds are spent, names the rest, and candidates run what it ran."""
    slow = {f"tests/test_slow_{i}.py": "import time\nfrom stats.core import mean\n\n\ndef test_slow():\n"
                                       "    time.sleep(3)\n    assert mean([2, 4]) == 3\n" for i in range(6)}
    repo = make_repo(repo_files() | UNRELATED | slow, name="stats")
    endpoint([turn(GOOD)])
    result = run_cli("--set", "tests.related_seconds=5", "--set", "tests.confirm_seconds=0", "-C", str(repo), "fix",
                     "mean() gives the wrong answer", "--no-reproduce", "--candidates", "1")
    assert result.code == 0, result.err
    err = " ".join(result.err.split())
    # test_core.py (the closest) runs first; the next run (two slow files, 6 s) is killed at the time left
    assert ("related tests: 6 test file(s) left out, the least closely related, as the baseline did not finish them "
            "within tests.related_seconds (5 s): tests/test_slow_0.py, tests/test_slow_1.py, tests/test_slow_2.py, "
            "tests/test_slow_3.py, tests/test_slow_4.py and 1 more" in err)
    # the unchanged mean() fails test_mean; the candidate runs the same file
    assert "baseline: 2 of 3 tests pass in the 1 newly selected test file(s) or test(s)" in err
    assert "ran 3 tests of 1 selected test file(s) or test(s), related to stats/core.py" in err
    assert "return sum(xs) / len(xs)" in (repo / "stats/core.py").read_text()
