"""Running instances on a Ray cluster: one task per instance, on any node with a free CPU and a
Docker engine. A task whose worker or node dies is re-queued by Ray itself (``max_retries``); an
actor on the head counts each instance's starts, so the summary can name what was re-queued."""

from __future__ import annotations

import contextlib
import sys

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from r1agent.errors import InputError

from .endpoints import EndpointChooser
from .local_pool import OnRecord
from .progress import BatchProgress
from .records import InstanceRecord
from .worker import WorkItem, run_instance

MAX_RETRIES = 3  # re-queues after a lost worker or node; errors inside an instance are its record, never retried


class AttemptLog:
    """Which nodes started each instance; lives on the head, beside the driver."""

    def __init__(self) -> None:
        self.starts: dict[str, list[str]] = {}

    def start(self, instance_id: str, node_id: str) -> int:
        self.starts.setdefault(instance_id, []).append(node_id)
        return len(self.starts[instance_id])

    def all(self) -> dict[str, list[str]]:
        return self.starts


def instance_task(item_json: str, attempts, endpoints: list[str]) -> str:
    """One instance on whichever node Ray chose; the record goes back to the head as JSON."""
    item = WorkItem.model_validate_json(item_json)
    node = ray.get_runtime_context().get_node_id()
    attempt = ray.get(attempts.start.remote(item.instance.instance_id, node))
    endpoint = EndpointChooser(endpoints).acquire()
    record = run_instance(item.model_copy(update={"endpoint": endpoint}))
    record.attempts = attempt
    return record.model_dump_json()


def connect(address: str) -> None:
    try:
        ray.init(address=address, logging_level="ERROR", log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise InputError(f"--ray {address}: cannot join the Ray cluster: {str(e).strip().splitlines()[0]}") from None


def run_ray(address: str, items: list[WorkItem], endpoints: list[str], on_record: OnRecord,
            progress: BatchProgress) -> dict[str, list[str]]:
    """Run every item as a Ray task; returns {instance_id: nodes that started it} for re-queued ones."""
    # Ray prints cluster notices (a dead node, a retried task) on the driver's stdout; stdout is for --json.
    with contextlib.redirect_stdout(sys.stderr):
        return _run(address, items, endpoints, on_record, progress)


def _run(address: str, items: list[WorkItem], endpoints: list[str], on_record: OnRecord,
         progress: BatchProgress) -> dict[str, list[str]]:
    connect(address)
    try:
        head = ray.get_runtime_context().get_node_id()
        attempts = ray.remote(num_cpus=0)(AttemptLog).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(head, soft=False)).remote()
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(instance_task)
        by_ref = {task.remote(item.model_dump_json(), attempts, endpoints): item for item in items}
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        for _ in range(min(slots, len(items))):
            progress.started()
        pending = list(by_ref)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            item = by_ref[ready[0]]
            try:
                record = InstanceRecord.model_validate_json(ray.get(ready[0]))
            except ray.exceptions.RayError as e:
                # Retries exhausted (nodes kept dying), or the task could not run at all.
                record = InstanceRecord(instance_id=item.instance.instance_id, repo=item.instance.repo_name,
                                        status="error", error=f"lost on the cluster: {type(e).__name__}",
                                        attempts=MAX_RETRIES + 1)
            on_record(record)
            progress.finished(record)
            if len(pending) >= slots:
                progress.started()
        starts = ray.get(attempts.all.remote())
        return {iid: nodes for iid, nodes in starts.items() if len(nodes) > 1}
    finally:
        ray.shutdown()
