"""`r1agent config show`: the effective settings and the layer each value came from."""

from __future__ import annotations

import json

import click


@click.group()
def config() -> None:
    """Inspect settings."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {key: {value, source}}.")
@click.pass_obj
def show(app, as_json: bool) -> None:
    """Print every setting, its value, and where it came from."""
    rows = app.load().rows()
    if as_json:
        click.echo(json.dumps({k: {"value": v, "source": s} for k, v, s in rows}, indent=2))
        return
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        click.echo(f"{key:<{width}}  {json.dumps(value):<28}  {source}")
