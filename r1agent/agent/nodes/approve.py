"""Approve: with --approve, pause the graph (LangGraph interrupt) until the person decides."""

from __future__ import annotations

from langgraph.types import interrupt

from ..state import FixState
from .common import AgentRuntime


def approve(state: FixState, runtime: AgentRuntime) -> dict:
    if not state.handoff.approve or not state.winner:
        return {"decision": "approve"}
    best = state.best()
    answer = interrupt({"run_id": state.run_id, "candidate": best.key, "patch": best.patch, "files": best.files})
    if isinstance(answer, dict):
        update = {"decision": "approve" if answer.get("approve") else "reject"}
        if answer.get("mode") in ("worktree", "branch"):
            update["handoff"] = state.handoff.model_copy(update={"mode": answer["mode"], "branch": answer.get("branch")})
        return update
    return {"decision": "approve" if str(answer).lower() in ("y", "yes", "approve", "true") else "reject"}
