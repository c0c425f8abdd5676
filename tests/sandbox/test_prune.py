"""`r1agent sandbox prune` removes what r1agent made, except runs still in progress and the base image."""

from __future__ import annotations

import subprocess
import sys

import pytest

from r1agent.sandbox import labels
from r1agent.sandbox.cleanup import prune
from r1agent.sandbox.docker_backend import DockerBackend

pytestmark = pytest.mark.docker


def test_prune_removes_dead_runs_and_env_images_but_keeps_live_runs_and_the_base(
    docker_client, base_image, make_repo, sample_files, make_settings
):
    repo = make_repo(sample_files)
    backend = DockerBackend(make_settings(), repo, client=docker_client)
    env_tag = backend.ensure_image()
    # A container whose owner is gone: made by a process that has exited, labelled as ours.
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = docker_client.containers.create(
        env_tag, ["true"], labels={**labels.owned("sandbox"), labels.OWNER_PID: dead_pid.stdout.strip()}
    )
    with backend.create("live") as live:
        counts = prune(docker_client)
        names = {c.name for c in docker_client.containers.list(all=True)}
        assert live.name in names and stale.name not in names
        assert counts.containers >= 1
        assert live.exec("echo running").ok
    done = subprocess.run(
        [sys.executable, "-m", "r1agent", "-C", str(repo), "sandbox", "prune"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("removed ")
    assert not docker_client.images.list(name=env_tag.split(":")[0])
    assert docker_client.images.get(base_image)
