"""`r1agent apply ANSWER_FILE`: apply a model answer (e.g. pasted from a chat) to the repo, or explain why not.

Exit codes: 0 applied, 1 refused with feedback, 2 bad input (unreadable file, an edit aimed outside the repo).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from r1agent.errors import EditError, InputError


def _read_answer(answer_file: str) -> str:
    if answer_file == "-":
        return sys.stdin.read()
    path = Path(answer_file)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"answer file not found: {answer_file}") from None
    except IsADirectoryError:
        raise InputError(f"answer file is a directory: {answer_file}") from None
    except UnicodeDecodeError:
        raise InputError(f"answer file is not UTF-8 text: {answer_file}") from None
    except OSError as e:
        raise InputError(f"cannot read answer file {answer_file}: {e.strerror}") from None


def _outcome_json(outcome) -> dict:
    data = asdict(outcome)
    data.pop("block", None)
    return data


@click.command("apply")
@click.argument("answer_file", metavar="ANSWER_FILE")
@click.option("--dry-run", is_flag=True, help="Check and print the patch; change no file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object: ok, patch, files, applied, failed, feedback.")
@click.pass_obj
def apply(app, answer_file: str, dry_run: bool, as_json: bool) -> None:
    """Apply the edits in ANSWER_FILE ('-' for stdin) to the repo: all of them, or none."""
    from r1agent.tools.edits import apply_answer

    if not app.repo.is_dir():
        raise InputError(f"not a directory: {app.repo}")
    answer = _read_answer(answer_file)
    # An unsafe block fails the whole answer, so nothing has been written when EditError is raised.
    result = apply_answer(answer, app.repo, write=not dry_run)
    if result.unsafe:
        raise EditError(result.unsafe[0].message)
    if as_json:
        click.echo(json.dumps({
            "ok": result.ok, "dry_run": dry_run, "patch": result.patch, "files": sorted(result.files),
            "applied": [_outcome_json(o) for o in result.applied],
            "failed": [_outcome_json(o) for o in result.failed], "feedback": result.feedback,
        }, indent=2))
    elif result.ok:
        click.echo(result.patch, nl=False)
        click.echo(("would change " if dry_run else "changed ") + ", ".join(sorted(result.files)), err=True)
    else:
        click.echo(result.feedback)
    if not result.ok:
        raise SystemExit(1)
