"""A test run's result: the status of every test, counts, and the end of the output."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

STATUSES = ("passed", "failed", "error", "skipped", "xfail", "xpass")


@dataclass(frozen=True)
class TestReport:
    """``tests`` maps node id to one of STATUSES; ``summary`` counts them (plus ``total``)."""

    __test__ = False  # not a pytest test class

    tests: dict[str, str]
    exit_code: int
    output_tail: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    command: str = ""
    summary: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.summary:
            counts = Counter(self.tests.values())
            object.__setattr__(self, "summary", {s: counts.get(s, 0) for s in STATUSES} | {"total": len(self.tests)})

    @property
    def all_passed(self) -> bool:
        bad = self.summary.get("failed", 0) + self.summary.get("error", 0)
        return not self.timed_out and self.exit_code == 0 and bad == 0 and bool(self.tests)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


_RAISED = re.compile(r"^E\s+((?:\w+\.)*\w*(?:Error|Exception)\b.*)$", re.M)  # pytest's own E lines first
_EXCEPTION = re.compile(r"^((?:\w+\.)*\w*(?:Error|Exception)\b.*)$", re.M)
_INTERNAL = re.compile(r"^INTERNALERROR> (.+)$", re.M)
PYTEST_INTERNAL_ERROR, PYTEST_NO_TESTS, KILLED = 3, 5, 137


def _cause(output: str) -> str:
    found = _RAISED.findall(output) or _EXCEPTION.findall(output)
    if found:
        return found[0].strip()[:200]
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


def why_unusable(report: TestReport, timeout: float | None = None, expected: list[str] = ()) -> str | None:
    """Why a baseline run says nothing about the code (and so is a setup error), or None when it can
    judge candidates: the suite timed out or was killed, pytest crashed, or no test ran at all, or every
    test errored (the package or its dependencies fail to import). Tests in ``expected`` (the targets,
    which may not even import before the fix) are left out of the last two checks."""
    if report.timed_out:
        return f"the test suite timed out{f' after {timeout:g} s' if timeout else ''} (tests.timeout)"
    if report.exit_code == KILLED:
        return "the test suite was killed, most likely at the memory limit (sandbox.memory)"
    internal = _INTERNAL.findall(report.output_tail)
    # The lines alone count only when no test was reported: a suite that tests a pytest plugin (or pytest
    # itself: pytest-7220) prints an inner session's INTERNALERROR lines in a failing test's output.
    if report.exit_code == PYTEST_INTERNAL_ERROR or (internal and not report.tests):
        return f"pytest stopped with an INTERNALERROR: {(internal[-1] if internal else _cause(report.output_tail))[:200]}"
    others = {t: s for t, s in report.tests.items()
              if not any(t == e or t.startswith((e + "::", e.rstrip("/") + "/")) for e in expected)}
    if expected and not others:
        return None
    if not others:
        return f"no tests were collected: {_cause(report.output_tail)}"
    ran = sum(s in ("passed", "failed", "skipped", "xfail", "xpass", "collected") for s in others.values())
    if ran == 0:
        return f"every test errored, none ran (the code or its dependencies do not import): {_cause(report.output_tail)}"
    return None
