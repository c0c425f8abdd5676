"""The TUI driving real fix runs: the scripted R1 endpoint over HTTP, the real Docker sandbox,
real git repos. Each test is something a person does at the keyboard."""

from __future__ import annotations

import json
import subprocess

import docker
import pytest
from tui_helpers import transcript_text, type_line, wait_for

from r1agent.demo import DEMO_DIR
from r1agent.sandbox.labels import OWNED, OWNER_PID
from r1agent.scripted import ScriptedEndpoint, ScriptedTurn
from r1agent.tui.approval import ApprovalScreen
from r1agent.tui.diffview import DiffScreen
from r1agent.tui.pager import PagerScreen
from r1agent.tui.runs import RunsScreen

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
TEST = "tests/test_merge.py::test_touching_ranges_merge"
FIX = ScriptedTurn(**{k: v for k, v in json.loads((DEMO_DIR / "script.jsonl").read_text().splitlines()[1]).items()
                      if k in ("reasoning", "answer")})
FOLLOW_UP = ScriptedTurn(
    reasoning="The person wants total_length to say what it returns for no ranges.",
    answer=("ranges/merge.py\n```python\n<<<<<<< SEARCH\n"
            '    """Total length covered by the ranges, counting overlaps once."""\n=======\n'
            '    """Total length covered by the ranges, counting overlaps once; 0 for none."""\n'
            ">>>>>>> REPLACE\n```\n"),
)
LONG_THOUGHT = ScriptedTurn(reasoning="Let me think about the ranges again. " * 400, answer=FIX.answer)


def git(repo, *args) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def endpoint():
    started = []

    def _start(*turns: ScriptedTurn, **kw) -> ScriptedEndpoint:
        ep = ScriptedEndpoint(list(turns), **kw).start()
        started.append(ep)
        return ep

    yield _start
    for ep in started:
        ep.stop()


def flags_for(ep: ScriptedEndpoint) -> dict:
    return {"endpoint.base_url": ep.base_url, "endpoint.model": "auto", "endpoint.profile": "r1",
            "endpoint.max_retries": 1, "budget.candidates": 1, "budget.rounds": 2}


def approval_shown(app) -> bool:
    return isinstance(app.screen, ApprovalScreen)


def idle(app) -> bool:
    return not app.busy and not approval_shown(app)


async def fix_until_approval(pilot, issue: str = "merge_ranges does not merge ranges that touch") -> None:
    await type_line(pilot, f"/test {TEST}")
    await type_line(pilot, issue)
    await wait_for(pilot, lambda: approval_shown(pilot.app))


async def test_fix_with_approval_applies_the_verified_patch_and_undo_reverts_it(make_app, ranges_repo, endpoint):
    ep = endpoint(FIX)
    app = make_app(flags=flags_for(ep))
    async with app.run_test(size=(80, 24)) as pilot:
        await fix_until_approval(pilot)
        assert "start <= merged[-1][1]" in app.screen.question.patch
        assert git(ranges_repo, "status", "--porcelain") == ""  # nothing touched before the approval
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: idle(app) and app.last_state is not None)
        assert app.last_state.winner == "r1c0"
        assert "start <= merged[-1][1]" in (ranges_repo / "ranges/merge.py").read_text()
        said = transcript_text(app)
        assert "verified fix" in said and f"red → green: {TEST}" in said
        assert app.query_one("#candidates").rows_by_key["r1c0"].status == "verified"
        assert "R1 is thinking" in said and app.query_one("#transcript").thinking.tokens > 0

        await pilot.press("ctrl+o")  # the candidate's diff
        assert isinstance(app.screen, DiffScreen) and "start <= merged[-1][1]" in app.screen.patch
        await pilot.press("escape", "ctrl+l")  # its test output
        assert isinstance(app.screen, PagerScreen) and "passed" in app.screen.text
        await pilot.press("escape")

        await type_line(pilot, "/undo")
        assert "undone" in transcript_text(app)
        assert git(ranges_repo, "status", "--porcelain") == ""


async def test_rejecting_the_handoff_changes_nothing(make_app, ranges_repo, endpoint):
    ep = endpoint(FIX)
    app = make_app(flags=flags_for(ep))
    before = (ranges_repo / "ranges/merge.py").read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        await fix_until_approval(pilot)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: idle(app) and app.last_state is not None)
        assert app.last_state.decision == "reject"
        assert "declined; nothing changed" in transcript_text(app)
    assert (ranges_repo / "ranges/merge.py").read_text() == before
    assert git(ranges_repo, "status", "--porcelain") == ""


