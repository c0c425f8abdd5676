"""One instance in, one record out: materialise the repo, run the agent (hand-off "none": the
repo is never touched, the patch is the prediction), optionally grade it. Each phase runs in a
child process, so a per-instance timeout can kill it whatever it is doing.

    python -m r1agent.batch.worker PHASE ITEM.json RESULT.json     (PHASE: agent | evaluate)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from r1agent.errors import BaselineError, R1AgentError
from r1agent.sandbox.errors import DependencyInstallError

from .instances import Instance
from .records import Evaluation, InstanceRecord, Usage

Phase = Literal["agent", "evaluate"]
KILL_GRACE_S = 10.0
_LIVE: set[subprocess.Popen] = set()  # children of this process, for stop_children()
EVALUATE_EXTRA_S = 120.0  # on top of the test timeout: container start, patching


class WorkItem(BaseModel):
    """Everything a worker needs, as plain data, so it crosses process and node boundaries."""

    instance: Instance
    out_dir: str
    endpoint: str
    flags: dict[str, Any] = Field(default_factory=dict)
    """The settings layer of the batch (--set, endpoint.*), below the per-instance keys set here."""
    mirrors: str | None = None
    clone_base: str = "https://github.com"
    timeout: float | None = None
    evaluate: bool = False
    reproduce: bool = True
    sandbox_slots: int = 4
    gold: bool = False
    """Take the instance's gold patch as the prediction, with no model: validates the setup."""

    @property
    def run_root(self) -> Path:
        return Path(self.out_dir) / "runs" / self.instance.slug

    @property
    def checkout(self) -> Path:
        from .materialize import checkout_path

        return checkout_path(self.instance, Path(self.out_dir) / "work")


def _settings(item: WorkItem, repo: Path):
    from r1agent.settings import load_settings

    flags = dict(item.flags) | {"endpoint.base_url": item.endpoint, "state_dir": str(item.run_root / "state")}
    # An instance's dependencies are resolved as they were at its commit, unless the batch says otherwise.
    flags.setdefault("sandbox.dependency_date", "commit")
    if item.timeout:
        # Stop the agent's loop a little before the hard kill, so it still returns its best patch.
        flags.setdefault("budget.wall_seconds", max(1.0, item.timeout * 0.8))
    return load_settings(repo=repo, flags=flags, repo_policy="ignore")


def _slots(item: WorkItem):
    from .slots import SandboxSlots

    return SandboxSlots(Path(item.out_dir) / ".sandbox-slots", item.sandbox_slots)


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".strip()


def run_agent(item: WorkItem) -> InstanceRecord:
    """The agent phase, in this process: checkout at base_commit, one fix run, the record."""
    from r1agent.agent.runner import FixRequest, FixRun
    from r1agent.agent.state import HandoffRequest

    from .materialize import materialize
    from .slots import bounded_services_factory

    inst, started = item.instance, time.time()
    record = InstanceRecord(instance_id=inst.instance_id, repo=inst.repo_name, status="error",
                            endpoint=item.endpoint, host=socket.gethostname())
    try:
        checkout = materialize(inst, Path(item.out_dir) / "work", Path(item.mirrors) if item.mirrors else None,
                               item.clone_base)
        record.base_commit = checkout.base_commit
        loaded = _settings(item, checkout.path)
        settings, record.notes = loaded.settings, loaded.ignored
        if item.gold:
            if not inst.patch.strip():
                raise ValueError("--gold: the instance has no gold patch (its 'patch' field is empty)")
            record.status, record.model_patch = "gold", inst.patch
            record.duration_s = round(time.time() - started, 2)
            return record
        request = FixRequest(repo=checkout.path, issue=inst.problem_statement, tests=list(inst.tests),
                             handoff=HandoffRequest(mode="none"), reproduce=item.reproduce)
        run = FixRun.create(settings, request, factory=bounded_services_factory(_slots(item)))
        record.run_dir = str(run.services.run_dir)
        try:
            final = run.run(sink=lambda event: None)
        finally:
            run.close()
        if final is None:
            raise RuntimeError("the run stopped at an approval pause")
        best = final.best()
        record.status = "verified" if final.winner else "unverified"
        record.model_patch = best.patch if best else ""
        record.rounds, record.stop_reason = final.round, final.stop_reason
        record.usage = Usage(**final.usage.model_dump(), total=final.usage.total)
    except (BaselineError, DependencyInstallError) as e:  # the environment, not the agent: its cause, in full
        record.status, record.error = "env_error", str(e)
        if isinstance(e, DependencyInstallError):
            record.notes.append(f"install output (tail):\n{e.output_tail}")
    except Exception as e:  # one instance's failure is its record, never the batch's
        traceback.print_exc()  # into the phase's log file, for whoever digs
        record.status, record.error = "error", _one_line(e)
    record.duration_s = round(time.time() - started, 2)
    return record


