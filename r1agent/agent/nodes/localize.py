"""Localize: the context engine picks the code; it becomes the run's stable first prompt."""

from __future__ import annotations

from pathlib import Path

from r1agent.events import Phase

from ..prompting import first_prompt
from ..state import FixState
from .common import AgentRuntime, emitter


def localize(state: FixState, runtime: AgentRuntime) -> dict:
    svc, emit = runtime.context, emitter(runtime)
    emit(Phase("localize", "ranking files and symbols for the issue"))
    # The tests that must pass are part of the issue: R1 should read them.
    pinned = list(dict.fromkeys([*state.pinned, *sorted({t.split("::")[0] for t in state.target_tests})]))
    prompt = first_prompt(Path(state.repo), state.issue, svc.settings,
                          target_tests=state.target_tests if state.user_gave_tests else [], pinned=pinned,
                          build_context=svc.build_context, on_event=emit)
    messages = svc.model.build_messages(prompt.instructions, prompt.request)
    pack = prompt.pack
    files = [f.path for f in pack.files]
    svc.record("context", {"files": [f.to_dict() for f in pack.files], "repo_map": pack.repo_map,
                           "tokens": prompt.parts()})
    shown = ", ".join(f.path if f.whole else f"{f.path} (excerpts)" for f in pack.files[:5])
    emit(Phase("localize", f"{len(files)} files in context: {shown}"))
    return {
        "instructions": prompt.instructions,
        "context": prompt.context,
        "context_files": files,
        "conversation": messages,
    }
