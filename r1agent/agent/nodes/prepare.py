"""Prepare: check the repo, freeze a base copy (HEAD + uncommitted work), run the baseline tests."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

from r1agent.errors import BaselineError
from r1agent.events import Message, Phase
from r1agent.sandbox.errors import DependencyInstallError
from r1agent.sandbox.report import why_unusable
from r1agent.tools.git import head_commit, open_repo

from ..baseline_runs import NOT_RUNNABLE
from ..prompting import tail
from ..state import FixState
from .common import AgentRuntime, emitter, failing


def freeze_base(sandbox, dest: Path) -> Path:
    """Unpack the sandbox's own snapshot as the base that patches are made against, so the
    files R1's edits are matched to are exactly the files every sandbox starts from."""
    if not dest.exists():
        partial = dest.with_name(dest.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        with tarfile.open(fileobj=io.BytesIO(sandbox.snapshot())) as tar:
            tar.extractall(partial, filter="data")
        partial.rename(dest)
    return dest


def prepare(state: FixState, runtime: AgentRuntime) -> dict:
    svc, emit = runtime.context, emitter(runtime)
    emit(Phase("prepare", "snapshot of HEAD plus your uncommitted changes"))
    repo = open_repo(Path(state.repo))
    base = freeze_base(svc.sandbox, svc.run_dir / "base")
    emit(Phase("sandbox", "preparing the sandbox image"))
    try:
        svc.sandbox.ensure_image()
    except DependencyInstallError as e:  # the run record keeps the installer's own words, not just the line
        svc.record("install_failed", {"error": str(e), "source": e.source, "output_tail": e.output_tail})
        raise
    related = svc.settings.tests.scope == "related"
    if related and not state.target_tests:
        # Candidates run the tests related to what they change, and their baseline is run as they need
        # it; here the suite is only listed, so a suite that cannot run stops the run before R1 is asked.
        emit(Phase("baseline", "listing the test suite"))
        with svc.sandbox.create(f"{state.run_id}-collect") as sb:
            listed = sb.collect_tests()
        broken = why_unusable(listed, svc.settings.tests.timeout) if listed is not None else None
        if broken:
            raise BaselineError(f"{NOT_RUNNABLE}: {broken}")
        return {"base_dir": str(base), "head_commit": head_commit(repo)}
    emit(Phase("baseline", "running the target tests on the unchanged code" if related else
               "running the test suite on the unchanged code"))
    with svc.sandbox.create(f"{state.run_id}-baseline") as sb:
        baseline = sb.run_tests(state.target_tests if related else None)
        svc.record("baseline", baseline.to_dict())
        broken = why_unusable(baseline, svc.settings.tests.timeout, expected=state.target_tests if related else [])
        if broken:
            raise BaselineError(f"{NOT_RUNNABLE}: {broken}")
        targeted = baseline if related else sb.run_tests(state.target_tests) if state.target_tests else None
    bad = failing(baseline.tests)
    emit(Message(f"baseline: {len(baseline.tests) - len(bad)} of {len(baseline.tests)} tests pass"
                 + (f"; failing now: {', '.join(bad[:5])}{' …' if len(bad) > 5 else ''}" if bad else "")))
    update: dict = {"base_dir": str(base), "head_commit": head_commit(repo), "baseline": baseline,
                    "baseline_covered": list(state.target_tests) if related else []}
    if state.user_gave_tests and not state.issue.strip():
        red = failing(targeted.tests) if targeted else []
        update["issue"] = (
            f"These tests fail and must pass: {', '.join(red or state.target_tests)}\n\n"
            f"Their output:\n```\n{tail(targeted.output_tail if targeted else '', 4000)}\n```"
        )
    return update
