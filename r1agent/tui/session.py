"""The TUI's hold on the agent: one FixRun at a time, driven from a worker thread. Every call
returns an Outcome; user-caused errors and cancellation become one-line messages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from r1agent.agent.runner import FixRequest, FixRun, ServicesFactory, default_services
from r1agent.agent.state import FixState, HandoffRequest
from r1agent.errors import InputError, R1AgentError
from r1agent.events import EventSink
from r1agent.settings import Settings

from .approval import Decision, Question

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """How one blocking step of the run ended."""

    state: FixState | None = None  # the final state, or the state at the pause
    question: Question | None = None  # the graph paused for approval
    error: str = ""
    cancelled: bool = False


def check_setup(settings: Settings, repo: Path) -> None:
    """Fail fast, before any model time is spent: the endpoint and the sandbox must answer."""
    from r1agent.llm import R1Client
    from r1agent.sandbox import open_backend

    R1Client(settings.endpoint).check()
    open_backend(settings, repo)


class AgentSession:
    """Starts, resumes, answers and continues fix runs for one repository."""

    def __init__(self, settings: Settings, repo: Path, factory: ServicesFactory = default_services,
                 check: Callable[[Settings, Path], None] = check_setup):
        self.settings, self.repo, self.factory, self.check = settings, repo, factory, check
        self.run: FixRun | None = None
        self._cancel_requested = threading.Event()

    @property
    def run_id(self) -> str | None:
        return self.run.run_id if self.run else None

    def start(self, issue: str, tests: list[str], sink: EventSink, pinned: list[str] = ()) -> Outcome:
        def go() -> FixState | None:
            self.check(self.settings, self.repo)
            self._replace(FixRun.create(self.settings, FixRequest(
                repo=self.repo, issue=issue, tests=list(tests), pinned=list(pinned), handoff=HandoffRequest(mode="worktree", approve=True),
            ), factory=self.factory))
            return self.run.run(sink)
        return self._guard(go)

    def resume(self, run_id: str, sink: EventSink) -> Outcome:
        def go() -> FixState | None:
            self._replace(FixRun.reopen(self.settings, run_id, factory=self.factory))
            if self.run.pending is None and (done := self.run.state()) is not None and done.exit_code is not None:
                return done  # it had finished: show it, ready for a follow-up
            return self.run.run(sink)
        return self._guard(go)

    def answer(self, decision: Decision, sink: EventSink) -> Outcome:
        return self._guard(lambda: self._current().answer(sink, decision.as_resume()))

    def follow_up(self, text: str, sink: EventSink) -> Outcome:
        def go() -> FixState | None:
            run = self._current()
            run.follow_up(text)
            return run.run(sink)
        return self._guard(go)

    def cancel(self) -> None:
        """Ask the running step to stop; the model stream ends and sandboxes are removed."""
        self._cancel_requested.set()
        if self.run is not None:
            self.run.services.cancel.set()

    def close(self) -> None:
        if self.run is not None:
            self.run.close()
            self.run = None

    def _current(self) -> FixRun:
        if self.run is None:
            raise InputError("no run in this session yet; describe an issue or /resume ID")
        return self.run

    def _replace(self, run: FixRun) -> None:
        self.close()
        self.run = run

    def _guard(self, step: Callable[[], FixState | None]) -> Outcome:
        self._cancel_requested.clear()
        if self.run is not None:
            self.run.services.cancel.clear()
        try:
            state = step()
        except R1AgentError as e:
            if self._cancel_requested.is_set():
                return Outcome(cancelled=True)
            return Outcome(error=str(e))
        except Exception as e:  # a cancelled stream surfaces as whatever the node was doing
            if self._cancel_requested.is_set():
                return Outcome(cancelled=True)
            log.exception("run step failed")
            return Outcome(error=f"unexpected error ({type(e).__name__}): {e}".splitlines()[0])
        if self._cancel_requested.is_set():
            return Outcome(state=state, cancelled=True)
        if state is None and self.run is not None and self.run.pending is not None:
            return Outcome(state=self.run.state(), question=Question.from_pending(self.run.pending))
        return Outcome(state=state)
