"""Localize: the context engine picks the files; they become the run's stable first prompt."""

from __future__ import annotations

from pathlib import Path

from r1agent.events import Phase
from r1agent.tools.edits import FORMAT_PROMPT

from ..prompting import render
from ..state import FixState, Turn
from .common import AgentRuntime, emitter


def context_prompt(state: FixState, pack) -> str:
    return render(
        "context.j2", repo_map=pack.repo_map, files=pack.files, issue=state.issue.strip(),
        target_tests=state.target_tests if state.user_gave_tests else [],
    )


def localize(state: FixState, runtime: AgentRuntime) -> dict:
    svc, emit = runtime.context, emitter(runtime)
    emit(Phase("localize", "ranking files and symbols for the issue"))
    # The tests that must pass are part of the issue: R1 should read them.
    pinned = list(dict.fromkeys([*state.pinned, *sorted({t.split("::")[0] for t in state.target_tests})]))
    pack = svc.build_context(Path(state.repo), state.issue, svc.settings, pinned=pinned, on_event=emit)
    instructions = render("instructions.j2", edit_format=FORMAT_PROMPT)
    context = context_prompt(state, pack)
    messages = svc.model.build_messages(instructions, context + "\n" + render("propose.j2"))
    files = [f.path for f in pack.files]
    svc.record("context", {"files": files, "repo_map": pack.repo_map})
    emit(Phase("localize", f"{len(files)} files in context: {', '.join(files[:5])}"))
    return {
        "instructions": instructions,
        "context": context,
        "context_files": files,
        "conversation": [Turn(role=m.role, content=m.content) for m in messages],
    }
