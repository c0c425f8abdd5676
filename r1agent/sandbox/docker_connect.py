"""Connect to the Docker engine, or say in one line why not and how to fix it."""

from __future__ import annotations

import os

import docker
from docker.errors import DockerException

from r1agent.errors import SandboxError

API_TIMEOUT_S = 600  # image builds and imports answer only when done


def connect() -> docker.DockerClient:
    """A client that has answered a ping; SandboxError otherwise."""
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.from_env(timeout=API_TIMEOUT_S)
        client.ping()
        return client
    except (DockerException, OSError) as e:
        text = str(e)
        if "ermission denied" in text or isinstance(e, PermissionError):
            raise SandboxError(
                f"permission denied reaching the Docker engine at {where}: add yourself to the docker group "
                "(sudo usermod -aG docker $USER, then log in again), or use --set sandbox.backend=local"
            ) from None
        raise SandboxError(
            f"cannot reach the Docker engine at {where}: start it (sudo systemctl start docker, or dockerd), "
            "check DOCKER_HOST, or use --set sandbox.backend=local"
        ) from None
