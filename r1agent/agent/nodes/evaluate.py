"""Apply and test: every candidate of the round in its own sandbox, in parallel; targeted
tests first, the full suite only for candidates that pass them."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from r1agent.events import CandidateVerdict, EditsParsed, Message, Phase, SandboxStarted
from r1agent.sandbox import TestReport
from r1agent.sandbox.grading import matching
from r1agent.sandbox.trial import NOTHING_BEFORE, Stage, Trial, run_trial
from r1agent.tools.edits import apply_answer

from ..baseline_runs import BaselineRuns, index_graph
from ..judges import refusal_feedback, without_judges
from ..state import Candidate, FixState
from .common import AgentRuntime, emitter, same_as

_COMMIT_LINE = re.compile(r"^\s*\**commit\**\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


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
    """Runs in a worker thread; ``emit`` must come from the node's own thread. The target tests first;
    then, with ``baseline_runs`` (tests.scope=related), the tests related to its changes, graded against
    the baseline of the same selection; else the full suite against the full baseline. A baseline still
    to be run is run between the two, in no candidate's sandbox: a candidate never holds a sandbox while
    it waits for another (batch bounds how many run at once)."""
    svc = runtime.context
    cand = cand.model_copy()
    targets = state.target_tests
    patches = [state.repro_patch, cand.patch] if state.repro_patch else [cand.patch]

    def trial_of(*stages: Stage, second: bool = False) -> Trial:
        with svc.sandbox.create(f"{state.run_id}-{cand.key}" + ("-related" if second else "")) as sb:
            if not second:
                emit(SandboxStarted(cand.index, getattr(sb, "name", cand.key)))
            return run_trial(sb, patches, stages, emit, cand.index)

    selection = baseline_runs.selection(cand.files) if baseline_runs else []
    targeted = [Stage("targeted", targets, targets=targets)] if targets else []
    if baseline_runs is None:
        trial = trial_of(*targeted, Stage("full", None, state.baseline or NOTHING_BEFORE, targets))
    else:
        trial = trial_of(*targeted) if targeted else Trial()
        if trial.passed:
            cand.test_seconds += trial.test_seconds
            known = baseline_runs.ensure(selection) if selection else baseline_runs.ensure_full()
            selection = baseline_runs.kept(selection)
            # graded on its selection: a test of it missing from the candidate's run fails
            base = {t: s for item in selection for t, s in matching(item, known).items()} if selection else known
            trial = trial_of(Stage("related" if selection else "full", selection or None, TestReport(base, 1), targets),
                             second=bool(targeted))
    if trial.patch_error:
        cand.status, cand.edit_feedback = "malformed", f"The patch did not apply: {trial.patch_error}"
        emit(CandidateVerdict(cand.index, cand.status, summary=trial.patch_error))
        return cand
    last = trial.last
    cand.test_seconds += trial.test_seconds
    cand.report, g = last.report, last.grade
    if last.stage.name == "targeted" and not last.passed:
        cand.status, cand.still_failing = "failed", g.still_failing or list(targets)
        emit(CandidateVerdict(cand.index, "failed", summary=f"targeted tests fail: {', '.join(cand.still_failing)}"))
        return cand
    if selection:
        emit(Message(f"candidate {cand.key}: ran {len(last.report.tests)} tests of {len(selection)} selected test "
                     f"file(s) or test(s), related to {', '.join(cand.files)}; "
                     f"{max(0, len(baseline_runs.all_test_files) - len(selection))} other test file(s) not run"))
    cand.pass_to_fail, cand.still_failing, cand.fail_to_pass = g.pass_to_fail, g.still_failing, g.fail_to_pass
    if cand.pass_to_fail:
        cand.status = "regressed"
    elif cand.still_failing:
        cand.status = "failed"
    else:
        cand.status = "verified" if targets else "plausible"
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
        update |= {"baseline": TestReport(tests=runs.tests, exit_code=1), "baseline_covered": sorted(runs.covered),
                   "baseline_dropped": sorted(runs.dropped)}
    return update
