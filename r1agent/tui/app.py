"""`r1agent tui`: the agent's graph runs in a worker thread; its events reach the screen in
per-frame batches; the person drives everything from the keyboard."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message as TextualMessage
from textual.widgets import Footer, Input, Static

from r1agent.agent.records import list_runs
from r1agent.agent.state import FixState
from r1agent.diffs import diffstat
from r1agent.errors import InputError, R1AgentError
from r1agent.events import (
    CandidateVerdict,
    EditsParsed,
    Event,
    EventSink,
    Message,
    ModelCallDone,
    Phase,
    Progress,
    SandboxStarted,
    TestProgress,
)

from .approval import ApprovalScreen, Decision, Question
from .candidates import CandidateTable
from .commands import Command, CommandSuggester, help_text, parse_command, tracked_files
from .diffview import DiffScreen
from .pager import PagerScreen
from .pump import EventPump, TextBurst, coalesce
from .runs import RunsScreen
from .session import AgentSession, Outcome
from .transcript import Transcript

FRAME_S = 1 / 30  # at most this many screen updates per second from the event stream
_ROUND = re.compile(r"round (\d+)")
KEYS_HELP = ("Keys: Esc cancel the run · ctrl+t thinking · ctrl+o diff · ctrl+l test log · "
             "ctrl+r runs · Tab move focus · ctrl+q quit")


class EventsReady(TextualMessage):
    """The worker pushed events into an empty pump."""


class R1App(App):
    """One repository, one session; fix runs, follow-ups and resumes one at a time."""

    CSS_PATH = "app.tcss"
    TITLE = "r1agent"
    BINDINGS = [
        Binding("escape", "cancel_run", "Cancel run"),
        Binding("ctrl+t", "toggle_thinking", "Thinking"),
        Binding("ctrl+o", "open_diff", "Diff"),
        Binding("ctrl+l", "open_log", "Test log"),
        Binding("ctrl+r", "open_runs", "Runs"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, session: AgentSession, *, clock: Callable[[], float] = time.monotonic,
                 batching: bool = True, initial_issue: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.initial_issue = initial_issue
        self.session = session
        self.clock = clock
        self.batching = batching
        self.pump = EventPump(lambda: self.post_message(EventsReady()))
        self.busy = False
        self.round = 0
        self.pinned_tests: list[str] = []
        self.pinned_files: list[str] = []
        self.last_state: FixState | None = None
        self._last_drain = 0.0
        self._drain_due = False
        self._status = "idle"
        self.applied_bursts = 0  # screen updates made from text bursts (the benchmark reads it)

    _SESSION_ACTIONS = frozenset({"cancel_run", "toggle_thinking", "open_diff", "open_log", "open_runs"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Session keys belong to the main screen; Esc is shown only while a run goes."""
        if action in self._SESSION_ACTIONS and len(self.screen_stack) > 1:
            return False
        if action == "cancel_run" and not self.busy:
            return None
        return True

    @property
    def repo(self) -> Path:
        return self.session.repo

    # ---- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield Transcript(id="transcript")
        yield CandidateTable(id="candidates")
        yield Input(placeholder="Describe an issue, or /help", id="prompt", compact=True,
                    suggester=CommandSuggester(lambda: tracked_files(self.repo), self._run_ids))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(CandidateTable).display = False
        self.set_status("idle")
        self.query_one(Transcript).say(
            f"r1agent in {self.repo.name}. Describe an issue to fix, or type /help. {KEYS_HELP}", "note")
        self.set_interval(1.0, self._tick)
        self.query_one("#prompt", Input).focus()
        if self.initial_issue:
            self.run_command(Command("fix", self.initial_issue))

    def set_status(self, text: str) -> None:
        self._status = text
        pins = []
        if self.pinned_tests:
            pins.append(f"tests: {len(self.pinned_tests)}")
        if self.pinned_files:
            pins.append(f"files: {len(self.pinned_files)}")
        run = f" · run {self.session.run_id}" if self.session.run_id else ""
        line = Text.assemble(("r1agent ", "bold"), f"{self.repo.name}{run} · ", (text, "bold"),
                             (" · " + ", ".join(pins)) if pins else "")
        self.query_one("#status", Static).update(line)

    def _run_ids(self) -> list[str]:
        return [m.run_id for m in sorted(list_runs(self.session.settings.state_dir), key=lambda m: -m.created)]

    # ---- events from the worker ------------------------------------------------------------
    def sink(self) -> EventSink:
        """Where the worker sends events: the batching pump, or (for the benchmark's baseline)
        one blocking UI update per event."""
        if self.batching:
            return self.pump
        return lambda event: self.call_from_thread(self.apply_events, coalesce([(event, time.perf_counter())]))

    def feed(self, events: list[Event]) -> None:
        """Push recorded events as if a run had emitted them (snapshots, the benchmark)."""
        for event in events:
            self.pump(event)

    async def on_events_ready(self, _message: EventsReady) -> None:
        if self._drain_due:
            return
        wait = self._last_drain + FRAME_S - time.perf_counter()
        if wait > 0:
            self._drain_due = True
            self.set_timer(wait, self._drain)
        else:
            await self._drain()

    async def _drain(self) -> None:
        self._drain_due = False
        self._last_drain = time.perf_counter()
        await self.apply_events(self.pump.drain())

    def _widgets(self) -> tuple[Transcript, CandidateTable] | None:
        """The transcript and the candidate table; None once the app is closing and they are gone,
        where a last tick of the clock, or the worker's last events, can still land."""
        try:
            return self.query_one(Transcript), self.query_one(CandidateTable)
        except NoMatches:
            return None

    async def apply_events(self, items: list[Event | TextBurst]) -> None:
        if (widgets := self._widgets()) is None:
            return
        transcript, table = widgets
        for item in items:
            if isinstance(item, TextBurst):
                self.applied_bursts += 1
                if item.kind == "reasoning":
                    panel = transcript.thinking or await transcript.begin_call(self.clock(), "")
                    panel.add(item.text, item.pieces, item.index)
                elif item.index == 0:
                    if transcript.thinking is not None:
                        transcript.thinking.finish(self.clock())
                    await transcript.answer(item.text)
                # other choices' answers are read in their diffs
            elif isinstance(item, Phase):
                transcript.say(Text.assemble(("● ", "bold cyan"), (item.name, "bold"), f" {item.detail}"), "phase")
                if item.name == "thinking":
                    if m := _ROUND.search(item.detail):
                        self.round = int(m.group(1))
                    await transcript.begin_call(self.clock(), item.detail)
                self.set_status(item.name)
            elif isinstance(item, ModelCallDone):
                if transcript.thinking is not None:
                    transcript.thinking.finish(self.clock(), item.reasoning_tokens)
                await transcript.end_call()
                transcript.say(f"R1: {item.reasoning_tokens:,} reasoning + {item.completion_tokens:,} completion "
                               f"tokens in {item.duration_s:.1f}s", "dim")
            elif isinstance(item, Progress):
                total = f"/{item.total}" if item.total else ""
                self.set_status(f"{item.task} {item.done}{total} {item.detail}".strip())
            elif isinstance(item, EditsParsed | SandboxStarted | TestProgress | CandidateVerdict):
                table.display = True
                table.apply(self.round, item)
                if isinstance(item, CandidateVerdict):
                    transcript.say(f"candidate r{self.round}c{item.candidate}: {item.status} {item.summary}".rstrip(),
                                   "verdict " + item.status)
            elif isinstance(item, Message):
                transcript.say(item.text, {"warning": "warning", "error": "error"}.get(item.level, "note"))

    def _tick(self) -> None:
        if (widgets := self._widgets()) is None:
            return
        panel = widgets[0].thinking
        if panel is not None and not panel.done:
            panel.tick(self.clock())

    # ---- driving the agent -------------------------------------------------------------------
    def begin(self, what: str, step: Callable[[EventSink], Outcome]) -> None:
        """Run one blocking step of the agent in the worker, unless one is running."""
        if self.busy:
            self.query_one(Transcript).say("a run is going; press Esc to cancel it first", "warning")
            return
        self.busy = True
        self.refresh_bindings()
        self.set_status(what)
        self._drive(step)

    @work(thread=True, exclusive=True, group="agent", exit_on_error=False)
    def _drive(self, step: Callable[[EventSink], Outcome]) -> None:
        outcome = step(self.sink())
        self.call_from_thread(self.settle, outcome)

    async def settle(self, outcome: Outcome) -> None:
        """Show how the step ended: after every event it emitted has been drawn."""
        await self._drain()
        if (widgets := self._widgets()) is None:
            return  # the app closed while the step ran
        transcript = widgets[0]
        if transcript.thinking is not None and not transcript.thinking.done:
            transcript.thinking.finish(self.clock())
        await transcript.end_call()
        self.busy = False
        self.refresh_bindings()
        if outcome.cancelled:
            transcript.say("run cancelled; its sandboxes were removed. /resume "
                           f"{self.session.run_id} continues it later.", "warning")
            self.set_status("cancelled")
        elif outcome.error:
            transcript.say(f"error: {outcome.error}", "error")
            self.set_status("error")
        elif outcome.question is not None:
            if outcome.state is not None:
                self.query_one(CandidateTable).settle(outcome.state.candidates)
            self.set_status("waiting for your approval")
            self.ask_approval(outcome.question)
        elif outcome.state is not None:
            self.show_final(outcome.state)

    def ask_approval(self, question: Question) -> None:
        def decided(decision: Decision | None) -> None:
            decision = decision or Decision(False)
            where = f"branch {decision.branch}" if decision.mode == "branch" else "the working tree"
            self.query_one(Transcript).say(
                f"you {'approved' if decision.approve else 'rejected'} {question.candidate}"
                + (f" → {where}" if decision.approve else ""), "user")
            self.begin("handing off", lambda sink: self.session.answer(decision, sink))

        default_branch = f"r1agent/{question.run_id[-6:] or 'fix'}"
        self.push_screen(ApprovalScreen(question, default_branch), decided)

    def show_final(self, state: FixState) -> None:
        self.last_state = state
        table = self.query_one(CandidateTable)
        if state.candidates:
            table.display = True
            table.settle(state.candidates)
        transcript = self.query_one(Transcript)
        ok = bool(state.winner)
        transcript.say(Text.assemble(("✔ verified fix" if ok else "✘ no verified fix", "bold green" if ok else "bold red"),
                                     f"  {state.result}"), "result")
        best = state.best()
        if best and best.fail_to_pass:
            transcript.say("red → green: " + ", ".join(best.fail_to_pass), "note")
        if best:
            for path, (added, removed) in diffstat(best.patch).items():
                transcript.say(Text.assemble(f"  {path} ", (f"+{added}", "green"), " ", (f"-{removed}", "red")), "note")
        u = state.usage
        transcript.say(f"{state.round} round(s), {len(state.candidates)} candidate(s), {u.total:,} tokens "
                       f"({u.reasoning:,} reasoning). Type a follow-up to continue this run.", "dim")
        self.set_status("verified" if ok else "no verified fix")

    # ---- the prompt ----------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "prompt":
            return
        line = event.value
        event.input.value = ""
        if not line.strip():
            return
        transcript = self.query_one(Transcript)
        try:
            self.run_command(parse_command(line))
        except R1AgentError as e:
            transcript.say(f"error: {e}", "error")

    def run_command(self, cmd: Command) -> None:
        transcript = self.query_one(Transcript)
        if cmd.name in ("", "fix"):
            follow = cmd.name == "" and self.last_state is not None and self.session.run is not None
            transcript.say(("follow-up: " if follow else "") + cmd.arg, "user")
            if follow:
                self.begin("following up", lambda sink: self.session.follow_up(cmd.arg, sink))
            else:
                self.start_fix(cmd.arg)
        elif cmd.name == "test":
            self.pinned_tests.append(cmd.arg)
            transcript.say(f"pinned test {cmd.arg}: the next fix must make it pass", "note")
        elif cmd.name == "add":
            if cmd.arg not in tracked_files(self.repo):
                raise InputError(f"{cmd.arg} is not a file in {self.repo.name}")
            self.pinned_files.append(cmd.arg)
            transcript.say(f"pinned {cmd.arg}: the next fix puts it in R1's context", "note")
        elif cmd.name == "map":
            transcript.say("building the repository map…", "note")
            self._show_map()
        elif cmd.name == "runs":
            self.action_open_runs()
        elif cmd.name == "resume":
            self.resume(cmd.arg)
        elif cmd.name == "undo":
            self.undo()
        elif cmd.name == "model":
            self.model(cmd.arg)
        elif cmd.name == "help":
            self.push_screen(PagerScreen("Commands", help_text() + "\n\n" + KEYS_HELP))
        self.set_status(self._status)

    def start_fix(self, issue: str) -> None:
        if not issue.strip():
            raise InputError("describe the issue to fix")
        text = issue
        tests = list(self.pinned_tests)
        self.last_state = None
        self.round = 0
        table = self.query_one(CandidateTable)
        table.reset()
        table.display = False
        self.begin("starting", lambda sink: self.session.start(text, tests, sink, pinned=list(self.pinned_files)))

    def resume(self, run_id: str) -> None:
        self.query_one(Transcript).say(f"resuming run {run_id}", "user")
        self.last_state = None
        self.query_one(CandidateTable).reset()
        self.begin("resuming", lambda sink: self.session.resume(run_id, sink))

    def undo(self) -> None:
        from r1agent.tools.git import open_repo, undo_last

        record = undo_last(open_repo(self.repo), self.session.settings.state_dir)
        where = f"branch {record.branch} deleted" if record.mode == "branch" else "the working tree restored"
        self.query_one(Transcript).say(f"undone: {where}", "note")

    def model(self, name: str) -> None:
        settings = self.session.settings
        if name:
            endpoint = settings.endpoint.model_copy(update={"model": name})
            self.session.settings = settings.model_copy(update={"endpoint": endpoint})
        e = self.session.settings.endpoint
        self.query_one(Transcript).say(f"model {e.model} at {e.base_url}", "note")

    @work(thread=True, group="map", exit_on_error=False)
    def _show_map(self) -> None:
        from r1agent.tools.repomap import build_repo_map

        try:
            rmap = build_repo_map(self.repo, self.session.settings)
        except R1AgentError as e:
            self.call_from_thread(self.query_one(Transcript).say, f"error: {e}", "error")
            return
        title = f"Repository map · {len(rmap.files)} files · ~{rmap.tokens:,} tokens"
        self.call_from_thread(self.push_screen, PagerScreen(title, rmap.text))

    # ---- key actions -------------------------------------------------------------------------
    def action_cancel_run(self) -> None:
        if not self.busy:
            return
        self.session.cancel()
        self.query_one(Transcript).say("cancelling…", "warning")
        self.set_status("cancelling")

    def action_toggle_thinking(self) -> None:
        panel = self.query_one(Transcript).thinking
        if panel is not None:
            panel.collapsed = not panel.collapsed

    def action_open_diff(self) -> None:
        row = self.query_one(CandidateTable).selected()
        if row is None:
            self.notify("no candidate yet", severity="warning")
            return
        self.push_screen(DiffScreen(f"Candidate {row.key} · {row.status} · {', '.join(row.files)}", row.patch))

    def action_open_log(self) -> None:
        row = self.query_one(CandidateTable).selected()
        if row is None:
            self.notify("no candidate yet", severity="warning")
            return
        self.push_screen(PagerScreen(f"Test output of {row.key} · {row.status}", row.output or "(no test output)"))

    def action_open_runs(self) -> None:
        def chosen(run_id: str | None) -> None:
            if run_id:
                self.resume(run_id)

        self.push_screen(RunsScreen(list_runs(self.session.settings.state_dir)), chosen)

    async def action_quit(self) -> None:
        if self.busy:
            self.session.cancel()
        self.exit()

    def on_unmount(self) -> None:
        self.session.cancel()
