"""The fix loop as one LangGraph StateGraph: the whole flow, declared in one place.

prepare → localize → reproduce → propose → evaluate → select ─┬→ approve → handoff
                                  ↑                           └→ reflect ┘ (bounded rounds)
Localize runs before reproduce so that both prompts share the same cached prefix.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from .nodes.approve import approve
from .nodes.evaluate import evaluate
from .nodes.handoff import handoff
from .nodes.localize import localize
from .nodes.prepare import prepare
from .nodes.propose import propose
from .nodes.reflect import reflect
from .nodes.reproduce import reproduce
from .nodes.select import select
from .services import Services
from .state import FixState


def after_select(state: FixState) -> str:
    if state.winner:
        return "approve"
    return "handoff" if state.stop_reason else "reflect"


def build_graph() -> StateGraph:
    g = StateGraph(FixState, context_schema=Services)
    for name, node in [
        ("prepare", prepare), ("localize", localize), ("reproduce", reproduce), ("propose", propose),
        ("evaluate", evaluate), ("select", select), ("reflect", reflect), ("approve", approve),
        ("handoff", handoff),
    ]:
        g.add_node(name, node)
    g.add_edge(START, "prepare")
    g.add_edge("prepare", "localize")
    g.add_edge("localize", "reproduce")
    g.add_edge("reproduce", "propose")
    g.add_edge("propose", "evaluate")
    g.add_edge("evaluate", "select")
    g.add_conditional_edges("select", after_select, ["approve", "handoff", "reflect"])
    g.add_edge("reflect", "propose")
    g.add_edge("approve", "handoff")
    g.add_edge("handoff", END)
    return g
