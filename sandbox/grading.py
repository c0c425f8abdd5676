"""Judging a candidate against the baseline with SWE-bench's rules.

A test passes when it is passed or xfail; it fails when it is failed, error, or missing from the run.
Skipped tests count as neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from r1agent.sandbox.report import TestReport

_PASS = ("passed", "xfail")
_FAIL = ("failed", "error")


def _passes(report: TestReport, test: str) -> bool:
    return report.tests.get(test) in _PASS


def _fails(report: TestReport, test: str) -> bool:
    return test not in report.tests or report.tests[test] in _FAIL


@dataclass(frozen=True)
class Grade:
    """``resolved``: every fail-to-pass target passes and nothing that passed before fails now."""

    fail_to_pass: list[str]
    pass_to_pass: list[str]
    pass_to_fail: list[str]
    still_failing: list[str]
    resolved: bool


def grade(baseline: TestReport, candidate: TestReport, fail_to_pass: list[str] | None = None) -> Grade:
    """Compare two runs; the targets are ``fail_to_pass`` if given, else every test failing in the baseline."""
    targets = sorted(fail_to_pass) if fail_to_pass is not None else sorted(t for t in baseline.tests if _fails(baseline, t))
    fixed = [t for t in targets if _passes(candidate, t)]
    still = [t for t in targets if not _passes(candidate, t)]
    before = sorted(t for t in baseline.tests if _passes(baseline, t) and t not in targets)
    kept = [t for t in before if _passes(candidate, t)]
    broken = [t for t in before if _fails(candidate, t)]
    return Grade(fixed, kept, broken, still, resolved=not still and not broken)
