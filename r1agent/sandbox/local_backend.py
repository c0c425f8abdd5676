"""The weaker backend for hosts without Docker: a temporary copy of the repo on the host.

Under bubblewrap (when installed) the command sees a read-only host, a private /tmp, no network and its
own pid namespace. Without bubblewrap it is only a separate directory. Used only when asked for.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from r1agent.errors import SandboxError
from r1agent.events import EventSink, Message, ignore
from r1agent.sandbox.baseline import FrozenSnapshot
from r1agent.sandbox.cleanup import PruneCounts
from r1agent.sandbox.execution import CappedBuffer, ExecResult
from r1agent.sandbox.pool import run_parallel
from r1agent.sandbox.sandbox import Sandbox, work_path
from r1agent.settings import Settings

T = TypeVar("T")
R = TypeVar("R")
TEMP_PREFIX = "r1agent-local-"


def _bwrap_prefix(work: Path) -> list[str]:
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return []
    # A fresh /tmp hides the host's; a Python (venv) installed under /tmp must stay visible, read-only.
    pythons = sorted({p for p in (sys.prefix, sys.base_prefix) if Path(p).resolve().is_relative_to("/tmp")})
    keep = [arg for p in pythons for arg in ("--ro-bind", p, p)]
    return [
        bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", *keep,
        "--bind", str(work), str(work), "--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session",
        "--setenv", "HOME", "/tmp", "--chdir", str(work),
    ]


class LocalSandbox(Sandbox):
    """A temporary directory holding the snapshot; commands run there, jailed by bubblewrap when present."""

    python = sys.executable

    def __init__(self, settings: Settings, work: Path):
        self.settings, self.work, self.name = settings, work, work.name
        self.prefix = _bwrap_prefix(work)

    def exec(self, cmd: str | list[str], timeout: float | None = None) -> ExecResult:
        limit = timeout if timeout is not None else self.settings.sandbox.timeout
        start = time.monotonic()
        proc = subprocess.Popen(
            [*self.prefix, *self._shell(cmd)], cwd=self.work, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
        out, err = CappedBuffer(self.settings.sandbox.output_cap), CappedBuffer(self.settings.sandbox.output_cap)
        readers = [threading.Thread(target=self._pump, args=(s, b), daemon=True) for s, b in ((proc.stdout, out), (proc.stderr, err))]
        for r in readers:
            r.start()
        try:
            proc.wait(limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            self._kill_group(proc.pid)  # the tree of a timed-out command, or what a finished one left behind
        proc.wait()
        for r in readers:
            r.join(10)
        stderr = err.text()
        if timed_out:
            stderr += f"\n[r1agent: timed out after {limit:g}s; the process group was killed]\n"
        return ExecResult(
            exit_code=124 if timed_out else proc.returncode, stdout=out.text(), stderr=stderr,
            duration_s=time.monotonic() - start, timed_out=timed_out, truncated=out.truncated or err.truncated,
        )

    @staticmethod
    def _pump(stream, buf: CappedBuffer) -> None:
        while chunk := stream.read1(65536):
            buf.add(chunk)

    @staticmethod
    def _kill_group(pgid: int) -> None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def write_file(self, path: str, content: str) -> None:
        target = self.work / work_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")

    def read_file(self, path: str) -> str:
        try:
            return (self.work / work_path(path)).read_text(encoding="utf-8", errors="replace")
        except OSError as e:
            raise SandboxError(f"cannot read {path} in the sandbox: {e.strerror}") from None

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


class LocalBackend(FrozenSnapshot):
    """Same interface as DockerBackend, on the host. No image, no resource limits, weaker isolation."""

    name = "local"

    def __init__(self, settings: Settings, repo: Path, on_event: EventSink | None = None):
        self.settings, self.repo, self.on_event = settings, repo, on_event or ignore
        jail = "bubblewrap" if shutil.which("bwrap") else "no isolation (bubblewrap is not installed)"
        self.on_event(Message(f"local sandbox backend: runs on this host with {jail}; Docker is safer", level="warning"))

    def ensure_image(self) -> str:
        return "local"

    @contextmanager
    def create(self, label: str = "sandbox") -> Iterator[LocalSandbox]:
        work = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{label[:20]}-"))
        sb = LocalSandbox(self.settings, work)
        try:
            with tarfile.open(fileobj=io.BytesIO(self.snapshot())) as archive:
                archive.extractall(work, filter="data")
            yield sb
        finally:
            sb.close()

    def prune(self, include_base: bool = False) -> PruneCounts:
        return PruneCounts()

    def run_parallel(self, fn: Callable[[T], R], items: Iterable[T], max_workers: int | None = None) -> list[R]:
        return run_parallel(fn, items, max_workers or self.settings.sandbox.parallel)
