"""A bound on sandboxes alive at once across every worker process of a host: K slot files, each
held with flock. The kernel drops a lock when its holder dies, so a killed worker never leaks a slot."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_POLL_S = 0.1
_SWEEP_TRIES = 4


class SandboxSlots:
    def __init__(self, directory: Path, count: int):
        self.dir, self.count = directory, max(1, count)
        directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def hold(self) -> Iterator[int]:
        """Wait for a free slot and keep it for the ``with`` block."""
        while True:
            for i in range(self.count):
                fd = os.open(self.dir / f"slot-{i}", os.O_CREAT | os.O_RDWR, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield i
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
            time.sleep(_POLL_S)


class BoundedBackend:
    """A sandbox backend whose ``create`` first takes a slot; everything else passes through."""

    def __init__(self, backend: Any, slots: SandboxSlots):
        self._backend, self._slots = backend, slots

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    @contextmanager
    def create(self, label: str = "sandbox") -> Iterator[Any]:
        with self._slots.hold(), self._backend.create(label) as sb:
            yield sb


def _racing_sweep(make: Callable[[], T]) -> T:
    """Call ``make`` (which opens a Docker backend), again if it failed on a container gone meanwhile.

    Opening a backend sweeps crash leftovers; docker-py's list() inspects each container and raises
    NotFound when another worker removed one between list and inspect, which parallel workers do.
    """
    from docker.errors import NotFound

    for attempt in range(_SWEEP_TRIES):
        try:
            return make()
        except NotFound:
            if attempt == _SWEEP_TRIES - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def open_bounded_backend(settings, repo: Path, slots: SandboxSlots) -> BoundedBackend:
    from r1agent.sandbox import open_backend

    return BoundedBackend(_racing_sweep(lambda: open_backend(settings, repo)), slots)


def bounded_services_factory(slots: SandboxSlots):
    """The agent's default services, with the sandbox backend bounded by ``slots``."""
    from r1agent.agent.runner import default_services

    def factory(settings, repo, run_dir, log):
        services = _racing_sweep(lambda: default_services(settings, repo, run_dir, log))
        return dataclasses.replace(services, sandbox=BoundedBackend(services.sandbox, slots))

    return factory
