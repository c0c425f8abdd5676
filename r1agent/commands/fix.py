"""`r1agent fix`: an issue in, a test-verified patch out, handed off only when verified."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from r1agent.issue_input import resolve_issue


@click.command()
@click.argument("issue", required=False)
@click.option("--issue-file", type=click.Path(path_type=Path), help="Read the issue from a file.")
@click.option("--test", "tests", multiple=True, metavar="NODEID", help="A failing test that must pass (repeatable).")
@click.option("--candidates", type=int, help="Candidates drawn per round (budget.candidates).")
@click.option("--rounds", type=int, help="Most propose/test/reflect rounds (budget.rounds).")
@click.option("--branch", help="Commit the fix on this new branch; your checkout stays as it is.")
@click.option("--commit", is_flag=True, help="Also commit the fix on the current branch.")
@click.option("--approve", is_flag=True, help="Ask before anything touches the repository.")
@click.option("--no-apply", is_flag=True, help="Only save the verified patch; do not touch the repository.")
@click.option("--no-reproduce", is_flag=True, help="Do not ask R1 for a reproduction test.")
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue a run that was stopped or killed.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout, no progress.")
@click.pass_obj
def fix(app, issue, issue_file, tests, candidates, rounds, branch, commit, approve, no_apply, no_reproduce,
        resume_id, as_json) -> None:
    """Fix an issue with R1 and verify it with the repo's tests in a Docker sandbox.

    \b
    Exit codes: 0 a verified fix, 1 no verified fix within budget (the best
    candidate is saved), 2 bad input or setup.
    """
    from r1agent.agent.runner import FixRequest, FixRun
    from r1agent.agent.state import HandoffRequest
    from r1agent.errors import InputError
    from r1agent.tools.git import check_branchable, open_repo

    settings = app.load(**{"budget.candidates": candidates, "budget.rounds": rounds}).settings
    if resume_id:
        run = FixRun.reopen(settings, resume_id)
    else:
        text = resolve_issue(issue, issue_file, tests)
        repo = open_repo(app.repo)
        root = Path(repo.working_tree_dir)
        if branch and commit:
            raise InputError("--branch already commits; drop --commit")
        if branch:
            check_branchable(repo, branch)
        preflight(settings, root)
        mode = "none" if no_apply else ("branch" if branch else "worktree")
        request = FixRequest(
            repo=root, issue=text, tests=list(tests), reproduce=not no_reproduce,
            handoff=HandoffRequest(mode=mode, branch=branch, commit=commit, approve=approve),
        )
        run = FixRun.create(settings, request)
    exit_code = drive(run, as_json)
    raise SystemExit(exit_code)


def preflight(settings, repo: Path) -> None:
    """Fail fast, before any model time is spent: endpoint and sandbox must answer."""
    from r1agent.llm import R1Client
    from r1agent.sandbox import open_backend

    R1Client(settings.endpoint).check()
    open_backend(settings, repo)


def drive(run, as_json: bool) -> int:
    from r1agent.progress import ConsoleView, print_summary

    console = Console(stderr=True, highlight=False)
    view = ConsoleView(console, quiet=as_json)
    if not as_json:
        console.print(f"[dim]run {run.run_id}[/]")

    def decide(question: dict) -> dict:
        view.close()
        console.print(question["patch"], markup=False, highlight=False)
        ok = click.confirm(f"Apply candidate {question['candidate']} ({', '.join(question['files'])})?", default=False,
                           err=True)
        return {"approve": ok}

    try:
        final = run.run(view, decide)
    finally:
        view.close()
        run.close()
    summary = run.meta.summary or {}
    if as_json:
        click.echo(json.dumps(summary | {"record": str(run.services.run_dir)}, indent=2))
    elif summary:
        print_summary(console, summary, str(run.services.run_dir))
    return final.exit_code if final and final.exit_code is not None else 1
