"""One locked-down container holding a copy of the repo at /work."""

from __future__ import annotations

import os
import re
import uuid

import docker
from docker.errors import APIError, NotFound
from docker.types import Mount

from r1agent.errors import SandboxError
from r1agent.sandbox import labels
from r1agent.sandbox.base_image import SANDBOX_UID
from r1agent.sandbox.docker_exec import run_exec
from r1agent.sandbox.execution import ExecResult
from r1agent.sandbox.sandbox import Sandbox, work_path
from r1agent.sandbox.snapshot import single_file_tar
from r1agent.settings import Settings

USER = f"{SANDBOX_UID}:{SANDBOX_UID}"
# PID 1 reaps orphans, so killed background processes don't pile up as zombies against the pid limit.
REAPER = (
    "import os, signal\n"
    "def reap(*_):\n"
    "    try:\n"
    "        while os.waitpid(-1, os.WNOHANG)[0] > 0: pass\n"
    "    except ChildProcessError: pass\n"
    "signal.signal(signal.SIGCHLD, reap)\n"
    "while True: signal.pause()\n"
)
# Runs the command, then kills whatever it left running (kill -1 spares PID 1 and the caller) and
# reports exit code, leftover count and the cgroup's OOM-kill counter on a last stderr line.
EXEC_WRAPPER = r"""
"$@"
rc=$?
n=0
for p in /proc/[0-9]*; do
  p=${p#/proc/}
  [ "$p" = 1 ] || [ "$p" = $$ ] || { read -r s < /proc/$p/stat; case "$s" in *") Z "*) ;; *) n=$((n+1));; esac; } 2>/dev/null
done
[ "$n" -gt 0 ] && kill -9 -1 2>/dev/null
o=0
for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do
  [ -r "$f" ] && while read -r k v; do [ "$k" = oom_kill ] && o=$v; done < "$f"
done
printf '\n@@r1agent-exit %s %s %s\n' "$rc" "$n" "$o" >&2
exit "$rc"
"""
_MARKER = re.compile(r"\n?@@r1agent-exit (\d+) (\d+) (\d+)\n?$")


class DockerSandbox(Sandbox):
    """A container: no network, non-root, limited memory/CPU/pids, read-only root, writable /work and /tmp."""

    def __init__(self, client: docker.DockerClient, settings: Settings, container, name: str):
        self.client, self.settings, self.container, self.name = client, settings, container, name
        self._oom_seen = 0

    @classmethod
    def start(cls, client: docker.DockerClient, settings: Settings, image: str, label: str, snapshot: bytes) -> DockerSandbox:
        cfg = settings.sandbox
        name = f"r1agent-{re.sub(r'[^a-zA-Z0-9_.-]+', '-', label)[:40]}-{uuid.uuid4().hex[:8]}"
        own = labels.owned("sandbox")
        container = client.containers.create(
            image, command=["python3", "-c", REAPER], name=name, user=USER, working_dir="/work",
            network_mode="none", read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
            mem_limit=cfg.memory, memswap_limit=cfg.memory, pids_limit=cfg.pids_limit,
            nano_cpus=int(min(cfg.cpus, os.cpu_count() or 1) * 1e9),
            tmpfs={"/tmp": "rw,exec,nosuid,mode=1777"},
            mounts=[Mount(target="/work", source=None, type="volume", labels=own)],
            environment={"HOME": "/tmp", "PYTHONUNBUFFERED": "1"}, labels=own,
        )
        sb = cls(client, settings, container, name)
        try:
            container.put_archive("/work", snapshot)
            container.start()
        except BaseException:
            sb.close()
            raise
        return sb

    def _restart(self) -> None:
        """Killing PID 1 ends every process in the container's pid namespace; /work survives the restart."""
        try:
            self.container.kill()
        except APIError:
            pass  # already stopped
        self.container.start()

    def exec(self, cmd: str | list[str], timeout: float | None = None, _retry: bool = True) -> ExecResult:
        limit = timeout if timeout is not None else self.settings.sandbox.timeout
        argv = ["sh", "-c", EXEC_WRAPPER, "r1agent-exec", *self._shell(cmd)]
        try:
            raw = run_exec(
                self.client.api, self.container.id, argv, user=USER, workdir="/work", environment=None,
                timeout=limit, cap=self.settings.sandbox.output_cap, on_timeout=self._restart, inspect=False,
            )
        except NotFound:
            raise SandboxError(f"sandbox {self.name} is gone (removed by `r1agent sandbox prune`?)") from None
        except APIError as e:
            if e.status_code != 409 or not _retry:  # 409: not running, e.g. its PID 1 was OOM-killed
                raise SandboxError(f"exec in {self.name} failed: {e.explanation or e}") from None
            self._restart()
            return self.exec(cmd, timeout, _retry=False)
        stdout, stderr = raw.stdout.text(), raw.stderr.text()
        marker = _MARKER.search(stderr)
        exit_code, leftovers, oom = 124, 0, False
        if not marker and not raw.timed_out:  # the wrapper itself was killed (OOM, or a kill -9 -1 from the command)
            code = self.client.api.exec_inspect(raw.exec_id).get("ExitCode")
            exit_code = 137 if code is None else code
        if marker:
            stderr = stderr[: marker.start()]
            exit_code, leftovers = int(marker.group(1)), int(marker.group(2))
            oom, self._oom_seen = int(marker.group(3)) > self._oom_seen, max(self._oom_seen, int(marker.group(3)))
        notes = []
        if raw.timed_out:
            notes.append(f"[r1agent: timed out after {limit:g}s; every process of the command was killed]")
        if oom:
            notes.append(f"[r1agent: out of memory (limit {self.settings.sandbox.memory}); the process was killed]")
        if leftovers:
            notes.append(f"[r1agent: {leftovers} background process(es) left running were killed]")
        if notes:
            stderr = stderr.rstrip("\n") + ("\n" if stderr.strip() else "") + "\n".join(notes) + "\n"
        return ExecResult(
            exit_code=exit_code, stdout=stdout, stderr=stderr, duration_s=raw.duration_s, timed_out=raw.timed_out,
            truncated=raw.stdout.truncated or raw.stderr.truncated, oom_killed=oom, leftover_processes=leftovers,
        )

    def write_file(self, path: str, content: str) -> None:
        self.container.put_archive("/work", single_file_tar(work_path(path), content.encode("utf-8")))

    def read_file(self, path: str) -> str:
        raw = run_exec(
            self.client.api, self.container.id, ["cat", "--", "/work/" + work_path(path)], user=USER,
            workdir="/work", environment=None, timeout=60, cap=self.settings.sandbox.output_cap * 50,
            on_timeout=self._restart,
        )
        if raw.exit_code != 0:
            raise SandboxError(f"cannot read {path} in the sandbox: {raw.stderr.text().strip()}")
        return raw.stdout.text()

    def close(self) -> None:
        """Remove the container and its /work volume; safe to call twice."""
        try:
            self.container.remove(force=True, v=True)
        except NotFound:
            pass
