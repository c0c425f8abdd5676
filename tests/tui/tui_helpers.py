"""Helpers for the TUI tests: a hand-moved clock, typing, waiting, and reading the screen."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from rich.console import Console

from r1agent.tui.app import R1App


class FakeClock:
    """A clock the test moves by hand, so elapsed times on screen are the same every run."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 480.0) -> None:
    """Let the app run until ``condition()`` holds (a real sandbox run takes seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; the screen shows:\n{screen_text(pilot.app)}")
        await pilot.pause(0.1)


async def type_line(pilot, text: str) -> None:
    """Type ``text`` into the prompt and press Enter, as a person would."""
    prompt = pilot.app.query_one("#prompt")
    prompt.focus()
    prompt.value = ""
    await pilot.press(*text)
    await pilot.press("enter")
    await pilot.pause()


def transcript_text(app: R1App) -> str:
    """Everything the transcript has said, whether or not it is scrolled into view."""
    from textual.widgets import Static

    return "\n".join(str(w.render()) for w in app.query(".line").results(Static))


def screen_text(app: R1App) -> str:
    """The screen as plain text, as a person would read it."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True,
                      force_terminal=True, color_system="truecolor")
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
