"""`r1agent batch INSTANCES.jsonl --out DIR …` and `r1agent batch report DIR`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console


class DefaultRunGroup(click.Group):
    """A group whose first argument, when it names no subcommand, goes to ``run``:
    ``r1agent batch FILE …`` is ``r1agent batch run FILE …``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultRunGroup)
def batch() -> None:
    """Run the agent over many issues (SWE-bench's instance format); resumable, local or on Ray.

    \b
    r1agent batch INSTANCES.jsonl --out DIR [--workers N] [--timeout S]
                  [--ray ADDRESS] [--evaluate] [--mirrors DIR] [--endpoint URL]...
    r1agent batch report DIR
    """


@batch.command("run")
@click.argument("instances", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output directory: predictions.jsonl, records.jsonl, report.html. Rerun to resume.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Instances at once (local).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds per instance; then it is killed.")
@click.option("--ray", "ray_address", metavar="ADDRESS", help="Run on this Ray cluster (host:port, or 'auto').")
@click.option("--evaluate", is_flag=True, help="Grade each prediction (FAIL_TO_PASS/PASS_TO_PASS) in the sandbox.")
@click.option("--mirrors", type=click.Path(file_okay=False, path_type=Path),
              help="Directory of bare git repos named owner__name.git, used instead of cloning.")
@click.option("--endpoint", "endpoints", multiple=True, metavar="URL",
              help="An R1 endpoint (repeatable); each instance goes to the least loaded. Default: endpoint.base_url.")
@click.option("--sandboxes", type=click.IntRange(min=1), help="Sandboxes at once per host, all workers together "
              "(default: sandbox.parallel).")
@click.option("--model-name", help="model_name_or_path in predictions.jsonl  [default: r1agent; gold with --gold]")
@click.option("--no-reproduce", is_flag=True, help="Do not ask R1 for a reproduction test.")
@click.option("--clone-base", default="https://github.com", show_default=True, help="Where owner/name repos are cloned from.")
@click.option("--gold", is_flag=True, help="Take each instance's gold patch as its prediction, with no model: "
              "checks the environments and the grading before GPU hours are spent (use with --evaluate).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout, no progress bar.")
@click.pass_obj
def run(app, instances, out_dir, workers, timeout, ray_address, evaluate, mirrors, endpoints, sandboxes, model_name,
        no_reproduce, clone_base, gold, as_json) -> None:
    """Run the agent on every unfinished instance of INSTANCES.jsonl."""
    from r1agent.batch.instances import load_instances
    from r1agent.batch.run import BatchOptions, run_batch
    from r1agent.llm import R1Client
    from r1agent.settings import parse_assignments

    load_instances(instances)  # a bad file fails here, before anything is checked or written
    settings = app.load().settings
    urls = list(endpoints) or [settings.endpoint.base_url]
    for url in [] if gold else urls:  # fail before hundreds of instances fail one by one
        R1Client(settings.endpoint.model_copy(update={"base_url": url.rstrip("/")})).check()
    opts = BatchOptions(
        instances_file=instances, out_dir=out_dir, endpoints=[u.rstrip("/") for u in urls],
        flags=parse_assignments(app.assignments), workers=workers, timeout=timeout, ray_address=ray_address,
        evaluate=evaluate, mirrors=mirrors, clone_base=clone_base, model_name=model_name or ("gold" if gold else "r1agent"),
        reproduce=not no_reproduce,
        sandbox_slots=sandboxes or settings.sandbox.parallel, progress=not as_json, gold=gold,
    )
    summary = run_batch(opts)
    if as_json:
        click.echo(json.dumps(summary.model_dump() | {"out": str(out_dir.resolve())}, indent=2))
        return
    _print_summary(Console(stderr=True, highlight=False), summary, out_dir)


def _print_summary(console: Console, summary, out_dir: Path) -> None:
    rate = f" — resolved {summary.resolved}/{summary.evaluated}" if summary.evaluated else ""
    console.print(f"[bold]{summary.finished}/{summary.total} finished[/]: {summary.verified} verified, "
                  f"{summary.unverified} unverified, {summary.errors} errors, {summary.env_errors} environment errors, "
                  f"{summary.timeouts} timeouts{rate}")
    if summary.requeued:
        console.print(f"re-queued after a lost worker: {', '.join(sorted(summary.requeued))}")
    if summary.ran_now:
        console.print(f"{summary.ran_now} ran now in {summary.wall_s:.0f} s ({summary.instances_per_hour} instances/hour)")
    console.print(f"predictions: {out_dir / 'predictions.jsonl'}\nreport: {out_dir / 'report.html'}")


@batch.command("report")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def report(out_dir: Path) -> None:
    """Rebuild DIR/report.html (and report.png) from the records in DIR."""
    from r1agent.batch.report import write_report

    click.echo(str(write_report(out_dir)))
