"""Prove each suggestion harmless in its own sandbox: it applies, files still parse, the relevant tests and
then the full suite show no pass-to-fail against the staged tree, and the linters find nothing new.

The baseline (the staged tree, untouched) runs alongside the candidates; a candidate waits for it only to grade.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from r1agent.errors import BaselineError
from r1agent.events import CandidateVerdict, EventSink, Message, Phase, TestProgress
from r1agent.refactor.lint import (
    Linter,
    copy_for_lint,
    detect_linters,
    findings,
    host_python_for,
    run_on_host,
)
from r1agent.refactor.outcome import VERIFIED
from r1agent.refactor.suggest import Suggestion
from r1agent.sandbox import TestReport, open_backend
from r1agent.sandbox.report import why_unusable
from r1agent.sandbox.trial import Stage, run_trial
from r1agent.settings import Settings
from r1agent.tools.edits import apply_answer
from r1agent.tools.edits.syntax import error_lines

SANDBOX_LINT_DIR = "/work"
_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")


@dataclass
class Verdict:
    """What verification concluded about one suggestion; ``detail`` is one line for the person."""

    suggestion: Suggestion
    status: str  # verified | malformed | syntax | patch | broke_tests | lint | untested | budget
    patch: str = ""
    files: list[str] = field(default_factory=list)
    detail: str = ""
    pass_to_fail: list[str] = field(default_factory=list)
    new_findings: list[str] = field(default_factory=list)
    tests_run: int = 0


@dataclass
class Baseline:
    report: TestReport
    lint: dict[str, Counter[str]]  # linter name -> findings on the staged files


@dataclass
class _Candidate:
    index: int
    suggestion: Suggestion
    patch: str
    files: dict[str, str]


class Deadline:
    """The run's time budget; ``left()`` is what a command may still use."""

    def __init__(self, seconds: float | None):
        self.end = time.monotonic() + seconds if seconds else None
        self.hit = False

    def left(self) -> float | None:
        return None if self.end is None else self.end - time.monotonic()

    def expired(self) -> bool:
        if self.end is not None and time.monotonic() >= self.end:
            self.hit = True
        return self.hit

    def cap(self, timeout: float) -> float:
        left = self.left()
        return timeout if left is None else max(1.0, min(timeout, left))


def relevant_tests(root: Path, touched: list[str]) -> list[str]:
    """Test files that are touched, or that name a touched module: run first, so a break shows early."""
    stems = {PurePosixPath(p).stem for p in touched if p.endswith(".py") and not _TEST_FILE.search(p)}
    stems.discard("__init__")
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(stems))) + r")\b") if stems else None
    picked: list[str] = []
    for path in sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if ".git" not in p.parts):
        if not _TEST_FILE.search(path):
            continue
        if path in touched or (pattern and pattern.search((root / path).read_text(encoding="utf-8", errors="replace"))):
            picked.append(path)
    return picked


def _prepare(index: int, s: Suggestion, root: Path) -> _Candidate | Verdict:
    """Apply the edits on paper: refuse what is malformed or no longer parses before any sandbox starts."""
    result = apply_answer(s.answer_text, root)
    if not result.ok:
        first = next((ln for ln in result.feedback.splitlines() if ln.strip()), "no usable edits")
        return Verdict(s, "malformed", detail=first.strip())
    for path, text in result.files.items():
        before_file = root / path
        before = before_file.read_text(encoding="utf-8") if before_file.is_file() else ""
        after_errors, before_errors = error_lines(path, text), error_lines(path, before)
        if after_errors and len(after_errors) > len(before_errors or []):
            return Verdict(s, "syntax", result.patch, sorted(result.files), f"{path}:{after_errors[0]} no longer parses")
    return _Candidate(index, s, result.patch, dict(result.files))


