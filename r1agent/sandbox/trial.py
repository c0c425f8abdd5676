"""The one way a patch is judged: applied in a sandbox, its tests run stage by stage (the cheap ones
first), each stage graded against the unchanged code's results for the same tests. The agent's
candidates and confirmation, refactor's suggestions and batch's SWE-bench grading all go through it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from r1agent.events import EventSink, TestProgress, ignore
from r1agent.sandbox.errors import PatchError
from r1agent.sandbox.grading import Grade, grade
from r1agent.sandbox.report import TestReport
from r1agent.sandbox.runners import Runner

if TYPE_CHECKING:
    from r1agent.sandbox.sandbox import Sandbox

NOTHING_BEFORE = TestReport(tests={}, exit_code=1)


@dataclass(frozen=True)
class Stage:
    """One test run of a trial.

    ``selection``: test ids or files, None for the whole suite. ``baseline``: the unchanged code's
    results to grade against, or a function of this stage's report that gives them (so a baseline of
    exactly the tests that ran can be run, or waited for, only when needed). ``targets``: the tests (or
    files) that must pass, None for every test failing in the baseline. ``rename`` maps the run's test
    ids to the baseline's names before grading (SWE-bench's)."""

    name: str
    selection: list[str] | None = None
    baseline: TestReport | Callable[[TestReport], TestReport] = NOTHING_BEFORE
    targets: Sequence[str] | None = ()
    timeout: float | Callable[[], float] | None = None  # a function when it depends on a budget's time left
    rename: Callable[[TestReport], TestReport] | None = None
    runner: Runner | None = None  # the repo's own (or tests.command) unless given


@dataclass(frozen=True)
class StageResult:
    stage: Stage
    report: TestReport
    grade: Grade

    @property
    def passed(self) -> bool:
        return self.grade.resolved and not self.report.timed_out


@dataclass
class Trial:
    """What happened: ``patch_error`` when a patch did not apply, else each stage that ran.
    The stages stop at the first that does not pass."""

    results: list[StageResult] = field(default_factory=list)
    patch_error: str = ""
    stopped: bool = False  # ``stop`` said so before a stage began

    @property
    def last(self) -> StageResult | None:
        return self.results[-1] if self.results else None

    @property
    def passed(self) -> bool:
        return not self.patch_error and not self.stopped and all(r.passed for r in self.results)

    @property
    def test_seconds(self) -> float:
        return sum(r.report.duration_s for r in self.results)


def run_trial(sb: Sandbox, patches: Sequence[str], stages: Sequence[Stage], emit: EventSink = ignore,
              index: int = 0, stop: Callable[[], bool] = lambda: False) -> Trial:
    """Apply ``patches`` in order in the open sandbox ``sb``, then run ``stages`` until one fails or
    ``stop()`` (a time budget) says no more may start. Progress goes to ``emit`` for candidate ``index``."""
    for patch in patches:
        try:
            sb.apply_patch(patch)
        except PatchError as e:
            return Trial(patch_error=str(e))
    trial = Trial()
    for stage in stages:
        if stop():
            trial.stopped = True
            break
        emit(TestProgress(index, stage.name))
        report = sb.run_tests(stage.selection, timeout=stage.timeout() if callable(stage.timeout) else stage.timeout,
                              runner=stage.runner)
        if stage.rename:
            report = stage.rename(report)
        baseline = stage.baseline(report) if callable(stage.baseline) else stage.baseline
        targets = list(stage.targets) if stage.targets is not None else None
        result = StageResult(stage, report, grade(baseline, report, targets))
        failed = sum(s in ("failed", "error") for s in report.tests.values())
        emit(TestProgress(index, stage.name, report.summary.get("passed", 0), failed, done=True))
        trial.results.append(result)
        if not result.passed:
            break
    return trial
