"""`r1agent serve`: plan a vLLM launch from the GPUs and the model, then run it until Ctrl-C."""

from __future__ import annotations

import json
import signal
import time
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.status import Status

from r1agent.events import Event, Message, Phase, Progress
from r1agent.serve.catalog import CATALOG, resolve_model
from r1agent.serve.command import build_launch
from r1agent.serve.errors import PlanRefused, ServerDied
from r1agent.serve.gpus import inventory
from r1agent.serve.lifecycle import serve as run_server
from r1agent.serve.plan import DEFAULT_UTILIZATION, Plan, PlanRequest, plan


class _ServeView:
    """Start-up progress: a spinner on a terminal, a line every few seconds in a log."""

    def __init__(self, console: Console):
        self.console = console
        self.status: Status | None = None
        self._last_line = 0.0

    def __call__(self, event: Event) -> None:
        if isinstance(event, Progress):
            text = f"waiting for the server: {event.done}s  [dim]{event.detail}[/]"
            if self.console.is_terminal:
                if self.status is None:
                    self.status = self.console.status(text)
                    self.status.start()
                self.status.update(text)
            elif time.monotonic() - self._last_line > 10:
                self._last_line = time.monotonic()
                self.console.print(text)
            return
        self.close()
        if isinstance(event, Phase):
            self.console.print(f"[bold cyan]●[/] [bold]{event.name}[/] {event.detail}")
        elif isinstance(event, Message):
            self.console.print(f"  {event.text}")

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def _print_plan(console: Console, p: Plan, base_url: str) -> None:
    nodes = f" × {p.nodes} nodes" if p.nodes > 1 else ""
    console.print(f"[bold]{p.profile.title}[/] on {p.gpus.describe()}{nodes} (GPUs from {p.gpus.source})")
    console.print(f"  TP {p.tp} × PP {p.pp}, max-model-len {p.max_model_len:,}, "
                  f"gpu-memory-utilization {p.gpu_memory_utilization:.2f}, endpoint {base_url}")
    for line in p.arithmetic().splitlines():
        console.print(f"  [dim]{line}[/]")
    for note in p.notes:
        console.print(f"  [yellow]note:[/] {note}")


def _raise_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command("serve")
@click.option("--model", "model_spec", default="r1", show_default=True, metavar="PROFILE|HF_ID|PATH",
              help=f"What to serve: {', '.join(CATALOG)}; or a Hugging Face id or local copy of one.")
@click.option("--like", type=click.Choice(list(CATALOG)), help="Size an unknown model like this profile.")
@click.option("--gpus", type=int, help="GPUs per node (default: as torch reports).")
@click.option("--gpu-memory", "gpu_memory", type=float, metavar="GB", help="Memory per GPU (default: as torch reports).")
@click.option("--tp", type=int, help="Tensor-parallel size (default: planned).")
@click.option("--pp", type=int, help="Pipeline-parallel size (default: 1, or --nodes).")
@click.option("--nodes", type=int, default=1, show_default=True, help="Nodes of a running Ray cluster.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface the server listens on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--max-model-len", "max_model_len", type=int, help="Context length (default: the profile's, if it fits).")
@click.option("--gpu-memory-utilization", "utilization", type=float, default=DEFAULT_UTILIZATION, show_default=True)
@click.option("--tool-calls", is_flag=True, help="Enable vLLM's tool-call parser (R1-0528 only).")
@click.option("--chat-template", help="A chat template file for vLLM (e.g. for R1-0528 tool calls).")
@click.option("--dry-run", is_flag=True, help="Print the plan and the exact command; start nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: print the plan as JSON.")
@click.option("--launch-command", metavar="CMD",
              help="Run CMD instead of vLLM ({host}, {port}, {model} are filled in), e.g. a container wrapper.")
@click.option("--ready-timeout", type=float, default=3600.0, show_default=True,
              help="Seconds to wait for the server to answer (loading R1 takes a while).")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Server log file (default: under the state dir).")
@click.pass_obj
def serve(app, model_spec: str, like: str | None, gpus: int | None, gpu_memory: float | None, tp: int | None,
          pp: int | None, nodes: int, host: str, port: int, max_model_len: int | None, utilization: float,
          tool_calls: bool, chat_template: str | None, dry_run: bool, as_json: bool, launch_command: str | None,
          ready_timeout: float, log_path: Path | None) -> None:
    """Serve R1 (or a distill) with vLLM on this machine's GPUs and point the agent at it."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    choice = resolve_model(model_spec, like)
    inv = inventory(gpus, gpu_memory)
    request = PlanRequest(tp=tp, pp=pp, nodes=nodes, max_model_len=max_model_len, gpu_memory_utilization=utilization)
    try:
        chosen = plan(choice.profile, inv, request)
    except PlanRefused as e:  # the arithmetic first; the CLI then prints the one-line verdict
        for line in e.detail.splitlines():
            console.print(f"  {line}")
        raise
    launch = build_launch(chosen, choice, host=host, port=port, tool_calls=tool_calls, chat_template=chat_template,
                          launch_command=launch_command)
    if dry_run:
        if as_json:
            click.echo(json.dumps({
                "profile": chosen.profile.key, "model": choice.source, "served_name": launch.served_name,
                "gpus": [asdict(g) for g in inv.gpus], "gpu_source": inv.source, "nodes": chosen.nodes,
                "tp": chosen.tp, "pp": chosen.pp, "max_model_len": chosen.max_model_len,
                "gpu_memory_utilization": chosen.gpu_memory_utilization, "base_url": launch.base_url,
                "argv": list(launch.argv), "command": launch.shell(), "notes": list(chosen.notes),
                "arithmetic": chosen.arithmetic().splitlines(),
            }, indent=2))
            return
        _print_plan(console, chosen, launch.base_url)
        click.echo(launch.shell())
        return
    _print_plan(console, chosen, launch.base_url)
    settings = app.load().settings
    log = log_path or settings.state_dir / "serve" / f"server-{port}.log"
    view = _ServeView(console)
    # Ctrl-C and SIGTERM both mean "stop the server cleanly"; a background start may have SIGINT ignored.
    previous = {sig: signal.signal(sig, _raise_on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_server(launch, log, ready_timeout_s=ready_timeout, on_event=view)
    except ServerDied as e:
        view.close()
        console.print(f"[red]{e}[/]")
        if e.log_tail:
            console.print("[bold]last lines of the server log:[/]")
            console.print(e.log_tail, markup=False)
        raise
    finally:
        view.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
