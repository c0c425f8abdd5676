"""The batch's output, written crash-safe: ``predictions.jsonl`` (what SWE-bench's harness reads)
and ``records.jsonl`` (one line per finished instance). Each line is appended, flushed and fsynced;
a line cut short by a crash is dropped when the store is next opened, so a killed batch loses only
the instances that were in flight, and those rerun."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

PREDICTIONS = "predictions.jsonl"
RECORDS = "records.jsonl"
InstanceStatus = Literal["verified", "unverified", "gold", "env_error", "error", "timeout"]


class Prediction(BaseModel):
    """One line of predictions.jsonl, exactly the three fields SWE-bench's harness reads."""

    instance_id: str
    model_name_or_path: str
    model_patch: str


class Evaluation(BaseModel):
    """SWE-bench's verdict on one prediction: test_patch plus model patch, then the named tests."""

    resolved: bool
    patch_applied: bool
    fail_to_pass: list[str] = Field(default_factory=list)
    still_failing: list[str] = Field(default_factory=list)
    pass_to_pass: list[str] = Field(default_factory=list)
    pass_to_fail: list[str] = Field(default_factory=list)
    error: str = ""
    duration_s: float = 0.0


class Usage(BaseModel):
    prompt: int = 0
    completion: int = 0
    reasoning: int = 0
    calls: int = 0
    total: int = 0


class InstanceRecord(BaseModel):
    """What one instance came to. ``attempts`` above 1 means it was re-queued after losing its worker."""

    instance_id: str
    repo: str
    status: InstanceStatus
    model_patch: str = ""
    base_commit: str = ""
    endpoint: str = ""
    host: str = ""
    run_dir: str = ""
    rounds: int = 0
    usage: Usage = Field(default_factory=Usage)
    duration_s: float = 0.0
    stop_reason: str = ""
    error: str = ""
    notes: list[str] = Field(default_factory=list)  # e.g. repository settings that were ignored
    attempts: int = 1
    evaluation: Evaluation | None = None

    @property
    def failed(self) -> bool:
        return self.status in ("env_error", "error", "timeout")


def _repair(path: Path) -> None:
    """Cut a last line left without its newline by a crash; it was never acknowledged."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)
            os.fsync(fh.fileno())


def _read_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _rewrite(path: Path, lines: list[str]) -> None:
    """Replace ``path`` atomically: write a sibling, fsync it, rename it over."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.writelines(line + "\n" for line in lines)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_records(out_dir: Path) -> list[InstanceRecord]:
    """Every finished instance, the last record winning when an id appears twice."""
    by_id: dict[str, InstanceRecord] = {}
    for data in _read_lines(out_dir / RECORDS):
        try:
            rec = InstanceRecord.model_validate(data)
        except ValidationError:
            continue
        by_id[rec.instance_id] = rec
    return list(by_id.values())


class RecordStore:
    """Appends predictions and records; the record is written last, so it marks an instance finished."""

    def __init__(self, out_dir: Path):
        self.dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.predictions, self.records = out_dir / PREDICTIONS, out_dir / RECORDS
        _repair(self.records)
        _repair(self.predictions)
        self._drop_unfinished_predictions()
        self._lock = threading.Lock()

    def _drop_unfinished_predictions(self) -> None:
        """A crash between the prediction and its record leaves a prediction of an instance that
        will rerun; drop it (and any duplicate) so each instance appears once."""
        finished = self.finished_ids()
        seen: set[str] = set()
        keep: list[str] = []
        for data in _read_lines(self.predictions):
            iid = data.get("instance_id")
            if iid in finished and iid not in seen:
                seen.add(iid)
                keep.append(json.dumps(data))
        if self.predictions.exists() and len(keep) != len(self.predictions.read_text(encoding="utf-8").splitlines()):
            _rewrite(self.predictions, keep)

    def finished_ids(self) -> set[str]:
        return {r.instance_id for r in read_records(self.dir)}

    def add(self, record: InstanceRecord, model_name: str) -> None:
        """Write the prediction, then the record that marks the instance finished."""
        pred = Prediction(instance_id=record.instance_id, model_name_or_path=model_name, model_patch=record.model_patch)
        with self._lock:
            self._append(self.predictions, pred.model_dump_json())
            self._append(self.records, record.model_dump_json())

    @staticmethod
    def _append(path: Path, line: str) -> None:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
