"""`r1agent refactor`: behaviour-preserving suggestions for what is staged, shown only once the tests prove them harmless.

Exit codes: 0 done (advisory: always, even when the endpoint or sandbox is unavailable); 1 with --strict when a
verified suggestion exists; 2 bad input, or with --strict an unreachable endpoint or sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from r1agent.errors import EndpointError, InputError, SandboxError

STRICT_FOUND = 1


def _print_outcome(outcome, repo: Path) -> None:
    from r1agent.refactor.store import suggestions_dir

    out = Console(highlight=False, soft_wrap=True)
    n = len(outcome.verified)
    dropped = ", ".join(f"{count} {reason}" for reason, count in sorted(outcome.dropped_counts.items()))
    line = f"r1agent refactor: {n} verified suggestion{'s' if n != 1 else ''}"
    line += f"; {len(outcome.dropped)} dropped ({dropped})" if outcome.dropped else "; none dropped"
    if outcome.cached:
        line += " (cached: no model request)"
    out.print(line)
    if outcome.note:
        out.print(f"  {escape(outcome.note)}")
    if outcome.budget_hit:
        out.print("  [yellow]time budget hit:[/] unchecked suggestions are not shown; rerun with a larger --time-budget")
    for d in outcome.dropped:
        out.print(f"  [dim]dropped {d.id} ({d.reason}): {escape(d.rationale)} — {escape(d.detail)}[/]")
    folder = suggestions_dir(repo)
    for s in outcome.verified:
        out.print(f"\n[bold]Suggestion {s.id}:[/] {escape(s.rationale)}")
        out.print(f"  [dim]{escape(s.detail)}; saved as {escape(str(folder / (s.id + '.patch')))}[/]")
        out.print(Syntax(s.patch, "diff", theme="ansi_dark", background_color="default"))
    if outcome.verified:
        out.print(f"apply one with: r1agent refactor --apply {outcome.verified[0].id}  (add --stage to stage it too)")


@click.command("refactor")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--staged", is_flag=True, help="Review the staged change (the default when no FILE is given).")
@click.option("--goal", default=None, help="What the refactors should aim for (default: simpler, clearer code).")
@click.option("--max", "max_suggestions", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Most suggestions to ask R1 for.")
@click.option("--apply", "apply_ids", multiple=True, metavar="ID",
              help="Apply saved suggestion ID to the work tree (more IDs may follow as arguments); no model call.")
@click.option("--stage", is_flag=True, help="With --apply: stage the change in the index too.")
@click.option("--strict", is_flag=True, help="Exit 1 when a verified suggestion exists; exit 2 if R1 or Docker is unreachable.")
@click.option("--time-budget", "time_budget", type=click.FloatRange(min=1), default=None, metavar="S",
              help="Stop after S seconds; suggestions not yet verified are not shown.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
@click.pass_obj
def refactor(app, files: tuple[Path, ...], staged: bool, goal: str | None, max_suggestions: int,
             apply_ids: tuple[str, ...], stage: bool, strict: bool, time_budget: float | None, as_json: bool) -> None:
    """Ask R1 for refactors of the staged change (or FILEs) and show those the tests prove harmless.

    \b
    Each suggestion is checked in its own sandbox against the staged tree: it must apply, the files must
    still parse, the tests must show no pass-to-fail, and ruff/flake8 (where configured) no new findings.
    Verified suggestions are saved under .git/r1agent/suggestions/; the work tree is never touched
    unless --apply is given, and the index only with --stage.

    \b
    Exit codes: 0 done (advisory mode never blocks a commit), 1 with --strict when a verified suggestion
    exists, 2 bad input (or, with --strict, an unreachable endpoint or sandbox).
    """
    from r1agent.refactor.staged import repo_root

    repo = repo_root(app.repo)
    if apply_ids:
        _apply(repo, [*apply_ids, *map(str, files)], stage, as_json)
        return
    if stage:
        raise InputError("--stage only goes with --apply ID")
    if staged and files:
        raise InputError("give either --staged or FILEs, not both")
    from r1agent.refactor.run import RefactorRequest, run_refactor

    settings = app.load().settings
    named = [f if f.is_absolute() else app.repo / f for f in files]  # -C DIR: names are relative to DIR
    request = RefactorRequest(named, goal, max_suggestions, time_budget)
    outcome = _run(repo, settings, request, strict, as_json, run_refactor)
    if outcome is None:
        return
    if as_json:
        click.echo(json.dumps(outcome.model_dump() | {"dropped_counts": outcome.dropped_counts}, indent=2))
    else:
        _print_outcome(outcome, repo)
    if strict and outcome.verified:
        raise SystemExit(STRICT_FOUND)


def _run(repo, settings, request, strict: bool, as_json: bool, run_refactor):
    """The run, or None when the endpoint or sandbox is unavailable in advisory mode (one line, exit 0)."""
    from r1agent.progress import ConsoleView

    view = ConsoleView(quiet=as_json)
    try:
        return run_refactor(repo, settings, request, view)
    except (EndpointError, SandboxError) as e:
        if strict:
            raise
        click.echo(f"r1agent refactor: skipped, {e}", err=True)
        return None
    finally:
        view.close()


def _apply(repo: Path, ids: list[str], stage: bool, as_json: bool) -> None:
    from r1agent.refactor import store

    patches = store.apply(repo, ids, stage)
    where = "work tree and index" if stage else "work tree"
    if as_json:
        click.echo(json.dumps({"applied": [p.stem for p in patches], "staged": stage}))
        return
    for p in patches:
        click.echo(f"applied {p.stem} to the {where}: {store.rationale(p)}")
