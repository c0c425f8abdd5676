"""JUnit parsing checked against a real pytest run, and SWE-bench grading rules."""

from __future__ import annotations

import subprocess
import sys

from r1agent.sandbox.grading import grade
from r1agent.sandbox.junit import parse_junit
from r1agent.sandbox.report import TestReport
from r1agent.sandbox.runners import JUNIT_FILE, PYTEST, configured


def test_junit_from_a_real_pytest_run_gives_node_ids_and_statuses(make_repo, sample_files):
    files = dict(sample_files)
    files["tests/test_broken.py"] = "import nonexistent_module\n"
    files["tests/test_fixture_error.py"] = (
        "import pytest\n\n@pytest.fixture\ndef boom():\n    raise RuntimeError('x')\n\n"
        "def test_uses_boom(boom):\n    pass\n"
    )
    repo = make_repo(files)
    (repo / ".git").mkdir(exist_ok=True)
    command, has_junit = PYTEST.command(sys.executable, []), PYTEST.junit
    subprocess.run(command, shell=True, cwd=repo, capture_output=True)
    tests = parse_junit((repo / JUNIT_FILE).read_text())

    assert has_junit
    assert tests == {
        "tests/test_calc.py::test_add": "failed",
        "tests/test_calc.py::test_mul": "passed",
        "tests/test_calc.py::TestMore::test_square[1]": "passed",
        "tests/test_calc.py::TestMore::test_square[2]": "passed",
        "tests/test_calc.py::TestMore::test_skipped": "skipped",
        "tests/test_calc.py::TestMore::test_known_bug": "xfail",
        "tests/test_broken.py": "error",
        "tests/test_fixture_error.py::test_uses_boom": "error",
    }


def test_configured_commands_take_the_selection_at_their_placeholder_or_at_the_end():
    make = configured("make check")
    assert (make.command("python", ["a"]), make.junit) == ("make check a", False)
    placed = configured("tox -e py39 -- {tests} --tb=short")
    assert placed.command("python", ["t.py::x", "u v"]) == "tox -e py39 -- t.py::x 'u v' --tb=short"
    pytest_cmd = configured("python -m pytest -x {tests}")
    assert pytest_cmd.junit and pytest_cmd.command("python", ["a"]).startswith("python -m pytest -x a --junitxml=")


def _report(**tests: str) -> TestReport:
    return TestReport(tests={k.replace("__", "::"): v for k, v in tests.items()}, exit_code=1)


def test_grade_finds_fail_to_pass_and_regressions():
    baseline = _report(t__a="failed", t__b="passed", t__c="passed", t__d="error", t__e="skipped")
    candidate = _report(t__a="passed", t__b="passed", t__c="failed", t__d="error", t__e="passed")
    g = grade(baseline, candidate)
    assert g.fail_to_pass == ["t::a"]
    assert g.pass_to_pass == ["t::b"]
    assert g.pass_to_fail == ["t::c"]
    assert g.still_failing == ["t::d"]
    assert not g.resolved


def test_grade_counts_a_missing_test_as_failed_and_xfail_as_passed():
    baseline = _report(t__a="failed", t__b="passed", t__x="xfail")
    candidate = _report(t__a="xfail", t__x="xfail")
    g = grade(baseline, candidate)
    assert g.fail_to_pass == ["t::a"]
    assert g.pass_to_fail == ["t::b"]
    assert g.pass_to_pass == ["t::x"]


def test_grade_with_explicit_targets_resolves_only_when_all_pass():
    baseline = _report(t__a="failed", t__b="failed", t__c="passed")
    assert grade(baseline, _report(t__a="passed", t__b="failed", t__c="passed"), ["t::a"]).resolved
    assert not grade(baseline, _report(t__a="passed", t__c="passed"), ["t::a", "t::new"]).resolved


def test_report_summary_counts_statuses_and_serialises():
    report = _report(t__a="passed", t__b="failed", t__c="xfail")
    assert report.summary["passed"] == 1 and report.summary["failed"] == 1 and report.summary["total"] == 3
    assert '"t::b": "failed"' in report.to_json()
    assert not report.all_passed


def test_a_file_target_passes_when_its_tests_pass_and_none_fails():
    nothing = _report()
    assert grade(nothing, _report(f__a="passed", f__b="skipped"), ["f"]).resolved
    assert not grade(nothing, _report(f__a="passed", f__b="failed"), ["f"]).resolved
    assert not grade(nothing, _report(f__a="skipped"), ["f"]).resolved  # nothing ran
    assert grade(nothing, _report(g__a="passed"), ["f"]).still_failing == ["f"]  # no test of it ran


def test_explicit_targets_still_credit_baseline_failures_that_now_pass():
    baseline = _report(t__a="failed", t__old="failed", t__c="passed")
    g = grade(baseline, _report(t__a="passed", t__old="passed", t__c="passed"), ["t::a"])
    assert (g.fail_to_pass, g.still_failing, g.resolved) == (["t::a", "t::old"], [], True)
    g = grade(baseline, _report(t__a="passed", t__old="failed", t__c="passed"), ["t::a"])
    assert g.resolved  # a test failing before is not demanded when targets are named
