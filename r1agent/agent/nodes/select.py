"""Select: a verified candidate wins; ties go to the patch most candidates agree on, then
to the smallest diff."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from r1agent.diffs import changed_lines
from r1agent.events import Message, Phase
from r1agent.sandbox import PatchError, TestReport, grade
from r1agent.sandbox.trial import Stage, run_trial

from .. import suite_pace
from ..state import Candidate, FixState
from .common import AgentRuntime, emitter, same_as


def pick(candidates: list[Candidate], no_targets: bool = False) -> Candidate | None:
    """The winner: a verified candidate; when no test shows the issue (none given, none reproduced), a
    plausible one, which breaks no test that passed before (tests failing already are not demanded)."""
    accepted = ("verified", "plausible") if no_targets else ("verified",)
    verified = [c for c in candidates if c.status in accepted]
    if not verified:
        return None
    votes = Counter(changed_lines(c.patch) for c in candidates if c.patch and c.status in ("verified", "plausible"))
    return min(verified, key=lambda c: (-votes[changed_lines(c.patch)], len(changed_lines(c.patch)), c.round, c.index))


def exhausted_budget(state: FixState, budget) -> str:
    """Name the budget that ends the run, or '' when another round is allowed."""
    if state.round - state.rounds_start >= budget.rounds:
        return f"rounds ({budget.rounds})"
    if state.usage.total >= budget.tokens:
        return f"tokens ({state.usage.total:,} of {budget.tokens:,})"
    if time.time() - state.started_at >= budget.wall_seconds:
        return f"wall time ({budget.wall_seconds:.0f}s)"
    return ""


def _full_run(svc, name: str, patches: list[str], timeout: float) -> TestReport:
    """The whole suite with ``patches`` applied; graded by the caller once both runs are done, so neither
    holds a sandbox while it waits for the other."""
    with svc.sandbox.create(name) as sb:
        trial = run_trial(sb, patches, [Stage("full", None, timeout=timeout)])
    if trial.patch_error:
        raise PatchError(trial.patch_error)
    return trial.last.report


# A suite is started only when its estimate is within this share of tests.confirm_seconds: the suite and
# its baseline share the machine, and the tests a change relates to may still run faster than the rest.
CONFIRM_SHARE = 0.5
MEASURED_SHARE = 0.8  # ... and one measured before, on another commit, within this share


def full_suite_estimate(state: FixState, winner: Candidate, suite_defs: int | None = None) -> float | None:
    """Seconds the full suite would take at the pace of the candidate's own runs, per test function the
    files define, so a suite far over the budget is not started only to be killed at it; None when
    nothing ran to judge by. Per test file would be biased low: sympy's 18 printing test files (213
    tests) ran in seconds, its other 476 hold thousands more."""
    base = Path(state.base_dir)
    ran = {t.split("::", 1)[0] for t in (winner.report.tests if winner.report else {})}
    ran_defs = suite_pace.count_test_defs(base, ran)
    if not ran_defs or winner.test_seconds <= 0:
        return None
    return winner.test_seconds * (suite_pace.count_test_defs(base) if suite_defs is None else suite_defs) / ran_defs


def confirm(state: FixState, runtime: AgentRuntime, winner: Candidate) -> tuple[Candidate, TestReport | None]:
    """The full suite, once, for the candidate about to be handed off (tests.scope=related), against the
    full suite on the unchanged code, both in parallel; a regression there demotes the candidate. A suite
    longer than tests.confirm_seconds is skipped, and said so; so is one that took too long before."""
    svc, emit = runtime.context, emitter(runtime)
    budget, cache = svc.settings.tests.confirm_seconds, svc.settings.cache_dir
    repro = [state.repro_patch] if state.repro_patch else []
    defs, key = suite_pace.count_test_defs(Path(state.base_dir)), suite_pace.repo_key(Path(state.repo))
    before = suite_pace.recorded(cache, key) if defs else None
    why = ""  # a full run measured before is better evidence than the related run's pace
    if before and (took := before.seconds_per_test * defs) > MEASURED_SHARE * budget:
        why = f"on an earlier run this repo's full suite took {'about' if before.finished else 'over'} {took:.0f} s"
    elif not before and (guess := full_suite_estimate(state, winner, defs)) and guess > CONFIRM_SHARE * budget:
        why = f"at its related run's pace it takes about {guess:.0f} s"
    if why:
        emit(Message(f"full suite skipped: {why}, too close to tests.confirm_seconds ({budget:g} s) to finish; "
                     f"candidate {winner.key} stands on its target and related tests", level="warning"))
        return winner, None
    emit(Phase("confirm", f"running the full suite for candidate {winner.key} (at most {budget:g} s)"))
    with ThreadPoolExecutor(2, thread_name_prefix="confirm") as pool:
        base = None if state.full_baseline else pool.submit(_full_run, svc, f"{state.run_id}-full-baseline", repro, budget)
        report = pool.submit(_full_run, svc, f"{state.run_id}-full-{winner.key}", [*repro, winner.patch], budget).result()
        full_baseline = base.result() if base else state.full_baseline
    g = grade(full_baseline, report)
    killed = report.timed_out or full_baseline.timed_out
    suite_pace.record(cache, key, max(report.duration_s, full_baseline.duration_s if base else 0.0), defs,
                      finished=not killed)
    if killed:
        emit(Message(f"full suite skipped: it does not finish within tests.confirm_seconds ({budget:g} s); "
                     f"candidate {winner.key} stands on its target and related tests", level="warning"))
        return winner, None
    winner = winner.model_copy()
    winner.test_seconds += report.duration_s
    if g.pass_to_fail:
        winner.status, winner.pass_to_fail, winner.report = "regressed", g.pass_to_fail, report
        emit(Message(f"candidate {winner.key} breaks {len(g.pass_to_fail)} test(s) of the full suite: "
                     f"{', '.join(g.pass_to_fail[:5])}", level="warning"))
    else:
        emit(Message(f"full suite confirms candidate {winner.key}: {len(report.tests)} tests, no regression"))
    return winner, full_baseline


def select(state: FixState, runtime: AgentRuntime) -> dict:
    settings = runtime.context.settings
    candidates = list(state.candidates)
    update: dict = {}
    while True:
        winner = pick([c for c in candidates if c.round > state.rounds_start], no_targets=not state.target_tests)
        if winner is None:
            return update | {"stop_reason": exhausted_budget(state, settings.budget)}
        if settings.tests.scope == "related" and settings.tests.confirm_seconds > 0 and not winner.confirmed:
            checked, full_baseline = confirm(state.model_copy(update=update), runtime, winner)
            checked.confirmed = True
            candidates = [checked if c.key == winner.key else same_as(c, checked) if c.patch == winner.patch else c
                          for c in candidates]
            update |= {"candidates": candidates} | ({"full_baseline": full_baseline} if full_baseline else {})
            if checked.status == "regressed":
                continue
        break
    how = "is verified by the tests" if winner.status == "verified" else \
        "breaks no test (no test shows the issue, so none could show it fixed)"
    emitter(runtime)(Phase("selected", f"candidate {winner.key} {how}"))
    return update | {"winner": winner.key, "stop_reason": "verified"}
