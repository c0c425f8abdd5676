"""Judging a candidate against the baseline with SWE-bench's rules.

A test passes when it is passed or xfail; it fails when it is failed, error, or missing from the run.
Skipped tests count as neither. A target may also be a file or a directory: it passes when it has
tests, at least one passes, and none fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from r1agent.sandbox.report import TestReport

_PASS = ("passed", "xfail")
_FAIL = ("failed", "error")


def matching(target: str, tests: dict[str, str]) -> dict[str, str]:
    """The tests a target names: itself, or those inside it (a file's, a directory's, a class's)."""
    prefix = target.rstrip("/")
    return {t: s for t, s in tests.items() if t == prefix or t.startswith(prefix + "::") or t.startswith(prefix + "/")}


def _passes(report: TestReport, test: str) -> bool:
    return report.tests.get(test) in _PASS


def _fails(report: TestReport, test: str) -> bool:
    return test not in report.tests or report.tests[test] in _FAIL


def target_passes(report: TestReport, target: str) -> bool:
    found = matching(target, report.tests).values()
    return any(s in _PASS for s in found) and all(s in _PASS or s == "skipped" for s in found)


@dataclass(frozen=True)
class Grade:
    """``resolved``: every target passes and nothing that passed before fails now. ``fail_to_pass``
    also lists tests failing in the baseline that pass now, though none demanded them."""

    fail_to_pass: list[str]
    pass_to_pass: list[str]
    pass_to_fail: list[str]
    still_failing: list[str]
    resolved: bool


def grade(baseline: TestReport, candidate: TestReport, fail_to_pass: list[str] | None = None) -> Grade:
    """Compare two runs; the targets are ``fail_to_pass`` if given, else every test failing in the baseline."""
    failing_before = {t for t in baseline.tests if _fails(baseline, t)}
    targets = sorted(fail_to_pass) if fail_to_pass is not None else sorted(failing_before)
    still = [t for t in targets if not target_passes(candidate, t)]
    fixed = {t for t in targets if t not in still} | {t for t in failing_before if _passes(candidate, t)}
    target_set = set(targets)
    before = sorted(t for t in baseline.tests if _passes(baseline, t) and t not in target_set)
    kept = [t for t in before if _passes(candidate, t)]
    broken = [t for t in before if _fails(candidate, t)]
    return Grade(sorted(fixed), kept, broken, still, resolved=not still and not broken)
