"""`r1agent runs ls|show ID`: read back the run records."""

from __future__ import annotations

import json
import time

import click


@click.group()
def runs() -> None:
    """List and inspect earlier fix runs."""


@runs.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def ls(app, as_json: bool) -> None:
    """List runs, newest last."""
    from dataclasses import asdict

    from r1agent.agent.records import list_runs

    metas = list_runs(app.load().settings.state_dir)
    if as_json:
        click.echo(json.dumps([asdict(m) for m in metas], indent=2))
        return
    if not metas:
        click.echo("no runs yet")
    for m in metas:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(m.created))
        first = m.issue.strip().splitlines()[0][:50] if m.issue.strip() else "(failing tests)"
        click.echo(f"{m.run_id}  {when}  {m.status:<10}  {first}")


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON lines.")
@click.pass_obj
def show(app, run_id: str, as_json: bool) -> None:
    """Show one run: its request, summary and events."""
    from dataclasses import asdict

    from r1agent.agent.records import read_meta, read_records

    state_dir = app.load().settings.state_dir
    meta = read_meta(state_dir, run_id)
    records = read_records(state_dir, run_id)
    if as_json:
        click.echo(json.dumps({"meta": asdict(meta), "records": records}, indent=2, default=str))
        return
    click.echo(f"run {meta.run_id}  repo {meta.repo}  status {meta.status}  exit {meta.exit_code}")
    click.echo(f"issue: {meta.issue.strip()[:500]}")
    if meta.result:
        click.echo(f"result: {meta.result}")
    for r in records:
        stamp = time.strftime("%H:%M:%S", time.localtime(r["t"]))
        if r["kind"] == "event":
            fields = {k: v for k, v in r.items() if k not in ("t", "kind", "type", "extra") and v not in ("", (), [], None)}
            click.echo(f"{stamp}  {r['type']:<16} {json.dumps(fields, default=str)[:160]}")
        elif r["kind"] == "model_call":
            u = r.get("usage", {})
            click.echo(f"{stamp}  model call ({r.get('purpose')}): {len(r.get('choices', []))} choice(s), "
                       f"{u.get('prompt_tokens', 0)} prompt + {u.get('completion_tokens', 0)} completion tokens")
        elif r["kind"] == "candidate":
            click.echo(f"{stamp}  candidate r{r['round']}c{r['index']}: {r['status']} "
                       f"f2p={r.get('fail_to_pass')} p2f={r.get('pass_to_fail')}")
        else:
            click.echo(f"{stamp}  {r['kind']}")
