"""`r1agent tui`: the interactive session, kept open while you work."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("issue", required=False)
@click.pass_obj
def tui(app, issue: str | None) -> None:
    """Open the interactive Textual session in this repository.

    Type an issue to fix it, follow-ups to continue, /help for the slash commands.
    ISSUE, if given, starts a fix right away.
    """
    from r1agent.tools.git import open_repo
    from r1agent.tui.app import R1App
    from r1agent.tui.session import AgentSession

    settings = app.load().settings
    root = Path(open_repo(app.repo).working_tree_dir)
    session = AgentSession(settings, root)
    try:
        R1App(session, initial_issue=issue).run()
    finally:
        session.close()
