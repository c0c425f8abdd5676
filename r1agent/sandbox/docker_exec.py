"""One ``docker exec`` with a wall-clock limit and capped, demultiplexed output."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from docker import APIClient

from r1agent.sandbox.execution import CappedBuffer


@dataclass
class RawExec:
    exec_id: str
    exit_code: int | None
    stdout: CappedBuffer
    stderr: CappedBuffer
    duration_s: float
    timed_out: bool


def run_exec(
    api: APIClient,
    container_id: str,
    cmd: Sequence[str],
    *,
    user: str,
    workdir: str,
    environment: dict[str, str] | None,
    timeout: float | None,
    cap: int,
    on_timeout: Callable[[], None],
    inspect: bool = True,
) -> RawExec:
    """Run ``cmd``; past ``timeout`` call ``on_timeout`` (which must end the process tree) and collect what came.

    ``inspect=False`` skips asking the engine for the exit code, for callers whose command reports it itself.
    """
    start = time.monotonic()
    exec_id = api.exec_create(
        container_id, list(cmd), stdout=True, stderr=True, user=user, workdir=workdir, environment=environment
    )["Id"]
    out, err = CappedBuffer(cap), CappedBuffer(cap)
    stream = api.exec_start(exec_id, stream=True, demux=True)

    def pump() -> None:
        for o, e in stream:
            if o:
                out.add(o)
            if e:
                err.add(e)

    # A thread reads so that the caller can stop waiting at the deadline; the stream itself can't time out.
    reader = threading.Thread(target=pump, name="r1agent-exec-reader", daemon=True)
    reader.start()
    reader.join(timeout)
    timed_out = reader.is_alive()
    if timed_out:
        on_timeout()
        reader.join(30)
    exit_code = api.exec_inspect(exec_id).get("ExitCode") if inspect and not timed_out else None
    return RawExec(exec_id, exit_code, out, err, time.monotonic() - start, timed_out)
