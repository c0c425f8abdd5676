"""`r1agent undo`: revert the last hand-off, only when its files are unchanged since."""

from __future__ import annotations

import click


@click.command()
@click.pass_obj
def undo(app) -> None:
    """Revert the last fix r1agent applied to this repo (or delete the branch it made).

    \b
    Exit codes: 0 reverted, 2 nothing to undo or the files changed since.
    """
    from r1agent.tools.git import open_repo, undo_last

    repo = open_repo(app.repo)
    h = undo_last(repo, app.load().settings.state_dir)
    what = f"deleted branch {h.branch}" if h.mode == "branch" else f"reverted {len(h.files)} file(s)"
    click.echo(f"undone run {h.run_id}: {what}")
