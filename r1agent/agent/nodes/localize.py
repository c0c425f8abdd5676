"""Localize: the context engine picks the code; it becomes the run's stable first prompt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from r1agent.events import EventSink, Phase
from r1agent.settings import Settings
from r1agent.tools.edits import FORMAT_PROMPT
from r1agent.tools.tokens import estimate_tokens

from ..prompting import render
from ..state import FixState
from .common import AgentRuntime, emitter


@dataclass
class FirstPrompt:
    """The first request's parts: what `r1agent context` prints and what the localize node sends."""

    instructions: str
    context: str  # repo map, code, issue, target tests
    request: str  # the context followed by the request to write edits
    pack: object  # r1agent.tools.context.ContextPack

    def parts(self) -> dict[str, int]:
        """Estimated tokens of each part of the prompt."""
        out = {"instructions": estimate_tokens(self.instructions), "map": estimate_tokens(self.pack.repo_map)}
        out |= {f"file {f.path}": f.tokens for f in self.pack.files}
        out["rest"] = estimate_tokens(self.request) - out["map"] - sum(f.tokens for f in self.pack.files)
        return out


def first_prompt(
    repo: Path, issue: str, settings: Settings, *, target_tests: list[str], pinned: list[str], build_context,
    on_event: EventSink,
) -> FirstPrompt:
    """Build the pack within the model's budget (its context, less the completion cap and the feedback
    reserve, less the instructions and the issue), then render the first prompt from it."""
    from r1agent.tools.context import fit_budget

    instructions = render("instructions.j2", edit_format=FORMAT_PROMPT)
    fixed = render("context.j2", repo_map="", files=[], issue=issue.strip(), target_tests=target_tests)
    map_tokens, file_tokens = fit_budget(settings, estimate_tokens(instructions + fixed + render("propose.j2")))
    pack = build_context(repo, issue, settings, map_tokens=map_tokens, file_tokens=file_tokens, pinned=pinned,
                         on_event=on_event)
    context = render("context.j2", repo_map=pack.repo_map, files=pack.files, issue=issue.strip(),
                     target_tests=target_tests)
    return FirstPrompt(instructions, context, context + "\n" + render("propose.j2"), pack)


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
