"""Reflect: no candidate is verified, so the concrete failures go back to R1, appended to the
conversation (never rewriting earlier turns, never including reasoning)."""

from __future__ import annotations

from r1agent.events import Phase
from r1agent.messages import ChatMessage

from ..judges import refusal_feedback
from ..prompting import render, tail
from ..state import Candidate, FixState
from .common import AgentRuntime, emitter


def feedback_for(cand: Candidate, others: list[Candidate]) -> str:
    report = cand.report
    return render(
        "feedback.j2",
        verdict=cand.status,
        edit_feedback=cand.edit_feedback.strip() if cand.status == "malformed" else "",
        refused=refusal_feedback(cand.refused) if cand.refused and cand.status != "malformed" else "",
        failing=cand.still_failing,
        regressed=cand.pass_to_fail,
        output_tail=tail(report.output_tail) if report and cand.status != "malformed" else "",
        others="; ".join(f"#{o.index} {o.status}" for o in others),
    )


def reflect(state: FixState, runtime: AgentRuntime) -> dict:
    this_round = [c for c in state.candidates if c.round == state.round]
    ranked = sorted(this_round, key=lambda c: (c.status == "malformed", len(c.pass_to_fail), len(c.still_failing), c.index))
    best = ranked[0]
    emitter(runtime)(Phase("reflect", f"feeding back the failures of candidate {best.key}"))
    turns = [ChatMessage(role="assistant", content=best.answer),
             ChatMessage(role="user", content=feedback_for(best, ranked[1:]))]
    carry = best.applied_text if best.status == "malformed" else ""
    return {"conversation": state.conversation + turns, "carry": carry}
