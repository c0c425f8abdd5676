"""Running a repo's tests in a sandbox and turning the run into a per-test report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from r1agent.sandbox.report import TestReport
from r1agent.sandbox.runners import JUNIT_FILE, Runner, configured, detect

if TYPE_CHECKING:
    from r1agent.sandbox.sandbox import Sandbox

TAIL_CHARS = 4000


def runner_for(sb: Sandbox, command: str | None) -> Runner:
    """``tests.command`` when set, else the runner the repo's files point to."""
    return configured(command) if command else detect(sb.read_file_if_exists)


def run_test_suite(sb: Sandbox, configured_command: str | None, selection: list[str] | None,
                   timeout: float, runner: Runner | None = None) -> TestReport:
    """Run the tests (all, or ``selection``: test ids or files) with ``runner``, by default the repo's,
    and report each test's status. A configured command whose output names no test is reported as one
    test, named by the command, passed or failed."""
    runner = runner or runner_for(sb, configured_command)
    command = runner.command(sb.python, list(selection or []))
    result = sb.exec(f"rm -f {JUNIT_FILE}; {command}", timeout=timeout)
    output = result.stdout + ("\n" + result.stderr if result.stderr.strip() else "")
    junit = sb.read_file_if_exists(JUNIT_FILE) if runner.junit and not result.timed_out else None
    tests = runner.parse(output, junit) if not result.timed_out else {}
    if not tests and configured_command and not runner.junit and not result.timed_out:
        tests = {runner.name: "passed" if result.exit_code == 0 else "failed"}
    return TestReport(
        tests=tests, exit_code=result.exit_code, output_tail=output[-TAIL_CHARS:], duration_s=result.duration_s,
        timed_out=result.timed_out, command=command,
    )


def collect_suite(sb: Sandbox, configured_command: str | None, timeout: float) -> TestReport | None:
    """The suite's tests listed without running them ("collected", or "error" for a file that does not
    import), for a quick check that it can run at all; None when the runner cannot list its tests."""
    from r1agent.sandbox.runners import pytest_collected

    runner = runner_for(sb, configured_command)
    if runner.collect is None:
        return None
    command = runner.collect(sb.python)
    result = sb.exec(command, timeout=timeout)
    output = result.stdout + ("\n" + result.stderr if result.stderr.strip() else "")
    return TestReport(tests={} if result.timed_out else pytest_collected(output), exit_code=result.exit_code,
                      output_tail=output[-TAIL_CHARS:], duration_s=result.duration_s, timed_out=result.timed_out,
                      command=command)
