"""Propose: one R1 request drawing n candidates from the shared conversation."""

from __future__ import annotations

from ..state import Candidate, FixState
from .common import AgentRuntime, ask_model


def propose(state: FixState, runtime: AgentRuntime) -> dict:
    svc = runtime.context
    n = svc.settings.budget.candidates
    rnd = state.round + 1
    completion, usage = ask_model(runtime, state, state.conversation, n, f"round {rnd}")
    fresh = [
        Candidate(round=rnd, index=i, answer=c.answer, reasoning_tokens=len(c.reasoning.split()))
        for i, c in enumerate(completion.choices)
    ]
    return {"round": rnd, "candidates": state.candidates + fresh, "usage": usage}
