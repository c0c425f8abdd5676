"""`r1agent map`: print the ranked repository map within a token budget."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("map")
@click.option("--budget", type=click.IntRange(min=16), default=1024, show_default=True,
              help="Token budget for the map (estimated; see r1agent.tools.tokens).")
@click.option("--focus", multiple=True, metavar="FILE", help="Rank toward this file (repeatable).")
@click.option("--issue-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Rank toward the identifiers and paths this issue names.")
@click.pass_obj
def map_command(app, budget: int, focus: tuple[str, ...], issue_file: Path | None) -> None:
    """Print files and their key signatures, ranked by the def/ref graph."""
    from r1agent.issue_input import read_issue
    from r1agent.progress_bar import progress_bar
    from r1agent.tools.repomap import build_repo_map

    issue_text = read_issue(issue_file) if issue_file else ""
    settings = app.load().settings
    with progress_bar() as on_event:
        result = build_repo_map(app.repo, settings, budget=budget, focus=focus, issue_text=issue_text,
                                on_event=on_event)
    if not result.text:
        click.echo("nothing to map: no supported source files (`r1agent index --skipped` lists the skipped ones)",
                   err=True)
    click.echo(result.text, nl=False)
