"""Record the README's TUI screenshot from a real session: the demo repo, the scripted R1
endpoint (a wrong first answer, then the fix), the real Docker sandbox, approved at the end.

    .venv/bin/python docs/tui_screenshot.py docs/tui-session.svg
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path


async def record(out: Path) -> None:
    from r1agent.demo import DEMO_DIR, DEMO_TEST, demo_issue, make_demo_repo
    from r1agent.scripted import ScriptedEndpoint, load_script
    from r1agent.settings import load_settings
    from r1agent.tui.app import R1App
    from r1agent.tui.approval import ApprovalScreen
    from r1agent.tui.session import AgentSession

    work = Path(tempfile.mkdtemp(prefix="tui-shot-"))
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        os.environ[var] = str(work / var.lower())  # the image cache (XDG_CACHE_HOME) is kept
    repo = make_demo_repo(work / "ranges")
    with ScriptedEndpoint(load_script(DEMO_DIR / "script.jsonl"), token_delay=0.01) as ep:
        flags = {"endpoint.base_url": ep.base_url, "endpoint.model": "auto", "budget.candidates": 1,
                 "budget.rounds": 3}
        app = R1App(AgentSession(load_settings(repo=repo, flags=flags).settings, repo))
        async with app.run_test(size=(100, 32)) as pilot:
            prompt = app.query_one("#prompt")
            for line in (f"/test {DEMO_TEST}", demo_issue().splitlines()[0]):
                prompt.value = line
                await pilot.press("enter")
            while not isinstance(app.screen, ApprovalScreen):
                await pilot.pause(0.2)
            await pilot.press("ctrl+y")
            while app.busy or app.last_state is None:
                await pilot.pause(0.2)
            prompt.cursor_blink = False
            await pilot.pause(0.5)
            out.write_text(app.export_screenshot(title="r1agent tui"), encoding="utf-8")
        app.session.close()


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/tui-session.svg")))
