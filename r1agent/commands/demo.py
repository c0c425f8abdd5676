"""`r1agent demo`: watch a red test turn green, offline, in a couple of minutes."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console


@click.command()
@click.option("--dir", "target", type=click.Path(path_type=Path), help="Where to create the demo repo.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@click.pass_obj
def demo(app, target: Path | None, as_json: bool) -> None:
    """Fix a real bug in a small example repo, end to end.

    The model is the scripted R1 endpoint (it replays a failing first answer, then a fix),
    unless your settings name a real endpoint, which is then used. The tests run in the real
    Docker sandbox.

    \b
    Exit codes: 0 the bug was fixed and verified, 1 it was not, 2 bad setup.
    """
    from r1agent.agent.runner import FixRequest, FixRun
    from r1agent.commands.fix import drive, preflight
    from r1agent.demo import DEMO_DIR, DEMO_TEST, default_demo_path, demo_issue, make_demo_repo
    from r1agent.errors import InputError
    from r1agent.scripted import ScriptedEndpoint, load_script

    console = Console(stderr=True, highlight=False)
    loaded = app.load()
    real = "endpoint.base_url" in loaded.sources
    repo = target or default_demo_path(loaded.settings.cache_dir)
    if repo.exists():
        raise InputError(f"{repo} already exists; pass --dir with a new path")
    repo.parent.mkdir(parents=True, exist_ok=True)
    make_demo_repo(repo)
    console.print(f"[bold]r1agent demo[/] — example repo at {repo}")
    endpoint = None
    flags = {"budget.candidates": 1, "budget.rounds": 3}
    if real:
        console.print(f"model: your endpoint {loaded.settings.endpoint.base_url}")
    else:
        endpoint = ScriptedEndpoint(load_script(DEMO_DIR / "script.jsonl"), token_delay=0.01).start()
        console.print("model: [yellow]the scripted R1 endpoint[/] (no GPU needed): it replays a wrong first "
                      "answer, then the fix. Point endpoint.base_url at a real R1 to use it instead.")
        flags |= {"endpoint.base_url": endpoint.base_url, "endpoint.model": "auto", "endpoint.profile": "r1"}
    try:
        settings = app.load(**flags).settings
        preflight(settings, repo)
        run = FixRun.create(settings, FixRequest(repo=repo, issue=demo_issue(), tests=[DEMO_TEST], reproduce=False))
        code = drive(run, as_json)
    finally:
        if endpoint:
            endpoint.stop()
    if code == 0 and not as_json:
        console.print(f"[green]The demo repo now holds the fix:[/] git -C {repo} diff")
    raise SystemExit(code)
