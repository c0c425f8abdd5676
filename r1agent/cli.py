"""The `r1agent` command. Each subcommand lives in its own module and is imported on use.

Exit codes: 0 success (a verified fix), 1 no result (no verified fix), 2 bad input or setup.
"""

from __future__ import annotations

import gc
import importlib
import sys
from pathlib import Path

import click

from r1agent import __version__
from r1agent.errors import R1AgentError

# name -> "module:attribute". A subcommand is listed here only once it works.
COMMANDS: dict[str, str] = {
    "config": "r1agent.commands.config:config",
    "index": "r1agent.commands.index:index_command",
    "map": "r1agent.commands.map:map_command",
    "localize": "r1agent.commands.localize:localize_command",
    "context": "r1agent.commands.context:context_command",
    "sandbox": "r1agent.commands.sandbox:sandbox",
    "apply": "r1agent.commands.apply:apply",
    "demo": "r1agent.commands.demo:demo",
    "fix": "r1agent.commands.fix:fix",
    "runs": "r1agent.commands.runs:runs",
    "undo": "r1agent.commands.undo:undo",
    "ask": "r1agent.commands.ask:ask",
    "scripted-endpoint": "r1agent.commands.scripted_endpoint:scripted_endpoint",
    "batch": "r1agent.commands.batch:batch",
    "tui": "r1agent.commands.tui:tui",
    "serve": "r1agent.commands.serve:serve",
    "doctor": "r1agent.commands.doctor:doctor",
    "stats": "r1agent.commands.stats:stats",
    "refactor": "r1agent.commands.refactor:refactor",
}
# Short commands that read the whole index and write nothing but it. Its rows hold no reference cycles, so
# the cyclic collector, which would walk them all mid-run and again at exit, is paused for these: about a
# sixth of a warm `r1agent context` on a 2,000-file repo.
READ_INDEX_COMMANDS = frozenset({"index", "map", "localize", "context"})
_read_index_run = False  # set once such a command starts: main() then lets the process end uncollected


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used (keeps --help fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


class AppContext:
    """What every subcommand needs: the repo it runs in and the flag layer of the settings."""

    def __init__(self, repo: Path, assignments: tuple[str, ...]):
        self.repo = repo
        self.assignments = assignments

    def load(self, **flags):
        """Load the layered settings, with this command's flags as the top layer."""
        from r1agent.settings import load_settings, parse_assignments

        layer = parse_assignments(self.assignments)
        layer.update({k: v for k, v in flags.items() if v is not None})
        return load_settings(repo=self.repo, flags=layer)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="r1agent")
@click.option(
    "-C", "--repo", "repo", type=click.Path(file_okay=False, path_type=Path), default=".",
    help="Run as if started in this directory.",
)
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Override a setting, e.g. budget.rounds=5.")
@click.pass_context
def cli(ctx: click.Context, repo: Path, assignments: tuple[str, ...]) -> None:
    """r1agent: turn an issue into a test-verified patch with DeepSeek-R1.

    \b
    Exit codes: 0 success, 1 no verified result, 2 bad input or setup.
    """
    ctx.obj = AppContext(repo.resolve(), assignments)
    if ctx.invoked_subcommand in READ_INDEX_COMMANDS and gc.isenabled():
        global _read_index_run
        _read_index_run = True
        gc.disable()
        ctx.call_on_close(gc.enable)


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="r1agent", standalone_mode=False)
        if _read_index_run and argv is None:  # the process's own command line: it ends here, and its exit
            gc.freeze()  # frees everything, so the collector's last full pass over the index is skipped
    except R1AgentError as e:
        click.echo(f"r1agent: error: {e}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("r1agent: aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("r1agent: interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
