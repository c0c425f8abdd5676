"""Running instances on this machine: N at once, each in its own child processes (see worker.py);
the sandbox bound across them is the slot set every child shares."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from .endpoints import EndpointChooser
from .progress import BatchProgress
from .records import InstanceRecord
from .worker import WorkItem, run_instance, stop_children

OnRecord = Callable[[InstanceRecord], None]


def run_local(items: list[WorkItem], workers: int, chooser: EndpointChooser, on_record: OnRecord,
              progress: BatchProgress) -> None:
    """Run every item; ``on_record`` sees each record as soon as it exists (it runs in this thread)."""

    def one(item: WorkItem) -> InstanceRecord:
        endpoint = chooser.acquire()
        progress.started()
        try:
            return run_instance(item.model_copy(update={"endpoint": endpoint}))
        finally:
            chooser.release(endpoint)

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="r1agent-batch")
    try:
        futures = [pool.submit(one, item) for item in items]
        for future in as_completed(futures):
            record = future.result()
            on_record(record)
            progress.finished(record)
    except BaseException:
        # Ctrl-C: start nothing new and stop what runs; those instances have no record, so they rerun.
        pool.shutdown(wait=False, cancel_futures=True)
        stop_children()
        raise
    pool.shutdown(wait=True)
