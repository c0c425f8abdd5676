"""The batch summary: counts, resolved rate, throughput and re-queued instances, kept in summary.json."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from .records import InstanceRecord

SUMMARY = "summary.json"


class BatchSummary(BaseModel):
    total: int
    finished: int
    verified: int
    unverified: int
    errors: int
    timeouts: int
    env_errors: int = 0
    """Instances whose environment could not run their tests (install failed, baseline broken)."""
    evaluated: int
    resolved: int
    ran_now: int = 0
    """Instances this invocation ran (the rest were finished by an earlier one)."""
    wall_s: float = 0.0
    instances_per_hour: float = 0.0
    requeued: dict[str, list[str]] = Field(default_factory=dict)
    """Instances re-queued after losing their worker: instance id -> the nodes that started it."""

    @property
    def resolved_rate(self) -> float | None:
        return self.resolved / self.evaluated if self.evaluated else None

    @property
    def verified_rate(self) -> float | None:
        return self.verified / self.finished if self.finished else None


def summarize_batch(records: list[InstanceRecord], total: int, ran_now: int = 0, wall_s: float = 0.0,
                    requeued: dict[str, list[str]] | None = None) -> BatchSummary:
    evaluated = [r for r in records if r.evaluation is not None]
    return BatchSummary(
        total=total, finished=len(records),
        verified=sum(r.status == "verified" for r in records),
        unverified=sum(r.status == "unverified" for r in records),
        errors=sum(r.status == "error" for r in records),
        timeouts=sum(r.status == "timeout" for r in records),
        env_errors=sum(r.status == "env_error" for r in records),
        evaluated=len(evaluated), resolved=sum(r.evaluation.resolved for r in evaluated),
        ran_now=ran_now, wall_s=round(wall_s, 2),
        instances_per_hour=round(ran_now / wall_s * 3600, 2) if wall_s > 0 and ran_now else 0.0,
        requeued=requeued or {},
    )


def write_summary(out_dir: Path, summary: BatchSummary) -> Path:
    path = out_dir / SUMMARY
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary.model_dump(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_summary(out_dir: Path) -> BatchSummary | None:
    path = out_dir / SUMMARY
    try:
        return BatchSummary.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
