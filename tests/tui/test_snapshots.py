"""Snapshots of the main screens at 80x24, drawn from a recorded event sequence so they are the
same on every run (no live model, no clock, no temporary paths on screen)."""

from __future__ import annotations

import pytest
import recorded as rec
from textual.widgets import Input
from tui_helpers import FakeClock, screen_text

from r1agent.tui.transcript import Transcript

SIZE = (80, 24)


async def settle(pilot) -> None:
    """Wait until the batched events are drawn and the screen stops changing; stop the cursor
    blinking and show the newest lines, as a person watching would see them."""
    for prompt in pilot.app.query(Input):
        prompt.cursor_blink = False
    before = None
    for _ in range(30):
        await pilot.pause(0.05)
        await pilot.wait_for_scheduled_animations()
        for transcript in pilot.app.query(Transcript):
            transcript.scroll_end(animate=False)
        now = screen_text(pilot.app)
        if now == before:
            return
        before = now


@pytest.fixture
def app(make_app):
    clock = FakeClock()
    app = make_app(clock=clock)
    app.fake_clock = clock
    return app


def feed(app, *steps):
    """Feed (events, seconds) steps: each batch of events, then the clock moves on."""
    async def run(pilot) -> None:
        for events, advance in steps:
            app.feed(events)
            await settle(pilot)
            app.fake_clock.now += advance
            app._tick()
        await settle(pilot)
    return run


RUN_TO_TESTING = (
    (rec.setup_events() + rec.thinking_events(), 12),
    (rec.answer_events() + rec.testing_events(), 5),
)


def test_idle_screen(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_thinking_screen(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=feed(app, (rec.setup_events() + rec.thinking_events(), 7)))


def test_candidates_under_test_screen(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=feed(app, *RUN_TO_TESTING))


def test_finished_screen(snap_compare, app):
    async def run(pilot) -> None:
        await feed(app, *RUN_TO_TESTING, (rec.finish_events(), 0))(pilot)
        app.show_final(rec.final_state())
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_finished_screen_in_light_theme(snap_compare, app):
    app.theme = "textual-light"

    async def run(pilot) -> None:
        await feed(app, *RUN_TO_TESTING, (rec.finish_events(), 0))(pilot)
        app.show_final(rec.final_state())
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def _diff_run(app, *keys: str):
    async def run(pilot) -> None:
        app.feed(rec.testing_events() + rec.finish_events())
        await settle(pilot)
        app.show_final(rec.final_state())
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
    return run


def test_diff_view_unified(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_diff_run(app, "ctrl+o"))


def test_diff_view_side_by_side(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_diff_run(app, "ctrl+o", "s"))


def test_approval_dialog(snap_compare, app):
    from r1agent.tui.approval import Question

    async def run(pilot) -> None:
        app.ask_approval(Question("20260101-000000-abcdef", "r1c0", rec.PATCH, ("ranges/merge.py",)))
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)
