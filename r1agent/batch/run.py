"""One batch invocation: load the instances, skip the finished ones, run the rest locally or on
Ray, append each record as it arrives, then write the summary and the report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from r1agent.errors import InputError

from .endpoints import EndpointChooser
from .instances import load_instances
from .progress import BatchProgress
from .records import InstanceRecord, RecordStore, read_records
from .report import write_report
from .summary import BatchSummary, read_summary, summarize_batch, write_summary
from .worker import WorkItem


class BatchOptions(BaseModel):
    """What the person asked for on the command line."""

    instances_file: Path
    out_dir: Path
    endpoints: list[str]
    """R1 endpoints (base URLs ending in /v1); each instance goes to the least loaded."""
    flags: dict[str, Any] = Field(default_factory=dict)
    workers: int = Field(1, ge=1)
    timeout: float | None = Field(None, gt=0)
    ray_address: str | None = None
    evaluate: bool = False
    mirrors: Path | None = None
    clone_base: str = "https://github.com"
    model_name: str = "r1agent"
    reproduce: bool = True
    sandbox_slots: int = Field(4, ge=1)
    """Sandboxes alive at once on one host, across every worker."""
    gold: bool = False
    """Each instance's gold patch is its prediction (no model), as SWE-bench's harness validation does."""
    progress: bool = True


def _check(opts: BatchOptions) -> None:
    if not opts.endpoints:
        raise InputError("no endpoint: pass --endpoint URL or set endpoint.base_url")
    if opts.mirrors is not None and not opts.mirrors.is_dir():
        raise InputError(f"--mirrors {opts.mirrors}: not a directory")
    if opts.evaluate and opts.flags.get("sandbox.backend") == "local":
        raise InputError("--evaluate grades in the Docker sandbox; drop sandbox.backend=local")


def run_batch(opts: BatchOptions) -> BatchSummary:
    """Run every unfinished instance; safe to call again on the same out dir after a crash."""
    _check(opts)
    instances = load_instances(opts.instances_file)
    out = opts.out_dir.resolve()
    store = RecordStore(out)
    finished = store.finished_ids()
    todo = [i for i in instances if i.instance_id not in finished]
    (out / "batch.json").write_text(json.dumps(opts.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    items = [
        WorkItem(instance=inst, out_dir=str(out), endpoint=opts.endpoints[0], flags=opts.flags,
                 mirrors=str(opts.mirrors.resolve()) if opts.mirrors else None, clone_base=opts.clone_base,
                 timeout=opts.timeout, evaluate=opts.evaluate, reproduce=opts.reproduce,
                 sandbox_slots=opts.sandbox_slots, gold=opts.gold)
        for inst in todo
    ]

    def on_record(record: InstanceRecord) -> None:
        store.add(record, opts.model_name)

    started = time.time()
    requeued: dict[str, list[str]] = {}
    with BatchProgress(len(items), enabled=opts.progress) as progress:
        if opts.ray_address:
            try:
                from .ray_pool import run_ray
            except ImportError:
                raise InputError("--ray needs Ray: pip install 'r1agent[cluster]'") from None
            requeued = run_ray(opts.ray_address, items, opts.endpoints, on_record, progress)
        else:
            from .local_pool import run_local

            run_local(items, opts.workers, EndpointChooser(opts.endpoints), on_record, progress)
    previous = read_summary(out)
    summary = summarize_batch(read_records(out), total=len(instances), ran_now=len(items),
                              wall_s=time.time() - started,
                              requeued=(previous.requeued if previous else {}) | requeued)
    write_summary(out, summary)
    write_report(out)
    return summary