async def test_follow_up_continues_the_same_run_onto_a_new_branch(make_app, ranges_repo, endpoint):
    ep = endpoint(FIX, FOLLOW_UP)
    app = make_app(flags=flags_for(ep))
    async with app.run_test(size=(80, 24)) as pilot:
        await fix_until_approval(pilot)
        run_id = app.session.run_id
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: idle(app) and app.last_state is not None)
        git(ranges_repo, "commit", "-qam", "touching ranges merge")

        await type_line(pilot, "also say what total_length returns for no ranges")
        await wait_for(pilot, lambda: approval_shown(app))
        await pilot.press("b")  # deliver on a new branch this time
        branch = app.screen.query_one("#approval-branch").value
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: idle(app) and app.last_state is not None)
        assert app.session.run_id == run_id
        assert f"branch {branch}" in app.last_state.result
    follow_request = ep.requests[1]["messages"]
    assert "also say what total_length returns for no ranges" in follow_request[-1]["content"]
    assert follow_request[0] == ep.requests[0]["messages"][0]  # the same conversation, grown
    assert "0 for none" in git(ranges_repo, "show", f"{branch}:ranges/merge.py")
    assert "0 for none" not in (ranges_repo / "ranges/merge.py").read_text()  # the checkout is unchanged


async def test_escape_cancels_mid_stream_and_the_session_stays_usable(make_app, ranges_repo, endpoint):
    ep = endpoint(LONG_THOUGHT, FIX, token_delay=0.02, chunk_size=1)
    app = make_app(flags=flags_for(ep))
    async with app.run_test(size=(80, 24)) as pilot:
        await type_line(pilot, f"/test {TEST}")
        await type_line(pilot, "merge_ranges does not merge ranges that touch")
        await wait_for(pilot, lambda: (p := app.query_one("#transcript").thinking) is not None and p.tokens > 20)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.busy, timeout=60)
        assert "run cancelled" in transcript_text(app)
        mine = docker.from_env().containers.list(
            all=True, filters={"label": [f"{OWNED}=1", f"{OWNER_PID}={__import__('os').getpid()}"]})
        assert mine == []
        assert git(ranges_repo, "status", "--porcelain") == ""

        # still usable: the same session fixes the issue on the next try
        await type_line(pilot, "merge_ranges does not merge ranges that touch")
        await wait_for(pilot, lambda: approval_shown(app))
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: idle(app) and app.last_state is not None)
        assert app.last_state.winner


async def test_resume_an_earlier_run_from_the_runs_browser(make_app, ranges_repo, endpoint):
    ep = endpoint(FIX)
    first = make_app(flags=flags_for(ep))
    async with first.run_test(size=(80, 24)) as pilot:
        await fix_until_approval(pilot)
        run_id = first.session.run_id
        await pilot.press("ctrl+q")  # walk away at the approval question
    first.session.close()
    assert git(ranges_repo, "status", "--porcelain") == ""

    second = make_app(flags=flags_for(ep))
    async with second.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(second.screen, RunsScreen), timeout=10)
        assert second.screen.runs[0].run_id == run_id
        await pilot.press("enter")
        await wait_for(pilot, lambda: approval_shown(second))
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: idle(second) and second.last_state is not None)
        assert second.session.run_id == run_id
    assert "start <= merged[-1][1]" in (ranges_repo / "ranges/merge.py").read_text()
    assert len(ep.requests) == 1  # resuming asked the model nothing again


async def test_endpoint_down_is_a_readable_message(make_app, ranges_repo):
    app = make_app(flags={"endpoint.base_url": "http://127.0.0.1:9/v1", "endpoint.max_retries": 0})
    async with app.run_test(size=(80, 24)) as pilot:
        await type_line(pilot, "merge_ranges does not merge ranges that touch")
        await wait_for(pilot, lambda: not app.busy, timeout=60)
        said = transcript_text(app)
        errors = [line for line in said.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "127.0.0.1:9" in errors[0]
        assert "Traceback" not in said
        await type_line(pilot, "/help")  # the session goes on
        assert app.screen.pager_title == "Commands"


async def test_docker_missing_is_a_readable_message(make_app, ranges_repo, endpoint, monkeypatch):
    ep = endpoint(FIX)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    app = make_app(flags=flags_for(ep))
    async with app.run_test(size=(80, 24)) as pilot:
        await type_line(pilot, "merge_ranges does not merge ranges that touch")
        await wait_for(pilot, lambda: not app.busy, timeout=60)
        said = transcript_text(app)
        errors = [line for line in said.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "docker" in errors[0].lower()
        assert "Traceback" not in said
    assert ep.requests == []  # no model time was spent
