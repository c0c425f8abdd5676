"""Run records: one folder per run under the state dir, with a crash-safe JSONL log of
events, prompts, answers, reasoning, test reports and timings, read back by `r1agent runs`."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from r1agent.errors import InputError


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def runs_dir(state_dir: Path) -> Path:
    return state_dir / "runs"


@dataclass
class RunMeta:
    run_id: str
    repo: str
    issue: str
    created: float
    status: str = "running"
    exit_code: int | None = None
    result: str = ""
    summary: dict | None = None


class RunLog:
    """Appends records to ``events.jsonl``; each line is flushed and fsynced, so a killed run
    keeps everything it wrote."""

    def __init__(self, run_dir: Path):
        self.dir = run_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file = open(run_dir / "events.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def __call__(self, kind: str, data: dict) -> None:
        line = json.dumps({"t": round(time.time(), 3), "kind": kind, **data}, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def event(self, event) -> None:
        self("event", {"type": type(event).__name__, **dataclasses.asdict(event)})

    def close(self) -> None:
        self._file.close()


def write_meta(run_dir: Path, meta: RunMeta) -> None:
    tmp = run_dir / "meta.json.tmp"
    tmp.write_text(json.dumps(dataclasses.asdict(meta), indent=2, default=str), encoding="utf-8")
    tmp.replace(run_dir / "meta.json")


def read_meta(state_dir: Path, run_id: str) -> RunMeta:
    path = runs_dir(state_dir) / run_id / "meta.json"
    if not path.is_file():
        raise InputError(f"no run {run_id!r} under {runs_dir(state_dir)} (see `r1agent runs ls`)")
    return RunMeta(**json.loads(path.read_text(encoding="utf-8")))


def list_runs(state_dir: Path) -> list[RunMeta]:
    metas = []
    for path in sorted(runs_dir(state_dir).glob("*/meta.json")):
        try:
            metas.append(RunMeta(**json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, TypeError):
            continue
    return metas


def read_records(state_dir: Path, run_id: str) -> list[dict]:
    path = runs_dir(state_dir) / run_id / "events.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a kill -9
    return out