class Verifier:
    """Runs the checks for one staged tree; one instance per ``r1agent refactor`` run."""

    def __init__(self, settings: Settings, staged_root: Path, deadline: Deadline, on_event: EventSink):
        self.settings, self.root, self.deadline, self.emit = settings, staged_root, deadline, on_event
        self.linters = detect_linters(staged_root)
        self.backend = open_backend(settings, staged_root, on_event)
        self._warned: set[str] = set()

    def verify(self, suggestions: list[Suggestion]) -> list[Verdict]:
        prepared = [_prepare(i, s, self.root) for i, s in enumerate(suggestions, 1)]
        candidates = [c for c in prepared if isinstance(c, _Candidate)]
        if not candidates:
            return [p for p in prepared if isinstance(p, Verdict)]
        self.emit(Phase("preparing", "sandbox image for the staged tree"))
        self.backend.ensure_image()
        touched = sorted({f for c in candidates for f in c.files})
        self.emit(Phase("testing", f"checking {len(candidates)} suggestion(s) in parallel sandboxes"))
        workers = max(1, min(self.settings.sandbox.parallel, len(candidates) + 1))
        with ThreadPoolExecutor(workers, thread_name_prefix="r1agent-refactor") as pool:
            baseline = pool.submit(self._baseline, touched)  # submitted first, so it starts first
            checked = {c.index: pool.submit(self._check, c, baseline) for c in candidates}
        out: list[Verdict] = []
        for i, p in enumerate(prepared, 1):
            out.append(checked[i].result() if i in checked else p)  # type: ignore[arg-type]
        return out

    # --- the staged tree as it is ---------------------------------------------------------------

    def _baseline(self, touched: list[str]) -> Baseline:
        existing = [f for f in touched if (self.root / f).is_file()]
        self.emit(TestProgress(0, "baseline"))
        with self.backend.create("refactor-baseline") as sb:
            report = sb.run_tests(timeout=self.deadline.cap(self.settings.tests.timeout))
            broken = why_unusable(report, self.settings.tests.timeout) if not report.timed_out else None
            if broken:  # a deadline cut is the time budget's doing; anything else is the environment's
                raise BaselineError(f"the tests cannot run on the staged tree, so no suggestion can be checked: {broken}")
            lint = {ln.name: self._lint(sb, ln, existing, self.root) for ln in self.linters}
        self.emit(TestProgress(0, "baseline", report.summary.get("passed", 0), report.summary.get("failed", 0), True))
        return Baseline(report, lint)

    # --- one suggestion -------------------------------------------------------------------------

    def _check(self, c: _Candidate, baseline_future: Future[Baseline]) -> Verdict:
        verdict = self._check_in_sandbox(c, baseline_future)
        self.emit(CandidateVerdict(c.index, verdict.status, pass_to_fail=tuple(verdict.pass_to_fail), summary=verdict.detail))
        return verdict

    def _check_in_sandbox(self, c: _Candidate, baseline_future: Future[Baseline]) -> Verdict:
        s, files = c.suggestion, sorted(c.files)
        verdict = Verdict(s, "budget", c.patch, files, "time budget hit before the checks finished")
        if self.deadline.expired():
            return verdict
        relevant = relevant_tests(self.root, files)

        def staged(_: TestReport) -> TestReport:
            base = baseline_future.result().report
            return TestReport({t: st for t, st in base.tests.items() if t.split("::")[0] in relevant}, base.exit_code)

        timeout = lambda: self.deadline.cap(self.settings.tests.timeout)  # noqa: E731 - the budget's time left
        stages = [Stage("targeted", relevant, staged, timeout=timeout)] if relevant else []
        stages.append(Stage("full", None, lambda _: baseline_future.result().report, timeout=timeout))
        with self.backend.create(f"refactor-{s.id}") as sb:
            trial = run_trial(sb, [c.patch], stages, self.emit, c.index, stop=self.deadline.expired)
            if trial.patch_error:
                return Verdict(s, "patch", c.patch, files, trial.patch_error)
            if trial.last and not trial.last.passed:
                return self._failed_tests(verdict, trial.last.report, trial.last.grade.pass_to_fail)
            if trial.stopped:
                return verdict
            base, g = baseline_future.result(), trial.last.grade
            if base.report.timed_out and not g.pass_to_pass:
                if not self.deadline.expired():
                    verdict.status, verdict.detail = "untested", "the staged tree's own test run timed out"
                return verdict
            if not g.pass_to_pass:
                return Verdict(s, "untested", c.patch, files, "no test passed on the staged tree, so nothing proves it harmless")
            new = self._new_findings(sb, c, base)
            if new:
                return Verdict(s, "lint", c.patch, files, f"new linter finding: {new[0]}", new_findings=new)
        return Verdict(s, VERIFIED, c.patch, files, f"{len(g.pass_to_pass)} tests still pass",
                       tests_run=len(trial.last.report.tests))

    def _failed_tests(self, verdict: Verdict, report: TestReport, broken: list[str]) -> Verdict:
        if broken:
            verdict.status, verdict.pass_to_fail = "broke_tests", list(broken)
            verdict.detail = f"breaks {len(broken)} test(s): {', '.join(broken[:3])}"
        elif self.deadline.expired():
            verdict.detail = "time budget hit while the tests ran"
        else:
            verdict.status, verdict.detail = "broke_tests", "the tests timed out"
        return verdict

    # --- linters --------------------------------------------------------------------------------

    def _new_findings(self, sb, c: _Candidate, base: Baseline) -> list[str]:
        new: list[str] = []
        for linter in self.linters:
            after = self._lint(sb, linter, sorted(c.files), None, c.files)
            before = base.lint.get(linter.name, Counter())
            new += [f"{linter.name}: {k}" for k in sorted((after - before).elements())]
        return new

    def _lint(self, sb, linter: Linter, files: list[str], host_root: Path | None,
              candidate_files: dict[str, str] | None = None) -> Counter[str]:
        """Lint inside the sandbox when the linter is installed there, else on the host against a temp copy."""
        if not files:
            return Counter()
        probe = sb.exec([sb.python, "-m", linter.module, "--version"], timeout=60)
        if probe.ok:
            result = sb.exec(linter.command(sb.python, files), timeout=self.deadline.cap(300))
            return findings(linter, result.stdout, str(getattr(sb, "work", SANDBOX_LINT_DIR)))
        python = host_python_for(linter)
        if python is None:
            if linter.name in self._warned:
                return Counter()
            self._warned.add(linter.name)
            self.emit(Message(f"{linter.name} is configured but installed neither in the sandbox nor here; "
                              "its check is skipped", level="warning"))
            return Counter()
        if candidate_files is None:
            return run_on_host(linter, python, host_root or self.root, files)
        with tempfile.TemporaryDirectory(prefix="r1agent-lint-") as tmp:
            copy_for_lint(self.root, Path(tmp), candidate_files)
            return run_on_host(linter, python, Path(tmp), files)


def verify_suggestions(settings: Settings, staged_root: Path, suggestions: list[Suggestion],
                       deadline: Deadline, on_event: EventSink) -> list[Verdict]:
    """Every suggestion's verdict, in the order given; SandboxError when no sandbox can be had."""
    return Verifier(settings, staged_root, deadline, on_event).verify(suggestions)
