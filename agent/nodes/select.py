"""Select: a verified candidate wins; ties go to the patch most candidates agree on, then
to the smallest diff."""

from __future__ import annotations

import time
from collections import Counter

from r1agent.events import Phase

from ..state import Candidate, FixState
from .common import AgentRuntime, emitter


def normalised(patch: str) -> tuple[str, ...]:
    """A patch reduced to its changed lines, whitespace-folded, so equal fixes compare equal."""
    lines = []
    for line in patch.splitlines():
        if line.startswith(("+++", "---")):
            lines.append(line.split()[-1] if line.split() else line)
        elif line[:1] in "+-" and line[1:].strip():
            lines.append(line[0] + " ".join(line[1:].split()))
    return tuple(lines)


def pick(candidates: list[Candidate], no_targets: bool = False) -> Candidate | None:
    """The winner: a verified candidate; when no test shows the issue (none given, none reproduced), a
    plausible one, which breaks no test that passed before (tests failing already are not demanded)."""
    accepted = ("verified", "plausible") if no_targets else ("verified",)
    verified = [c for c in candidates if c.status in accepted]
    if not verified:
        return None
    votes = Counter(normalised(c.patch) for c in candidates if c.patch and c.status in ("verified", "plausible"))
    return min(verified, key=lambda c: (-votes[normalised(c.patch)], len(normalised(c.patch)), c.round, c.index))


def exhausted_budget(state: FixState, budget) -> str:
    """Name the budget that ends the run, or '' when another round is allowed."""
    if state.round - state.rounds_start >= budget.rounds:
        return f"rounds ({budget.rounds})"
    if state.usage.total >= budget.tokens:
        return f"tokens ({state.usage.total:,} of {budget.tokens:,})"
    if time.time() - state.started_at >= budget.wall_seconds:
        return f"wall time ({budget.wall_seconds:.0f}s)"
    return ""


def select(state: FixState, runtime: AgentRuntime) -> dict:
    winner = pick([c for c in state.candidates if c.round > state.rounds_start], no_targets=not state.target_tests)
    if winner is None:
        return {"stop_reason": exhausted_budget(state, runtime.context.settings.budget)}
    how = "is verified by the tests" if winner.status == "verified" else \
        "breaks no test (no test shows the issue, so none could show it fixed)"
    emitter(runtime)(Phase("selected", f"candidate {winner.key} {how}"))
    return {"winner": winner.key, "stop_reason": "verified"}
