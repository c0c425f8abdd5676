"""`r1agent localize`: rank the files an issue most likely needs edited, with no model."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("localize")
@click.option("--repo", "repo", type=click.Path(file_okay=False, path_type=Path),
              help="Repository to search (default: the global -C/--repo).")
@click.option("--issue-file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Text file holding the issue.")
@click.option("--top-k", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help='Print {"files": [{path, score, why}], "symbols": [...]}.')
@click.pass_obj
def localize_command(app, repo: Path | None, issue_file: Path, top_k: int, as_json: bool) -> None:
    """Rank files by BM25 over files and symbols, names in the issue, and the def/ref graph."""
    from r1agent.issue_input import read_issue
    from r1agent.progress_bar import progress_bar
    from r1agent.tools.localize import localize

    issue_text = read_issue(issue_file)
    target = (repo or app.repo).resolve()
    with progress_bar() as on_event:
        result = localize(target, issue_text, app.load().settings, top_k=top_k, on_event=on_event)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    width = max((len(f.path) for f in result.files), default=0)
    for f in result.files:
        click.echo(f"{f.score:7.3f}  {f.path:<{width}}  {f.why}")
