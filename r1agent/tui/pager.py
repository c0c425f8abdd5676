"""A full-screen, scrollable text pane: failing test output, the repo map, help."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static


class PagerScreen(Screen):
    """Plain text, wrapped, read-only; escape goes back."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, title: str, text: str):
        super().__init__()
        self.pager_title, self.text = title, text

    def compose(self) -> ComposeResult:
        yield Static(self.pager_title, classes="screen-title")
        yield RichLog(wrap=True, highlight=False, markup=False, auto_scroll=False, id="pager")
        yield Footer()

    def on_mount(self) -> None:
        log = self.query_one(RichLog)
        log.write(self.text.rstrip() or "(empty)")
        log.scroll_home(animate=False)
        log.focus()
