"""What every sandbox offers, whatever runs it: exec, files, patches, diffs and test runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import PurePosixPath

from r1agent.errors import SandboxError
from r1agent.sandbox.baseline import GIT_IDENTITY
from r1agent.sandbox.errors import PatchError
from r1agent.sandbox.execution import ExecResult
from r1agent.sandbox.report import TestReport
from r1agent.sandbox.runners import Runner
from r1agent.sandbox.testrun import collect_suite, run_test_suite
from r1agent.settings import Settings

PATCH_FILE = ".git/r1agent.patch"
_GIT = "git " + " ".join(GIT_IDENTITY)


def work_path(path: str) -> str:
    """``path`` relative to the work dir, refusing anything that would leave it."""
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise SandboxError(f"{path!r}: expected a path inside the work dir, like src/app.py")
    return str(p)


class Sandbox(ABC):
    """One candidate's private copy of the repo; removed when its ``with`` block ends."""

    python = "python"
    settings: Settings
    name: str

    @abstractmethod
    def exec(self, cmd: str | list[str], timeout: float | None = None) -> ExecResult:
        """Run ``cmd`` (a string goes to bash) in the work dir; the process tree dies at ``timeout``."""

    @abstractmethod
    def write_file(self, path: str, content: str) -> None: ...

    @abstractmethod
    def read_file(self, path: str) -> str: ...

    def read_file_if_exists(self, path: str) -> str | None:
        try:
            return self.read_file(path)
        except SandboxError:
            return None

    def apply_patch(self, patch: str) -> None:
        """Apply a unified diff with ``git apply``; all or nothing, PatchError with git's words on a reject."""
        if not patch.strip():
            raise PatchError("the patch is empty")
        self.write_file(PATCH_FILE, patch if patch.endswith("\n") else patch + "\n")
        result = self.exec(f"git apply --whitespace=nowarn -v {PATCH_FILE}", timeout=120)
        if not result.ok:
            report = (result.stderr or result.stdout).strip()
            first = next((ln for ln in report.splitlines() if ln.startswith("error:")), report.splitlines()[0] if report else "")
            raise PatchError(f"patch does not apply: {first}", rejects=report)

    def diff(self) -> str:
        """Every change in the work dir since the snapshot, new files included, as a git patch."""
        result = self.exec(f"{_GIT} add -A && {_GIT} diff --cached --binary HEAD", timeout=120)
        if not result.ok:
            raise SandboxError(f"git diff in the sandbox failed: {result.stderr.strip()[:300]}")
        return result.stdout

    def run_tests(self, selection: list[str] | None = None, timeout: float | None = None,
                  runner: Runner | None = None) -> TestReport:
        """Run the tests (with the repo's runner, or tests.command when set) and report each test's status."""
        return run_test_suite(self, self.settings.tests.command, selection, timeout or self.settings.tests.timeout,
                              runner)

    def collect_tests(self, timeout: float | None = None) -> TestReport | None:
        """The suite's tests, listed but not run (see ``collect_suite``)."""
        return collect_suite(self, self.settings.tests.command, timeout or self.settings.tests.timeout)

    @staticmethod
    def _shell(cmd: str | list[str]) -> list[str]:
        return ["bash", "-c", cmd] if isinstance(cmd, str) else list(cmd)
