"""Running a repo's tests in a sandbox and turning the run into a per-test report."""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from r1agent.sandbox.junit import parse_junit
from r1agent.sandbox.report import TestReport

if TYPE_CHECKING:
    from r1agent.sandbox.sandbox import Sandbox

JUNIT_FILE = ".git/r1agent-junit.xml"  # inside the work dir, writable everywhere, never part of a diff
TAIL_CHARS = 4000
_XPASS = re.compile(r"^XPASS (\S+)", re.MULTILINE)


def test_command(python: str, configured: str | None, selection: list[str]) -> tuple[str, bool]:
    """The shell command for a run, and whether it writes a JUnit report (pytest does; others may not)."""
    junit = f"--junitxml={JUNIT_FILE} -o junit_family=xunit1"
    picked = " ".join(shlex.quote(s) for s in selection)
    if configured:
        if "pytest" in configured:
            return f"{configured} {junit} {picked}".strip(), True
        return f"{configured} {picked}".strip(), False
    base = f"{shlex.quote(python)} -m pytest -p no:cacheprovider --continue-on-collection-errors -rX -q {junit}"
    return f"{base} {picked}".strip(), True


test_command.__test__ = False  # a helper, not a pytest test


def run_test_suite(sb: Sandbox, configured: str | None, selection: list[str] | None, timeout: float) -> TestReport:
    """Run the tests (all, or ``selection``: node ids or files) and report each test's status."""
    command, has_junit = test_command(sb.python, configured, list(selection or []))
    result = sb.exec(f"rm -f {JUNIT_FILE}; {command}", timeout=timeout)
    output = result.stdout + ("\n" + result.stderr if result.stderr.strip() else "")
    tests: dict[str, str] = {}
    if has_junit and not result.timed_out:
        xml = sb.read_file_if_exists(JUNIT_FILE)
        if xml:
            tests = parse_junit(xml)
    for nid in _XPASS.findall(output):  # JUnit writes a non-strict xpass as a pass
        if nid in tests:
            tests[nid] = "xpass"
    return TestReport(
        tests=tests, exit_code=result.exit_code, output_tail=output[-TAIL_CHARS:], duration_s=result.duration_s,
        timed_out=result.timed_out, command=command,
    )
