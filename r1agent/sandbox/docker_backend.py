"""The default backend: images built and cached per repo, one container per candidate."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import docker

from r1agent.events import EventSink, Message, ignore
from r1agent.sandbox.base_image import ensure_base_image, image_exists
from r1agent.sandbox.baseline import FrozenSnapshot
from r1agent.sandbox.cleanup import PruneCounts, prune, remove_crash_leftovers
from r1agent.sandbox.docker_connect import connect
from r1agent.sandbox.docker_sandbox import DockerSandbox
from r1agent.sandbox.env_image import build_limits, ensure_env_image
from r1agent.sandbox.host_install_env import host_install_env
from r1agent.sandbox.pool import run_parallel
from r1agent.sandbox.python_choice import PythonChoice, choose_python, dependency_cutoff
from r1agent.settings import Settings

T = TypeVar("T")
R = TypeVar("R")


class DockerBackend(FrozenSnapshot):
    """Builds the images for ``repo`` and hands out fresh containers with its snapshot copied in."""

    name = "docker"

    def __init__(self, settings: Settings, repo: Path, on_event: EventSink | None = None,
                 client: docker.DockerClient | None = None):
        self.settings, self.repo, self.on_event = settings, repo, on_event or ignore
        self.client = client or connect()
        self._image: str | None = None
        self._announced = False
        self._lock = threading.Lock()  # parallel candidates must not build the same image twice
        left = remove_crash_leftovers(self.client)
        if left.containers or left.volumes:
            self.on_event(Message(f"removed {left.containers} container(s) left by a crashed run"))

    def python(self) -> PythonChoice | None:
        """The Python chosen for this repo, or None when sandbox.base_image names the image."""
        cfg = self.settings.sandbox
        return None if cfg.base_image else choose_python(self.repo, cfg.python)

    def ensure_image(self) -> str:
        """The environment image for the repo as it is now (base and dependencies), built when missing."""
        cfg = self.settings.sandbox
        choice = self.python()
        if choice is not None and not self._announced:
            self.on_event(Message(f"sandbox python {choice.version} (Debian {choice.suite}): {choice.reason}"))
            self._announced = True
        base = ensure_base_image(self.client, cfg.base_image or choice.base_tag, self.settings.cache_dir / "base-build",
                                 self.on_event, None if choice is None else choice.suite)
        cutoff = dependency_cutoff(cfg.dependency_date, self.repo, choice and choice.version)
        self._image = ensure_env_image(
            self.client, self.repo, base, cfg.setup, host_install_env(cfg.ca_bundle), cfg.timeout, self.on_event,
            limits=build_limits(cfg.memory, cfg.cpus, cfg.pids_limit), cutoff=cutoff,
            relax_pins=cutoff is not None and choice is not None and choice.newer_than_declared,
        )
        return self._image

    @contextmanager
    def create(self, label: str = "sandbox") -> Iterator[DockerSandbox]:
        """A fresh container with the repo's current snapshot at /work; removed when the block ends, however it ends."""
        with self._lock:
            # Re-checked each time: a prune may have removed the image since ensure_image().
            image = self._image if self._image and image_exists(self.client, self._image) else self.ensure_image()
            snapshot = self.snapshot()
        sb = DockerSandbox.start(self.client, self.settings, image, label, snapshot)
        try:
            yield sb
        finally:
            sb.close()

    def prune(self, include_base: bool = False) -> PruneCounts:
        return prune(self.client, include_base=include_base)

    def run_parallel(self, fn: Callable[[T], R], items: Iterable[T], max_workers: int | None = None) -> list[R]:
        return run_parallel(fn, items, max_workers or self.settings.sandbox.parallel)
