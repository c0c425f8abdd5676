"""`r1agent doctor`: check the endpoint, the sandbox engine, disk and GPUs; a fix for each failure."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from rich.console import Console
from rich.table import Table

from r1agent.serve.doctor import Doctor
from r1agent.serve.errors import DoctorFailed

_MARK = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "skip": "[dim]skip[/]"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds for each network check.")
@click.pass_obj
def doctor(app, as_json: bool, timeout: float) -> None:
    """Check everything a run needs; exit 2 if anything fails."""
    settings = app.load().settings
    results = Doctor(settings, timeout_s=timeout).run()
    if as_json:
        click.echo(json.dumps([asdict(r) for r in results], indent=2))
    else:
        table = Table(title=f"r1agent doctor: {settings.endpoint.base_url}", title_justify="left")
        for column in ("check", "result", "detail", "fix"):
            table.add_column(column, overflow="fold")
        for r in results:
            table.add_row(r.name, _MARK[r.status], r.detail, r.fix)
        Console(highlight=False).print(table)
    failed = [r.name for r in results if r.status == "fail"]
    if failed:
        raise DoctorFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}")
