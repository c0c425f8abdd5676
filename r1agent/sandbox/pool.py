"""Running candidates side by side, each in its own sandbox, at most N at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_parallel(fn: Callable[[T], R], items: Iterable[T], max_workers: int) -> list[R]:
    """``[fn(item) for item in items]`` in up to ``max_workers`` threads; the first error is raised after all end."""
    items = list(items)
    if not items:
        return []
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items))), thread_name_prefix="r1agent-candidate")
    try:
        futures = [pool.submit(fn, item) for item in items]
        errors = [f.exception() for f in futures]
    except BaseException:  # Ctrl-C: start nothing new; running ones end through their own cleanup
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        raise first
    return [f.result() for f in futures]
