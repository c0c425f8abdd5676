"""`r1agent sandbox …`: build, list and prune sandbox images, and run commands or tests in a fresh sandbox."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from r1agent.events import Event, Message
from r1agent.events import Progress as ProgressEvent

EXIT_CODES = """\b
Exit codes:
  exec:  0 the command exited 0; 1 it exited non-zero or timed out (its code is printed);
         2 bad input or setup (no Docker engine, image build failed).
  test:  0 every selected test passed; 1 a test failed or errored, none ran, or the run timed out;
         2 bad input or setup.
  build, ls, prune: 0 done; 2 bad input or setup."""


@contextmanager
def _progress_display() -> Iterator:
    """A live progress bar on stderr for long steps (image builds); plain lines when not a terminal."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def on_event(event: Event) -> None:
            if isinstance(event, ProgressEvent):
                if event.task not in tasks:
                    tasks[event.task] = bar.add_task(event.task, total=event.total, detail="")
                bar.update(tasks[event.task], completed=event.done, total=event.total, detail=event.detail[:60])
            elif isinstance(event, Message):
                console.print(f"[{event.level}] {event.text}" if event.level != "info" else event.text)

        yield on_event


def _backend(app, on_event, backend: str | None):
    from r1agent.sandbox import open_backend

    settings = app.load(**({"sandbox.backend": backend} if backend else {})).settings
    return open_backend(settings, app.repo, on_event)


def _prepare(app, backend: str | None):
    """The backend with its image ready, with install failures shown with pip's own last lines."""
    from r1agent.sandbox import DependencyInstallError

    with _progress_display() as on_event:
        chosen = _backend(app, on_event, backend)
        try:
            chosen.ensure_image()
        except DependencyInstallError as e:
            click.echo(e.output_tail, err=True)
            raise
    return chosen


backend_option = click.option(
    "--backend", type=click.Choice(["docker", "local"]), default=None, help="Override sandbox.backend."
)


@click.group(epilog=EXIT_CODES)
def sandbox() -> None:
    """Docker sandboxes: images, commands and test runs on a copy of the repo."""


@sandbox.command()
@click.pass_obj
def build(app) -> None:
    """Build (or find cached) the base and environment images for this repo; say which Python and why."""
    chosen = _prepare(app, "docker")
    choice = chosen.python()
    if choice is not None:
        click.echo(f"python {choice.version} (Debian {choice.suite}): {choice.reason}")
    click.echo(chosen.ensure_image())


@sandbox.command("ls")
@click.pass_obj
def list_(app) -> None:
    """List the images, containers and volumes r1agent made, with sizes."""
    from r1agent.sandbox.docker_connect import connect
    from r1agent.sandbox.labels import KIND, owned_filter

    client = connect()
    for image in client.images.list(filters=owned_filter()):
        tags = ",".join(image.tags) or image.short_id
        click.echo(f"image      {tags:<50} {image.labels.get(KIND, '?'):<8} {image.attrs.get('Size', 0) / 1e6:9.1f} MB")
    for row in client.api.containers(all=True, size=True, filters=owned_filter()):
        name = row["Names"][0].lstrip("/")
        click.echo(f"container  {name:<50} {row['State']:<8} {row.get('SizeRw', 0) / 1e6:9.1f} MB")
    for vol in client.volumes.list(filters=owned_filter()):
        click.echo(f"volume     {vol.name[:50]:<50} {vol.attrs.get('Labels', {}).get(KIND, '?'):<8}")


@sandbox.command()
@click.option("--all", "include_base", is_flag=True, help="Also remove the base image (rebuilding takes minutes).")
@click.pass_obj
def prune(app, include_base: bool) -> None:
    """Remove every container, volume and environment image r1agent made (found by label)."""
    from r1agent.sandbox.cleanup import prune as prune_all
    from r1agent.sandbox.docker_connect import connect

    counts = prune_all(connect(), include_base=include_base)
    click.echo(f"removed {counts.containers} container(s), {counts.volumes} volume(s), {counts.images} image(s)")


@sandbox.command("exec", epilog=EXIT_CODES)
@click.option("--timeout", type=float, default=None, help="Seconds before the command's process tree is killed.")
@backend_option
@click.argument("command", nargs=-1, required=True)
@click.pass_obj
def exec_(app, timeout: float | None, backend: str | None, command: tuple[str, ...]) -> None:
    """Run COMMAND in a fresh sandbox of this repo and print its output and exit code.

    Put `--` before the command: r1agent sandbox exec -- python -c 'print(1)'
    """
    chosen = _prepare(app, backend)
    with chosen.create("exec") as sb:
        result = sb.exec(list(command), timeout=timeout)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    state = "timed out" if result.timed_out else f"exit {result.exit_code}"
    click.echo(f"[{state} in {result.duration_s:.2f}s]", err=True)
    sys.exit(0 if result.ok else 1)


@sandbox.command("test", epilog=EXIT_CODES)
@click.option("--json", "as_json", is_flag=True, help='Print {"tests": {nodeid: status}, "summary": {...}}.')
@click.option("--timeout", type=float, default=None, help="Seconds for the whole run (default tests.timeout).")
@backend_option
@click.argument("selection", nargs=-1)
@click.pass_obj
def test(app, as_json: bool, timeout: float | None, backend: str | None, selection: tuple[str, ...]) -> None:
    """Run the tests (all, or the node ids / files given) in a fresh sandbox and print each test's status."""
    chosen = _prepare(app, backend)
    with chosen.create("test") as sb:
        report = sb.run_tests(list(selection) or None, timeout=timeout)
    if as_json:
        click.echo(json.dumps({"tests": report.tests, "summary": report.summary, "exit_code": report.exit_code,
                               "timed_out": report.timed_out}, indent=2))
    else:
        for nodeid, status in sorted(report.tests.items()):
            click.echo(f"{status.upper():<8} {nodeid}")
        if not report.tests:
            click.echo(report.output_tail, err=True)
        counts = ", ".join(f"{n} {s}" for s, n in report.summary.items() if n and s != "total")
        extra = " (timed out)" if report.timed_out else ""
        click.echo(f"{report.summary['total']} tests: {counts or 'none ran'}{extra} in {report.duration_s:.1f}s")
    sys.exit(0 if report.all_passed else 1)
