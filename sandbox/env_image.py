"""The per-repo environment image: the base plus the repo's dependencies, cached by their hash.

The only step with network access. The repo's files are removed again before the commit, so each
sandbox gets a fresh copy at /work.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import docker

from r1agent.events import EventSink, Progress
from r1agent.sandbox import labels
from r1agent.sandbox.base_image import SANDBOX_UID, VENV, image_exists
from r1agent.sandbox.deps import InstallStep, dependency_files, deps_hash, install_environment, install_plan
from r1agent.sandbox.docker_exec import run_exec
from r1agent.sandbox.errors import DependencyInstallError
from r1agent.sandbox.host_install_env import CONTAINER_CA_PATH, InstallEnv
from r1agent.sandbox.snapshot import single_file_tar, snapshot_paths, snapshot_tar

TAIL_LINES = 20
SANDBOX_USER = "sandbox"
_EMPTY_WORK = f"find /work -mindepth 1 -delete && chown {SANDBOX_UID}:{SANDBOX_UID} /work"


def env_image_tag(repo: Path, digest: str) -> str:
    slug = re.sub(r"[^a-z0-9_.-]+", "-", repo.name.lower()).strip("-.") or "repo"
    return f"r1agent/env-{slug}:{digest[:16]}"


def planned_env_tag(
    client: docker.DockerClient, repo: Path, base_tag: str, setup: str | None,
) -> tuple[str, list[InstallStep], str, dict[str, str]]:
    """The image's tag, its install steps, the digest naming it, and the environment its steps get."""
    files = dependency_files(snapshot_paths(repo))
    environment = install_environment(repo, files)
    digest = deps_hash(repo, files, setup, client.images.get(base_tag).id, environment)
    return env_image_tag(repo, digest), install_plan(repo, files, setup), digest, environment


# pip's and uv's closing words, which say only that something failed "above".
_GENERIC = re.compile(r"subprocess-exited-with-error|See above for (details|output)|^\W*(hint|note):|This error originates|"
                      r"did not run successfully|exit code: \d+|Failed to build|metadata-generation-failed|"
                      r"\[end of output\]|\[\d+ lines of output\]", re.I)
_RAISED = re.compile(r"^\W*((?:\w+\.)*\w*(?:Error|Exception)\b:.*)$")


def install_reason(lines: list[str]) -> str:
    """The line that says why an install failed: the last exception raised (a setup.py's, a build
    backend's), else the last ERROR line that is not pip's closing hint, else the last line."""
    useful = [ln.strip() for ln in lines if ln.strip() and not _GENERIC.search(ln)]
    raised = [m[1] for ln in useful if (m := _RAISED.match(ln))]
    errors = [ln for ln in useful if ln.lstrip("│ ").lower().startswith("error")]
    return (raised or errors or useful or [ln.strip() for ln in lines if ln.strip()] or [""])[-1][:300]


def _failure(step: InstallStep, exit_code: int | None, output: str) -> DependencyInstallError:
    lines = [ln for ln in output.splitlines() if ln.strip()]
    tail = "\n".join(lines[-TAIL_LINES:])
    reason = install_reason(lines)
    what = "timed out (sandbox.timeout)" if exit_code is None else \
        "killed at the memory limit, sandbox.memory" if exit_code == 137 else f"exit {exit_code}"
    return DependencyInstallError(
        f"installing dependencies from {step.source} failed ({what}): {reason}", source=step.source, output_tail=tail
    )


def build_limits(memory: str, cpus: float, pids_limit: int) -> dict:
    """The build container's bounds: the sandbox's own memory, CPU and process limits."""
    return {"mem_limit": memory, "memswap_limit": memory, "pids_limit": pids_limit,
            "nano_cpus": int(min(cpus, os.cpu_count() or 1) * 1e9)}


def ensure_env_image(
    client: docker.DockerClient, repo: Path, base_tag: str, setup: str | None, install_env: InstallEnv,
    timeout: float, on_event: EventSink, limits: dict | None = None,
) -> str:
    """Return the environment image tag for ``repo``, building it when its dependency hash is new.

    The build runs the repo's own code (setup.py, build backends) with network, so it is bounded: memory,
    CPU and process limits (``limits``), a time limit per step, no host paths, and every install step
    runs as the unprivileged sandbox user (root only prepares the venv's ownership and cleans up)."""
    tag, plan, digest, repo_environment = planned_env_tag(client, repo, base_tag, setup)
    if image_exists(client, tag):
        return tag
    environment = install_env.environment | repo_environment
    container = client.containers.create(
        base_tag, command=["sleep", "infinity"], user="0", working_dir="/work", network_mode="bridge",
        labels=labels.owned("build", **{labels.REPO: str(repo)}), security_opt=["no-new-privileges"],
        environment={"HOME": f"/home/{SANDBOX_USER}"}, **(limits or {}),
    )
    try:
        container.put_archive("/work", snapshot_tar(repo))
        if install_env.ca_bundle is not None:
            ca_dir, ca_name = CONTAINER_CA_PATH.rsplit("/", 1)
            container.put_archive(ca_dir, single_file_tar(ca_name, install_env.ca_bundle.read_bytes()))
        container.start()
        run_exec(client.api, container.id, ["chown", "-R", f"{SANDBOX_UID}:{SANDBOX_UID}", VENV, "/work"], user="0",
                 workdir="/", environment=None, timeout=120, cap=10_000, on_timeout=container.kill)
        for i, step in enumerate(plan):
            on_event(Progress(task="environment image", done=i, total=len(plan), detail=f"{step.source}: {step.command}"))
            raw = run_exec(
                client.api, container.id, ["sh", "-c", step.command], user=str(SANDBOX_UID), workdir="/work",
                environment=environment, timeout=timeout, cap=200_000, on_timeout=container.kill,
            )
            if raw.timed_out or raw.exit_code != 0:
                raise _failure(step, raw.exit_code, raw.stdout.text() + "\n" + raw.stderr.text())
        run_exec(
            client.api, container.id, ["sh", "-c", f"{_EMPTY_WORK} && rm -f {CONTAINER_CA_PATH}"], user="0",
            workdir="/", environment=None, timeout=120, cap=10_000, on_timeout=container.kill,
        )
        repository, _, version = tag.rpartition(":")
        label_change = "LABEL " + " ".join(
            f"{k}={v}" for k, v in {labels.OWNED: "1", labels.KIND: "env", labels.DEPS_HASH: digest}.items()
        )
        container.commit(repository=repository, tag=version, changes=[label_change, "USER sandbox"])
        on_event(Progress(task="environment image", done=len(plan), total=len(plan), detail=f"{tag} ready"))
        return tag
    finally:
        container.remove(force=True)
