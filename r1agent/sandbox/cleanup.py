"""Finding and removing what r1agent left in Docker: on request (prune) and after a crash (next start)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import docker
from docker.errors import APIError, NotFound

from r1agent.sandbox import labels


@dataclass(frozen=True)
class PruneCounts:
    containers: int = 0
    volumes: int = 0
    images: int = 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_state(obj_labels: dict[str, str]) -> str:
    """'alive' or 'dead' for objects made on this host by a known process; 'unknown' otherwise."""
    pid = obj_labels.get(labels.OWNER_PID, "")
    if obj_labels.get(labels.OWNER_HOST) != socket.gethostname() or not pid.isdigit():
        return "unknown"
    return "alive" if _pid_alive(int(pid)) else "dead"


def _orphaned(obj_labels: dict[str, str]) -> bool:
    """Made here by a process that is gone (a crash, a kill -9): nobody else will remove it."""
    return _owner_state(obj_labels) == "dead"


def _in_use(obj_labels: dict[str, str]) -> bool:
    """Owned by a live r1agent process on this host: a run in progress, which prune leaves alone."""
    return _owner_state(obj_labels) == "alive"


def _remove_container(container) -> bool:
    try:
        container.remove(force=True, v=True)
        return True
    except NotFound:
        return False
    except APIError as e:  # already being removed by its owner
        return "already in progress" in str(e)


def _remove_volumes(client: docker.DockerClient, only_orphans: bool) -> int:
    removed = 0
    for vol in client.volumes.list(filters=labels.owned_filter()):
        vol_labels = vol.attrs.get("Labels") or {}
        if (only_orphans and not _orphaned(vol_labels)) or _in_use(vol_labels):
            continue
        try:
            vol.remove(force=True)
            removed += 1
        except (NotFound, APIError):
            pass  # still attached to a live container
    return removed


def remove_crash_leftovers(client: docker.DockerClient) -> PruneCounts:
    """Remove containers and volumes whose creating process died without cleaning up."""
    containers = [c for c in client.containers.list(all=True, filters=labels.owned_filter(), ignore_removed=True) if _orphaned(c.labels)]
    n = sum(_remove_container(c) for c in containers)
    return PruneCounts(containers=n, volumes=_remove_volumes(client, only_orphans=True))


def prune(client: docker.DockerClient, include_base: bool = False) -> PruneCounts:
    """Remove r1agent's containers, volumes and environment images (and the base image if asked).

    Containers of runs still in progress on this host, and the images they use, are kept.
    """
    containers = [c for c in client.containers.list(all=True, filters=labels.owned_filter(), ignore_removed=True) if not _in_use(c.labels)]
    n_containers = sum(_remove_container(c) for c in containers)
    n_volumes = _remove_volumes(client, only_orphans=False)
    kinds = ["env"] + (["base"] if include_base else [])
    n_images = 0
    for kind in kinds:
        for image in client.images.list(filters=labels.owned_filter(kind)):
            try:
                client.images.remove(image.id)
                n_images += 1
            except (NotFound, APIError):
                pass  # used by a container that is kept
    return PruneCounts(containers=n_containers, volumes=n_volumes, images=n_images)