def run_evaluation(item: WorkItem, record: InstanceRecord) -> Evaluation:
    """The evaluate phase, in this process, on the checkout the agent phase left at base_commit."""
    from .evaluate import evaluate_patch

    settings = _settings(item, item.checkout).settings
    return evaluate_patch(item.instance, item.checkout, record.model_patch, settings, _slots(item))


def _spawn(phase: Phase, item: WorkItem, result: Path, timeout: float | None) -> bool:
    """Run one phase in a child process; False when it had to be killed at ``timeout``."""
    item_file = item.run_root / "item.json"
    item_file.write_text(item.model_dump_json(), encoding="utf-8")
    result.unlink(missing_ok=True)
    with open(item.run_root / f"{phase}.log", "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "r1agent.batch.worker", phase, str(item_file), str(result)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        _LIVE.add(child)
        try:
            child.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            _kill_group(child)
            return False
        except BaseException:  # a lost Ray task: take the child down with us
            _kill_group(child)
            raise
        finally:
            _LIVE.discard(child)


def stop_children() -> None:
    """Kill every phase child still running (the batch was interrupted)."""
    for child in list(_LIVE):
        _kill_group(child, grace=2.0)


def _kill_group(child: subprocess.Popen, grace: float = KILL_GRACE_S) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _remove_killed_sandboxes(item: WorkItem) -> None:
    """Containers of a killed child are orphans now; remove them before they pile up."""
    if item.flags.get("sandbox.backend") == "local":
        return
    try:
        from r1agent.sandbox.cleanup import remove_crash_leftovers
        from r1agent.sandbox.docker_connect import connect

        remove_crash_leftovers(connect())
    except R1AgentError:
        pass


def run_instance(item: WorkItem) -> InstanceRecord:
    """The whole instance under its timeout: the agent phase, then (if asked) the evaluate phase."""
    item.run_root.mkdir(parents=True, exist_ok=True)
    started = time.time()
    result = item.run_root / "agent.json"
    finished = _spawn("agent", item, result, item.timeout)
    if result.exists():
        record = InstanceRecord.model_validate_json(result.read_text(encoding="utf-8"))
    else:
        if finished:
            error = f"the worker process died; see {item.run_root / 'agent.log'}"
            status = "error"
        else:
            error, status = f"timed out after {item.timeout:g}s", "timeout"
            _remove_killed_sandboxes(item)
        record = InstanceRecord(instance_id=item.instance.instance_id, repo=item.instance.repo_name, status=status,
                                endpoint=item.endpoint, host=socket.gethostname(), error=error)
    if item.evaluate and item.instance.evaluable and record.status in ("verified", "unverified", "gold"):
        record.evaluation = _evaluate_in_child(item, record)
    record.duration_s = round(time.time() - started, 2)
    return record


def _evaluate_in_child(item: WorkItem, record: InstanceRecord) -> Evaluation:
    from r1agent.settings import load_settings

    (item.run_root / "agent.json").write_text(record.model_dump_json(), encoding="utf-8")
    result = item.run_root / "evaluation.json"
    limit = load_settings(repo=item.checkout, flags=item.flags, repo_policy="ignore").settings.tests.timeout \
        + EVALUATE_EXTRA_S
    if not _spawn("evaluate", item, result, limit):
        _remove_killed_sandboxes(item)
        return Evaluation(resolved=False, patch_applied=False, error=f"evaluation timed out after {limit:g}s")
    if not result.exists():
        return Evaluation(resolved=False, patch_applied=False, error="the evaluation process died")
    return Evaluation.model_validate_json(result.read_text(encoding="utf-8"))


def _exit_with_parent() -> None:
    """A child whose parent died (a lost Ray node, a killed batch) stops rather than work for nobody."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True, name="r1agent-parent-watch").start()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    phase, item_file, result = argv
    _exit_with_parent()
    item = WorkItem.model_validate_json(Path(item_file).read_text(encoding="utf-8"))
    if phase == "agent":
        out = run_agent(item)
    else:
        record = InstanceRecord.model_validate_json((item.run_root / "agent.json").read_text(encoding="utf-8"))
        try:
            out = run_evaluation(item, record)
        except Exception as e:
            if isinstance(e, DependencyInstallError):  # the installer's own last lines, into evaluate.log
                print(e.output_tail, flush=True)
            out = Evaluation(resolved=False, patch_applied=False, error=_one_line(e))
    _write_atomic(Path(result), out.model_dump_json())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
