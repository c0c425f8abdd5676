"""Slash commands at the keyboard, with completion; and the pieces under them (parsing, the
streaming word-wrapper, the event pump, the diff's side-by-side pairing)."""

from __future__ import annotations

import pytest
from tui_helpers import transcript_text, type_line, wait_for

from r1agent.errors import InputError
from r1agent.events import AnswerDelta, Message, ReasoningDelta
from r1agent.tui.candidates import CandidateTable
from r1agent.tui.commands import Command, parse_command
from r1agent.tui.diffview import parse_patch, side_by_side_rows
from r1agent.tui.pager import PagerScreen
from r1agent.tui.pump import EventPump, TextBurst
from r1agent.tui.runs import RunsScreen
from r1agent.tui.session import Outcome
from r1agent.tui.thinking import WordWrapper
from r1agent.tui.transcript import Transcript

PATCH = """diff --git a/a.py b/a.py
--- a/a.py
+++ b/a.py
@@ -1,3 +1,4 @@
 keep = 1
-old = 2
+new = 2
+added = 3
 tail = 4
"""


def test_parse_command_splits_name_and_argument():
    assert parse_command("/test tests/t.py::test_x") == Command("test", "tests/t.py::test_x")
    assert parse_command("  fix the bug ") == Command("", "fix the bug")
    assert parse_command("/MAP") == Command("map", "")


@pytest.mark.parametrize("line, message", [("/frobnicate", "unknown command /frobnicate"),
                                           ("/resume", "usage: /resume ID"), ("/add  ", "usage: /add FILE")])
def test_bad_commands_are_one_line_errors(line, message):
    with pytest.raises(InputError, match=message):
        parse_command(line)


def test_word_wrapper_breaks_streamed_text_at_word_boundaries():
    wrapper = WordWrapper(12)
    pieces = ["The quick", " brown f", "ox jumps over", " the\nlazy dog", " andaverylongwordindeed"]
    out = "".join(wrapper.feed(p) for p in pieces) + wrapper.flush()
    assert out.splitlines() == ["The quick", "brown fox", "jumps over", "the", "lazy dog", "andaverylong", "wordindeed"]


def test_pump_joins_token_runs_and_keeps_other_events_in_order():
    wakes = []
    pump = EventPump(lambda: wakes.append(1))
    for event in [ReasoningDelta(0, "a"), ReasoningDelta(0, "b"), ReasoningDelta(1, "x"), Message("note"),
                  AnswerDelta(0, "c"), AnswerDelta(0, "d")]:
        pump(event)
    assert len(wakes) == 1  # one wake-up per batch, however many events
    got = pump.drain()
    assert [(g.kind, g.index, g.text, g.pieces) if isinstance(g, TextBurst) else g for g in got] == [
        ("reasoning", 0, "ab", 2), ("reasoning", 1, "x", 1), Message("note"), ("answer", 0, "cd", 2)]
    pump(Message("again"))
    assert len(wakes) == 2 and pump.drain() == [Message("again")]


def test_side_by_side_pairs_changed_lines_and_keeps_line_numbers():
    (diff,) = parse_patch(PATCH)
    assert diff.path == "a.py"
    rows = [((left.old_no, left.text) if left else None, (right.new_no, right.text) if right else None)
            for left, right in side_by_side_rows(diff.hunks[0])]
    assert rows == [((1, "keep = 1"), (1, "keep = 1")), ((2, "old = 2"), (2, "new = 2")),
                    (None, (3, "added = 3")), ((3, "tail = 4"), (4, "tail = 4"))]


@pytest.mark.asyncio
async def test_slash_commands_from_the_keyboard(make_app, ranges_repo):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        prompt = app.query_one("#prompt")
        prompt.focus()
        await pilot.press(*"/re")
        await wait_for(pilot, lambda: prompt._suggestion == "/resume ", timeout=5)
        await pilot.press("right")  # accept the completion
        assert prompt.value == "/resume "
        prompt.value = ""
        await pilot.press(*"/add ranges/me")
        await wait_for(pilot, lambda: prompt._suggestion == "/add ranges/merge.py", timeout=5)
        await pilot.press("right", "enter")
        assert app.pinned_files == ["ranges/merge.py"]

        await type_line(pilot, "/add no/such/file.py")
        await type_line(pilot, "/test tests/test_merge.py::test_touching_ranges_merge")
        assert app.pinned_tests == ["tests/test_merge.py::test_touching_ranges_merge"]
        await type_line(pilot, "/model")
        await type_line(pilot, "/model deepseek-r1-distill")
        assert app.session.settings.endpoint.model == "deepseek-r1-distill"
        await type_line(pilot, "/undo")
        await type_line(pilot, "/nonsense")
        said = transcript_text(app)
        assert "error: no/such/file.py is not a file in ranges" in said
        assert "pinned test tests/test_merge.py::test_touching_ranges_merge" in said
        assert "model auto at http://127.0.0.1:8000/v1" in said
        assert "model deepseek-r1-distill at" in said
        assert "error: nothing to undo" in said
        assert "error: unknown command /nonsense" in said
        assert "Traceback" not in said

        await type_line(pilot, "/map")
        await wait_for(pilot, lambda: isinstance(app.screen, PagerScreen), timeout=120)
        assert "ranges/merge.py" in app.screen.text and "merge_ranges" in app.screen.text
        await pilot.press("escape")
        await type_line(pilot, "/help")
        assert "/resume ID" in app.screen.text
        await pilot.press("escape")
        await type_line(pilot, "/runs")
        assert isinstance(app.screen, RunsScreen) and app.screen.runs == []
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


def test_tui_command_outside_a_git_repo_is_a_setup_error(tmp_path, capsys):
    from r1agent.cli import main

    with pytest.raises(SystemExit) as done:
        main(["-C", str(tmp_path), "tui"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("r1agent: error:") and len(err.strip().splitlines()) == 1


@pytest.mark.asyncio
async def test_a_tick_or_late_events_while_the_app_closes_are_dropped(make_app):
    """The clock's interval, the worker's last events and its end can land after the widgets are gone
    (the app is closing); they must not fail the exit."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.query_one(Transcript).remove()
        await app.query_one(CandidateTable).remove()
        app._tick()
        await app.apply_events([Message("late"), TextBurst("reasoning", 0, "late thought", 1, 0.0)])
        app.busy = True
        await app.settle(Outcome(error="late"))  # a step that ended as the app closed
        await pilot.pause()
        assert not app.query(Transcript) and app.applied_bursts == 0 and app.busy
