"""Drive one fix run through the graph: checkpointing, event streaming, the approval pause,
and resuming a killed run. The CLI and the TUI both go through this."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from r1agent.diffs import diffstat
from r1agent.errors import InputError
from r1agent.events import AnswerDelta, Event, ReasoningDelta
from r1agent.messages import ChatMessage
from r1agent.sandbox.report import TestReport
from r1agent.settings import Settings

from .graph import build_graph
from .prompting import render
from .records import RunLog, RunMeta, new_run_id, read_meta, runs_dir, write_meta
from .services import Services
from .state import Candidate, FixState, HandoffRequest, TokenUsage

_STATE_TYPES = [FixState, Candidate, HandoffRequest, TokenUsage, ChatMessage, TestReport]
Decide = Callable[[dict], Any]


@dataclass
class FixRequest:
    """What the person asked for."""

    repo: Path
    issue: str = ""
    tests: list[str] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)  # files that must be in R1's context
    handoff: HandoffRequest = field(default_factory=HandoffRequest)
    reproduce: bool = True


def open_checkpointer(state_dir: Path) -> SqliteSaver:
    state_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(state_dir / "checkpoints.sqlite", check_same_thread=False)
    serde = JsonPlusSerializer(allowed_msgpack_modules=[(t.__module__, t.__name__) for t in _STATE_TYPES])
    return SqliteSaver(conn, serde=serde)


ServicesFactory = Callable[[Settings, Path, Path, RunLog], Services]


def default_services(settings: Settings, repo: Path, run_dir: Path, log: RunLog) -> Services:
    """The real services: the R1 client, the sandbox backend, the context engine."""
    from r1agent.llm import R1Client
    from r1agent.sandbox import open_backend
    from r1agent.tools.context import build_context_pack

    sandbox = open_backend(settings, repo)
    sandbox.snapshot_file = run_dir / "snapshot.tar"  # a resumed run tests the files the run began with
    return Services(
        settings=settings, model=R1Client(settings.endpoint), sandbox=sandbox,
        build_context=build_context_pack, run_dir=run_dir, record=log,
    )


class FixRun:
    """One run, new or resumed. ``decide`` answers the approval pause; without it the run
    stops there and ``pending`` holds the question until ``answer()`` is called."""

    def __init__(self, settings: Settings, run_id: str, services: Services, log: RunLog, meta: RunMeta):
        self.settings, self.run_id, self.services, self.log, self.meta = settings, run_id, services, log, meta
        self.saver = open_checkpointer(settings.state_dir)
        self.graph = build_graph().compile(checkpointer=self.saver)
        self.config = {"configurable": {"thread_id": run_id}, "recursion_limit": 200}
        self.pending: dict | None = None
        self._input: FixState | None = None  # the new run's first state; None when resuming

    @classmethod
    def create(cls, settings: Settings, request: FixRequest, factory: ServicesFactory = default_services) -> FixRun:
        run_id = new_run_id()
        run_dir = runs_dir(settings.state_dir) / run_id
        log = RunLog(run_dir)
        meta = RunMeta(run_id=run_id, repo=str(request.repo), issue=request.issue, created=time.time())
        write_meta(run_dir, meta)
        run = cls(settings, run_id, factory(settings, request.repo, run_dir, log), log, meta)
        run._input = FixState(
            run_id=run_id, repo=str(request.repo), issue=request.issue, target_tests=list(request.tests),
            user_gave_tests=bool(request.tests), pinned=list(request.pinned), reproduce=request.reproduce,
            handoff=request.handoff, started_at=time.time(),
        )
        log("request", {"issue": request.issue, "tests": request.tests, "handoff": request.handoff.model_dump()})
        return run

    @classmethod
    def reopen(cls, settings: Settings, run_id: str, factory: ServicesFactory = default_services) -> FixRun:
        meta = read_meta(settings.state_dir, run_id)
        run_dir = runs_dir(settings.state_dir) / run_id
        log = RunLog(run_dir)
        run = cls(settings, run_id, factory(settings, Path(meta.repo), run_dir, log), log, meta)
        snapshot = run.graph.get_state(run.config)
        if not snapshot.values:
            raise InputError(f"run {run_id} has no checkpoint to resume")
        interrupts = [i.value for t in snapshot.tasks for i in t.interrupts]
        run.pending = interrupts[0] if interrupts else None
        log("resume", {"next": list(snapshot.next)})
        return run

    def state(self) -> FixState | None:
        values = self.graph.get_state(self.config).values
        return FixState.model_validate(values) if values else None

    def run(self, sink: Callable[[Event], None], decide: Decide | None = None) -> FixState | None:
        """Stream the graph to completion (or to an unanswered approval pause)."""
        payload: Any = self._input
        if self.pending is not None:
            if decide is None:
                return None
            payload, self.pending = Command(resume=decide(self.pending)), None
        while True:
            for mode, chunk in self.graph.stream(payload, self.config, context=self.services,
                                                 stream_mode=["custom", "updates"]):
                if mode == "custom":
                    sink(chunk)
                    if not isinstance(chunk, ReasoningDelta | AnswerDelta):
                        self.log.event(chunk)
                elif "__interrupt__" in chunk:
                    self.pending = chunk["__interrupt__"][0].value
            if self.pending is None:
                break
            if decide is None:
                return None
            payload, self.pending = Command(resume=decide(self.pending)), None
        final = self.state()
        self._finish(final)
        return final

    def follow_up(self, text: str) -> None:
        """Continue this thread with a follow-up instruction: the conversation grows, the base
        becomes the working tree as it is now, and the loop re-enters at propose."""
        from .nodes.prepare import freeze_base

        state = self.state()
        if state is None or state.exit_code is None:
            raise InputError("the run is still going; wait for it to finish before a follow-up")
        self.services.sandbox.refresh_snapshot()  # the hand-off changed the working tree
        base = freeze_base(self.services.sandbox, self.services.run_dir / f"base-{state.round}")
        turns = list(state.conversation)
        if state.winner:
            turns.append(ChatMessage(role="assistant", content=state.best().answer))
        turns.append(ChatMessage(role="user", content=render("follow_up.j2", text=text.strip())))
        self.graph.update_state(self.config, {
            "conversation": turns, "base_dir": str(base), "rounds_start": state.round, "winner": None,
            "stop_reason": "", "decision": None, "exit_code": None, "result": "", "started_at": time.time(),
            "issue": state.issue + "\n\nFollow-up: " + text.strip(),
        }, as_node="reflect")
        self.log("follow_up", {"text": text})
        self._input = None

    def answer(self, sink: Callable[[Event], None], decision: Any) -> FixState | None:
        """Resume from the approval pause with the person's decision."""
        return self.run(sink, decide=lambda _q: decision)

    def _finish(self, final: FixState | None) -> None:
        if final is None or final.exit_code is None:
            return
        self.meta.status = "verified" if final.winner else "unverified"
        self.meta.exit_code, self.meta.result = final.exit_code, final.result
        self.meta.summary = summarize(final)
        write_meta(self.services.run_dir, self.meta)
        self.log("finish", {"summary": self.meta.summary})

    def close(self) -> None:
        self.log.close()
        self.saver.conn.close()


def summarize(state: FixState) -> dict:
    best = state.best()
    return {
        "run_id": state.run_id,
        "exit_code": state.exit_code,
        "verified": bool(state.winner),
        "winner": state.winner,
        "result": state.result,
        "stop_reason": state.stop_reason,
        "rounds": state.round,
        "fail_to_pass": best.fail_to_pass if best else [],
        "pass_to_fail": best.pass_to_fail if best else [],
        "diffstat": diffstat(best.patch) if best else {},
        "candidates": [
            {"key": c.key, "status": c.status, "fail_to_pass": c.fail_to_pass, "pass_to_fail": c.pass_to_fail}
            for c in state.candidates
        ],
        "usage": state.usage.model_dump() | {"total": state.usage.total},
        "duration_s": round(time.time() - state.started_at, 1),
    }
