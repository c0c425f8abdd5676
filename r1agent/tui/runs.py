"""Earlier runs of this state dir in a table; Enter resumes the highlighted one."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from r1agent.agent.records import RunMeta

_STATUS_STYLE = {"verified": "green", "unverified": "red", "running": "yellow"}


def first_line(text: str, width: int = 50) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


class RunsScreen(Screen[str | None]):
    """Dismisses with the chosen run id, or None."""

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("enter", "resume", "Resume", priority=True),
    ]

    def __init__(self, runs: list[RunMeta]):
        super().__init__()
        self.runs = sorted(runs, key=lambda m: m.created, reverse=True)

    def compose(self) -> ComposeResult:
        yield Static(f"Runs ({len(self.runs)}) — Enter resumes", classes="screen-title")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="runs")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("run", "status", "started", "issue")
        for m in self.runs:
            table.add_row(m.run_id, Text(m.status, style=_STATUS_STYLE.get(m.status, "")),
                          time.strftime("%m-%d %H:%M", time.localtime(m.created)), first_line(m.issue), key=m.run_id)
        table.focus()

    def action_resume(self) -> None:
        table = self.query_one(DataTable)
        if not self.runs:
            self.dismiss(None)
            return
        self.dismiss(self.runs[table.cursor_row].run_id)

    def action_close(self) -> None:
        self.dismiss(None)
