"""Prepare: check the repo, freeze a base copy (HEAD + uncommitted work), run the baseline tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from r1agent.events import Phase
from r1agent.tools.git import export_snapshot, head_commit, open_repo

from ..prompting import tail
from ..state import FixState
from .common import AgentRuntime, emitter, failing, outcome


def prepare(state: FixState, runtime: AgentRuntime) -> dict:
    svc, emit = runtime.context, emitter(runtime)
    emit(Phase("prepare", "snapshot of HEAD plus your uncommitted changes"))
    repo = open_repo(Path(state.repo))
    base = svc.run_dir / "base"
    if not base.exists():
        partial = svc.run_dir / "base.partial"
        shutil.rmtree(partial, ignore_errors=True)
        export_snapshot(Path(state.repo), partial)
        partial.rename(base)
    emit(Phase("sandbox", "preparing the sandbox image"))
    svc.sandbox.ensure_image()
    emit(Phase("baseline", "running the test suite on the unchanged code"))
    with svc.sandbox.create(f"{state.run_id}-baseline") as sb:
        baseline = outcome(sb.run_tests(None))
        targeted = sb.run_tests(state.target_tests) if state.target_tests else None
    svc.record("baseline", baseline.model_dump())
    update: dict = {"base_dir": str(base), "head_commit": head_commit(repo), "baseline": baseline}
    if state.user_gave_tests and not state.issue.strip():
        bad = failing(targeted.tests) if targeted else []
        update["issue"] = (
            f"These tests fail and must pass: {', '.join(bad or state.target_tests)}\n\n"
            f"Their output:\n```\n{tail(targeted.output_tail if targeted else '', 4000)}\n```"
        )
    if not state.target_tests and not state.reproduce:
        update["target_tests"] = failing(baseline.tests)
    return update
