"""`r1agent index`: bring the symbol index up to date and say what it holds and what it skipped."""

from __future__ import annotations

import json

import click


@click.command("index")
@click.option("--skipped", "list_skipped", is_flag=True, help="List every skipped file with its reason.")
@click.option("--json", "as_json", is_flag=True, help="Print counts, re-parsed files and skips as JSON.")
@click.pass_obj
def index_command(app, list_skipped: bool, as_json: bool) -> None:
    """Update the index (only changed files are parsed) and print its counts."""
    from r1agent.progress_bar import progress_bar
    from r1agent.tools.index import update_index

    with progress_bar() as on_event:
        report = update_index(app.repo, app.load().settings, on_event=on_event)
    if as_json:
        click.echo(json.dumps({
            "files": report.files, "parsed": report.parsed, "removed": report.removed,
            "syntax_errors": report.syntax_errors, "seconds": round(report.seconds, 3),
            "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
        }, indent=2))
        return
    counts = ", ".join(f"{reason} {n}" for reason, n in report.skip_counts().items()) or "none"
    noun = "file" if report.files == 1 else "files"
    click.echo(f"{report.files} {noun} indexed ({len(report.parsed)} parsed now, {report.removed} removed, "
               f"{report.syntax_errors} with syntax errors) in {report.seconds:.2f}s; skipped: {counts}")
    if list_skipped:
        for s in report.skipped:
            click.echo(f"  {s.reason:<10} {s.path}")
