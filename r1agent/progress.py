"""The console view of a running agent: phases, R1's thinking with a token count, candidate
verdicts, then a summary. It only renders events; it decides nothing."""

from __future__ import annotations

import time

from rich.console import Console
from rich.status import Status

from r1agent.events import (
    AnswerDelta,
    CandidateVerdict,
    EditsParsed,
    Event,
    Message,
    ModelCallDone,
    Phase,
    Progress,
    ReasoningDelta,
    TestProgress,
)

_STYLE = {"verified": "green", "plausible": "yellow", "failed": "red", "regressed": "red", "malformed": "magenta"}


class ConsoleView:
    """Renders events on stderr, so stdout stays clean for --json and patches."""

    def __init__(self, console: Console | None = None, quiet: bool = False):
        self.console = console or Console(stderr=True, highlight=False)
        self.quiet = quiet
        self.status: Status | None = None
        self.tokens = 0
        self.think_started = 0.0
        self._last_update = 0.0

    def __call__(self, event: Event) -> None:
        if self.quiet:
            return
        if isinstance(event, ReasoningDelta | AnswerDelta):
            self._thinking(event)
            return
        self._stop_status()
        c = self.console
        if isinstance(event, Phase):
            c.print(f"[bold cyan]●[/] [bold]{event.name}[/] {event.detail}")
        elif isinstance(event, Progress):
            total = f"/{event.total}" if event.total else ""
            c.print(f"  [dim]{event.task}: {event.done}{total} {event.detail}[/]")
        elif isinstance(event, ModelCallDone):
            ttft = f", first token after {event.ttft_s:.1f}s" if event.ttft_s is not None else ""
            c.print(f"  [dim]R1: {event.reasoning_tokens:,} reasoning + {event.completion_tokens:,} completion tokens "
                    f"in {event.duration_s:.1f}s{ttft}[/]")
            self.tokens = 0
        elif isinstance(event, EditsParsed) and not event.ok:
            c.print(f"  candidate {event.candidate}: [magenta]edits refused[/] {event.feedback.splitlines()[0] if event.feedback else ''}")
        elif isinstance(event, TestProgress) and event.done:
            c.print(f"  candidate {event.candidate}: {event.stage} tests [green]{event.passed} passed[/], "
                    f"[red]{event.failed} failed[/]")
        elif isinstance(event, CandidateVerdict):
            style = _STYLE.get(event.status, "white")
            extra = f" ({', '.join(event.fail_to_pass)} red→green)" if event.fail_to_pass else ""
            c.print(f"  candidate {event.candidate}: [{style}]{event.status}[/]{extra} {event.summary}")
        elif isinstance(event, Message):
            style = {"warning": "yellow", "error": "red"}.get(event.level, "dim")
            c.print(f"  [{style}]{event.text}[/]")

    def _thinking(self, event: ReasoningDelta | AnswerDelta) -> None:
        now = time.monotonic()
        if self.status is None:
            self.think_started, self.tokens = now, 0
            self.status = self.console.status("R1 is thinking…")
            self.status.start()
        self.tokens += max(1, len(event.text) // 4)
        if now - self._last_update > 0.1:
            kind = "thinking" if isinstance(event, ReasoningDelta) else "writing the answer"
            self.status.update(f"R1 is {kind}: ~{self.tokens:,} tokens, {now - self.think_started:.0f}s")
            self._last_update = now

    def _stop_status(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    def close(self) -> None:
        self._stop_status()


def print_summary(console: Console, summary: dict, record_dir: str) -> None:
    """The closing view: outcome, red→green tests, diff stat, tokens, time, record location."""
    ok = summary["verified"]
    console.print(("[bold green]✔ verified fix[/]" if ok else "[bold red]✘ no verified fix[/]") + f"  {summary['result']}")
    if summary["fail_to_pass"]:
        console.print("  red → green: " + ", ".join(summary["fail_to_pass"]))
    if summary["pass_to_fail"]:
        console.print("  [red]broke:[/] " + ", ".join(summary["pass_to_fail"]))
    for path, (added, removed) in summary["diffstat"].items():
        console.print(f"  {path} [green]+{added}[/] [red]-{removed}[/]")
    u = summary["usage"]
    console.print(f"  {summary['rounds']} round(s), {len(summary['candidates'])} candidate(s), "
                  f"{u['total']:,} tokens ({u['reasoning']:,} reasoning), {summary['duration_s']:.0f}s")
    if summary["stop_reason"] and not ok:
        console.print(f"  stopped by budget: {summary['stop_reason']}")
    console.print(f"  run record: {record_dir}  (r1agent runs show {summary['run_id']})")

