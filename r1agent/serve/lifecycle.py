"""Run the model server as a child: log to a file, wait until it serves, record the endpoint in
the user's config, and stop it, with every process it started, on Ctrl-C or SIGTERM.

The child gets its own process group, so a terminal's Ctrl-C reaches only us and we stop the
whole group in order (SIGTERM, a grace period, then SIGKILL): vLLM's workers never outlive it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
import tomli_w

from r1agent.errors import ConfigError
from r1agent.events import EventSink, Message, Phase, Progress, ignore
from r1agent.serve.command import Launch
from r1agent.serve.errors import ServeError, ServerDied
from r1agent.settings import user_config_path

TAIL_LINES = 30


def config_path() -> Path:
    """The user config file, as settings reads it (R1AGENT_CONFIG wins)."""
    override = os.environ.get("R1AGENT_CONFIG")
    return Path(override) if override else user_config_path()


def write_endpoint(base_url: str, model: str, profile: str, path: Path | None = None) -> Path:
    """Point the agent at the server: set endpoint.{base_url,model,profile}, keep every other key."""
    path = path or config_path()
    data: dict = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: invalid TOML, not changed: {e}") from None
    endpoint = data.setdefault("endpoint", {})
    if not isinstance(endpoint, dict):
        raise ConfigError(f"{path}: 'endpoint' is a value, not a table; not changed")
    endpoint.update(base_url=base_url, model=model, profile=profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(tomli_w.dumps(data), encoding="utf-8")
    partial.replace(path)  # atomic: a crash never leaves half a config
    return path


def log_tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64_000))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def ensure_port_free(host: str, port: int) -> None:
    """A server already on the port would answer our readiness probe in place of the new one."""
    bind_host = "0.0.0.0" if host in ("", "0.0.0.0") else host
    with socket.socket(socket.AF_INET6 if ":" in bind_host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
        try:
            s.bind((bind_host, port))
        except OSError as e:
            raise ServeError(f"port {port} on {bind_host} is taken ({e.strerror}); stop that server or pass --port") from None


@dataclass(frozen=True)
class Ready:
    base_url: str
    model: str
    seconds: float


class ServerProcess:
    """One server child in its own process group, its output going to ``log_path``."""

    def __init__(self, launch: Launch, log_path: Path):
        self.launch = launch
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            try:
                self.proc = subprocess.Popen(self.launch.argv, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
            except FileNotFoundError:
                hint = " (pip install 'r1agent[serve]')" if self.launch.argv[0] == "vllm" else ""
                raise ServeError(f"cannot start {self.launch.argv[0]!r}: not found on PATH{hint}") from None
            except PermissionError:
                raise ServeError(f"cannot start {self.launch.argv[0]!r}: permission denied") from None

    def died(self) -> ServerDied | None:
        """The error to raise if the child has exited, else None."""
        assert self.proc is not None
        code = self.proc.poll()
        if code is None:
            return None
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        return ServerDied(f"{self.launch.argv[0]} stopped ({how}); its log: {self.log_path}", log_tail(self.log_path))

    def wait_ready(self, timeout_s: float, on_event: EventSink = ignore, poll_s: float = 0.5) -> Ready:
        """Poll /v1/models until it lists a model; ServerDied if the child exits first."""
        started = time.monotonic()
        url = f"{self.launch.base_url}/models"
        with httpx.Client(timeout=2.0) as http:
            while True:
                if (error := self.died()) is not None:
                    raise error
                model = _served_model(http, url, self.launch.served_name)
                elapsed = time.monotonic() - started
                if model is not None:
                    return Ready(self.launch.base_url, model, elapsed)
                if elapsed > timeout_s:
                    raise ServerDied(f"no answer on {url} after {timeout_s:.0f}s; its log: {self.log_path}",
                                     log_tail(self.log_path))
                last = (log_tail(self.log_path, 1) or "starting").strip()
                on_event(Progress(task="starting the server", done=int(elapsed), detail=last[-160:]))
                time.sleep(poll_s)

    def wait(self, poll_s: float = 0.5) -> ServerDied:
        """Block until the child exits (the caller interrupts this to stop it)."""
        while (error := self.died()) is None:
            time.sleep(poll_s)
        return error

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM the whole group, wait ``grace_s``, then SIGKILL whatever is left."""
        if self.proc is None:
            return
        _signal_group(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        # The leader may be gone while workers it forked linger; the group is killed either way.
        _signal_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _served_model(http: httpx.Client, url: str, wanted: str) -> str | None:
    try:
        response = http.get(url)
        if response.status_code != 200:
            return None
        ids = [m.get("id") for m in response.json().get("data", []) if isinstance(m, dict)]
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    ids = [i for i in ids if isinstance(i, str)]
    if not ids:
        return None
    return wanted if wanted in ids else ids[0]


def serve(launch: Launch, log_path: Path, *, ready_timeout_s: float = 3600.0, grace_s: float = 15.0,
          on_event: EventSink = ignore) -> None:
    """Start, wait until ready, record the endpoint, then serve until interrupted.

    Returns after a clean stop (KeyboardInterrupt: Ctrl-C, or SIGTERM turned into one);
    raises ServerDied, with the log's tail, if the server exits on its own.
    """
    ensure_port_free(launch.host, launch.port)
    server = ServerProcess(launch, log_path)
    try:
        server.start()
        on_event(Phase("starting", f"pid {server.pid}: {launch.argv[0]} (log: {log_path})"))
        ready = server.wait_ready(ready_timeout_s, on_event)
        written = write_endpoint(ready.base_url, ready.model, launch.agent_profile)
        on_event(Phase("ready", f"{ready.base_url} serves {ready.model!r} after {ready.seconds:.0f}s"))
        on_event(Message(f"endpoint written to {written}; Ctrl-C stops the server"))
        raise server.wait()
    except KeyboardInterrupt:
        on_event(Message("stopping the server…"))
        server.stop(grace_s)
        on_event(Phase("stopped", f"pid {server.pid} and its process group"))
    except BaseException:
        server.stop(grace_s)
        raise
