"""Apply and test: every candidate of the round in its own sandbox, in parallel; targeted
tests first, the full suite only for candidates that pass them."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from r1agent.events import CandidateVerdict, EditsParsed, Message, Phase, SandboxStarted, TestProgress
from r1agent.sandbox import PatchError, TestReport, grade
from r1agent.tools.edits import apply_answer

from ..baseline_runs import BaselineRuns, index_graph
from ..judges import refusal_feedback, without_judges
from ..state import Candidate, FixState, TestOutcome
from ..targets import matching, unmet
from .common import AgentRuntime, emitter, failing, outcome, same_as

_COMMIT_LINE = re.compile(r"^\s*\**commit\**\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def _counts(tests: dict[str, str]) -> tuple[int, int]:
    return sum(s == "passed" for s in tests.values()), len(failing(tests))


def prepare_candidate(state: FixState, cand: Candidate, emit) -> Candidate:
    """R1's answer made a patch: edits parsed and applied to the snapshot's copy, judging files left out.
    A candidate that yields no patch comes back "malformed", with the feedback R1 will get."""
    cand = cand.model_copy()
    m = _COMMIT_LINE.search(cand.answer)
    cand.commit_message = m.group(1).strip().strip("`") if m else ""
    answer = f"{state.carry}\n\n{cand.answer}" if state.carry else cand.answer
    edits = apply_answer(answer, Path(state.base_dir))
    emit(EditsParsed(cand.index, edits.ok, tuple(edits.files), edits.feedback))
    if not edits.ok or not edits.patch.strip():
        cand.status, cand.edit_feedback = "malformed", edits.feedback or "No edit blocks were found in the answer."
        cand.applied_text = edits.applied_text
        emit(CandidateVerdict(cand.index, cand.status, summary=cand.edit_feedback.splitlines()[0]))
        return cand
    patch, kept, refused = without_judges(state, Path(state.base_dir), edits.files)
    if refused:
        emit(Message(f"candidate {cand.key}: edits to judging files refused: {'; '.join(refused)}", level="warning"))
        if not patch.strip():
            cand.status, cand.edit_feedback, cand.refused = "malformed", refusal_feedback(refused), refused
            emit(CandidateVerdict(cand.index, cand.status, summary=cand.edit_feedback.split(":")[0]))
            return cand
    cand.patch, cand.files, cand.edit_feedback, cand.refused = patch, kept, edits.feedback, refused
    return cand


def run_candidate(state: FixState, runtime: AgentRuntime, cand: Candidate, emit,
                  baseline_runs: BaselineRuns | None = None) -> Candidate:
    """Runs in a worker thread; ``emit`` must come from the node's own thread. With ``baseline_runs``
    (tests.scope=related) the candidate runs its target tests and the tests related to its changes,
    graded against the baseline of the same selection; else the full suite."""
    svc = runtime.context
    cand = cand.model_copy()
    with svc.sandbox.create(f"{state.run_id}-{cand.key}") as sb:
        emit(SandboxStarted(cand.index, getattr(sb, "name", cand.key)))
        try:
            if state.repro_patch:
                sb.apply_patch(state.repro_patch)
            sb.apply_patch(cand.patch)
        except PatchError as e:
            cand.status, cand.edit_feedback = "malformed", f"The patch did not apply: {e}"
            emit(CandidateVerdict(cand.index, cand.status, summary=str(e)))
            return cand
        if state.target_tests:
            emit(TestProgress(cand.index, "targeted"))
            targeted = sb.run_tests(state.target_tests)
            cand.test_seconds += targeted.duration_s
            emit(TestProgress(cand.index, "targeted", *_counts(targeted.tests), done=True))
            if unmet(state.target_tests, targeted.tests):
                cand.report, cand.status = outcome(targeted), "failed"
                cand.still_failing = unmet(state.target_tests, targeted.tests)
                emit(CandidateVerdict(cand.index, "failed", summary=f"targeted tests fail: {', '.join(cand.still_failing)}"))
                return cand
        selection = baseline_runs.selection(cand.files) if baseline_runs else []
        stage = "related" if selection else "full"
        emit(TestProgress(cand.index, stage))
        full = sb.run_tests(selection or None)
        cand.test_seconds += full.duration_s
        emit(TestProgress(cand.index, stage, *_counts(full.tests), done=True))
    if selection:
        total = len(baseline_runs.all_test_files)
        emit(Message(f"candidate {cand.key}: ran {len(full.tests)} tests of {len(selection)} selected test file(s) "
                     f"or test(s), related to {', '.join(cand.files)}; {max(0, total - len(selection))} other test "
                     f"file(s) not run"))
        known = baseline_runs.ensure(selection)  # graded on its selection; a test missing from its run fails
        base_tests = {t: s for item in selection for t, s in matching(item, known).items()}
    elif baseline_runs:
        base_tests = baseline_runs.ensure_full()
    else:
        base_tests = (state.baseline or TestOutcome()).tests
    g = grade(TestReport(tests=base_tests, exit_code=1), full)
    cand.report = outcome(full)
    cand.pass_to_fail = sorted(g.pass_to_fail)
    cand.still_failing = unmet(state.target_tests, full.tests)
    cand.fail_to_pass = sorted(set(g.fail_to_pass) | {t for t in state.target_tests if t not in cand.still_failing})
    if cand.pass_to_fail:
        cand.status = "regressed"
    elif cand.still_failing:
        cand.status = "failed"
    else:
        cand.status = "verified" if state.target_tests else "plausible"
    emit(CandidateVerdict(cand.index, cand.status, tuple(cand.fail_to_pass), tuple(cand.pass_to_fail)))
    return cand


def evaluate(state: FixState, runtime: AgentRuntime) -> dict:
    svc, emit = runtime.context, emitter(runtime)
    prepared = [prepare_candidate(state, c, emit) for c in state.candidates if c.round == state.round]
    twins: dict[str, Candidate] = {}  # patch -> the first candidate tested with it (exact text: indents matter)
    for c in state.candidates:
        if c.round < state.round and c.patch and c.report is not None:
            twins.setdefault(c.patch, c)
    pending = []
    for c in prepared:
        if c.status != "malformed" and c.patch not in twins:
            twins[c.patch] = c
            pending.append(c)
    emit(Phase("testing", f"testing {len(pending)} candidate(s) in parallel sandboxes"))
    workers = max(1, min(len(pending), svc.settings.sandbox.parallel))
    runs = BaselineRuns(state, svc, emit, index_graph(svc, Path(state.repo))) \
        if svc.settings.tests.scope == "related" and pending else None
    with ThreadPoolExecutor(workers, thread_name_prefix="candidate") as pool:
        ran = {c.key: c for c in pool.map(lambda c: run_candidate(state, runtime, c, emit, runs), pending)}
    checked = []
    for c in prepared:
        if c.key in ran:
            c = ran[c.key]
        elif c.status != "malformed":
            twin = ran.get(twins[c.patch].key, twins[c.patch])
            c = same_as(c, twin)
            emit(Message(f"candidate {c.key}: the same patch as candidate {twin.key}, so its verdict is reused"))
            emit(CandidateVerdict(c.index, c.status, tuple(c.fail_to_pass), tuple(c.pass_to_fail)))
        checked.append(c)
    by_key = {c.key: c for c in checked}
    for c in checked:
        svc.record("candidate", c.model_dump())
    update: dict = {"candidates": [by_key.get(c.key, c) for c in state.candidates]}
    if runs is not None:
        update |= {"baseline": TestOutcome(tests=runs.tests, exit_code=1), "baseline_covered": sorted(runs.covered)}
    return update
