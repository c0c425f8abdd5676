"""Reproduce: with no failing test given, ask R1 for one, and keep it only if it fails on the
unchanged code (as Agentless does). Its prompt shares the run's context prefix."""

from __future__ import annotations

from pathlib import Path

from r1agent.events import Message, Phase
from r1agent.tools.edits import apply_answer

from ..prompting import render
from ..state import FixState
from .common import AgentRuntime, ask_model, emitter, failing

REPRO_NAME = "test_r1agent_reproduction.py"


def repro_path(base_dir: Path) -> str:
    return f"tests/{REPRO_NAME}" if (base_dir / "tests").is_dir() else REPRO_NAME


def reproduce(state: FixState, runtime: AgentRuntime) -> dict:
    svc, emit = runtime.context, emitter(runtime)
    fallback: dict = {}  # no reproduction: candidates are judged by breaking nothing (tests failing already are not demanded)
    if state.target_tests or not state.reproduce:
        return {}
    base = Path(state.base_dir)
    path = repro_path(base)
    emit(Phase("reproduce", f"asking R1 for a reproduction test ({path})"))
    messages = svc.model.build_messages(state.instructions, state.context + "\n" + render("reproduce.j2", path=path))
    completion, usage = ask_model(runtime, state, messages, 1, "reproduction test")
    edits = apply_answer(completion.choices[0].answer, base)
    if not edits.ok or list(edits.files) != [path]:
        emit(Message(f"no usable reproduction test ({edits.feedback.splitlines()[0] if edits.feedback else 'wrong file'}); "
                     "judging by the failing tests instead", "warning"))
        return {**fallback, "usage": usage}
    with svc.sandbox.create(f"{state.run_id}-repro") as sb:
        sb.apply_patch(edits.patch)
        report = sb.run_tests([path])
    failed = [t for t in failing(report.tests) if t.startswith(path)]
    svc.record("reproduction", {"patch": edits.patch, "tests": report.tests})
    if not failed:
        emit(Message("the reproduction test passes on the unchanged code, so it proves nothing; not used", "warning"))
        return {**fallback, "usage": usage}
    emit(Message(f"reproduction test fails on the unchanged code as it should: {', '.join(failed)}"))
    return {"repro_patch": edits.patch, "repro_test": path, "target_tests": failed, "usage": usage}
