"""Helpers every node uses: a thread-safe event emitter and the runtime type."""

from __future__ import annotations

import contextvars
import threading

from langgraph.runtime import Runtime

from r1agent.events import Event, EventSink

from ..services import Services
from ..state import Candidate

AgentRuntime = Runtime[Services]


def emitter(runtime: AgentRuntime) -> EventSink:
    """The graph's custom stream writer, made safe to call from sandbox worker threads: the
    writer reads LangGraph's config from context variables, so it runs in a copy of ours."""
    lock = threading.Lock()
    write = runtime.stream_writer
    context = contextvars.copy_context()

    def emit(event: Event) -> None:
        with lock:
            context.run(write, event)

    return emit


def failing(tests: dict[str, str]) -> list[str]:
    return sorted(t for t, s in tests.items() if s in ("failed", "error"))


def ask_model(runtime: AgentRuntime, state, messages: list, n: int, purpose: str):
    """One R1 request; returns the completion and the state's updated token usage."""
    from r1agent.events import Phase
    from r1agent.tools.tokens import estimate_tokens

    from ..prompting import fit_messages, prompt_budget

    svc, emit = runtime.context, emitter(runtime)
    messages = fit_messages(messages, prompt_budget(svc.settings), estimate_tokens)
    emit(Phase("thinking", f"R1 is thinking ({purpose}, {n} candidate{'s' if n > 1 else ''})"))
    completion = svc.model.complete(messages, n=n, on_event=emit, cancel=svc.cancel)
    u = completion.usage
    svc.record("model_call", {
        "purpose": purpose, "round": state.round, "messages": [m.model_dump() for m in messages],
        "choices": [{"reasoning": c.reasoning, "answer": c.answer, "finish_reason": c.finish_reason}
                    for c in completion.choices],
        "usage": u.__dict__,
    })
    return completion, state.usage.add(u.prompt_tokens, u.completion_tokens, u.reasoning_tokens)


def same_as(cand: Candidate, twin: Candidate) -> Candidate:
    """A candidate whose patch was already tested takes that run's verdict: R1's samples often agree,
    and a suite that takes minutes need not run twice for the same patch."""
    shared = ("status", "fail_to_pass", "pass_to_fail", "still_failing", "report", "confirmed", "edit_feedback")
    return cand.model_copy(update={name: getattr(twin, name) for name in shared} | {"test_seconds": 0.0})
