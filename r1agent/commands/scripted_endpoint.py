"""`r1agent scripted-endpoint`: serve a script of R1 turns over vLLM's wire format, offline."""

from __future__ import annotations

import signal
from pathlib import Path

import click

from r1agent.errors import InputError
from r1agent.reasoning import WIRE_FORMS


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command("scripted-endpoint")
@click.option("--script", "script", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON lines, one turn each: {\"reasoning\", \"answer\", \"match\"?, \"choices\"?}.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--reasoning-field", type=click.Choice(WIRE_FORMS), default="reasoning", show_default=True,
              help="Where the reasoning travels: a field as new or old vLLM puts it, or inline <think>.")
@click.option("--no-think-opener", is_flag=True,
              help="Inline form only: omit the opening <think>, as when the chat template emits it.")
@click.option("--model", default="deepseek-r1", show_default=True, help="Model id served on /v1/models.")
@click.option("--token-delay", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Seconds between streamed chunks, to watch streaming happen.")
def scripted_endpoint(script: Path, port: int, reasoning_field: str, no_think_opener: bool, model: str,
                      token_delay: float) -> None:
    """Serve scripted R1 turns on 127.0.0.1 until Ctrl-C; prints the base URL to use."""
    from r1agent.scripted import ScriptedEndpoint, load_script  # imported on use: keeps `r1agent --help` fast

    turns = load_script(script)
    try:
        endpoint = ScriptedEndpoint(turns, reasoning_field=reasoning_field, model=model, port=port,  # type: ignore[arg-type]
                                    token_delay=token_delay, think_opener=not no_think_opener)
    except OSError as e:
        raise InputError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None
    # Started in the background, a process may inherit SIGINT ignored; Ctrl-C and kill both stop it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    click.echo(endpoint.base_url, nl=True)
    click.echo(f"serving {len(turns)} scripted turns of model {model!r}; Ctrl-C stops", err=True)
    try:
        endpoint.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
