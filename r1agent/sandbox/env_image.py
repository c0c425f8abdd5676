"""The per-repo environment image: the base plus the repo's dependencies, cached by their hash.

The only step with network access. The repo's files are removed again before the commit, so each
sandbox gets a fresh copy at /work.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path

import docker
from uv import find_uv_bin

from r1agent.events import EventSink, Message, Progress
from r1agent.sandbox import labels
from r1agent.sandbox.base_image import SANDBOX_UID, VENV, image_exists
from r1agent.sandbox.deps import (
    TOOLS_DIR,
    UV,
    InstallPlan,
    InstallStep,
    dependency_files,
    deps_hash,
    install_environment,
    install_plan,
)
from r1agent.sandbox.docker_exec import run_exec
from r1agent.sandbox.errors import DependencyInstallError
from r1agent.sandbox.host_install_env import CONTAINER_CA_PATH, InstallEnv
from r1agent.sandbox.snapshot import files_tar, single_file_tar, snapshot_paths, snapshot_tar

TAIL_LINES = 20
SANDBOX_USER = "sandbox"
SNAPSHOT_LIST = f"{TOOLS_DIR}/snapshot-files"
# The repo's own files leave the image (each sandbox gets a fresh copy); what the build made beside them
# stays: compiled extensions, a setuptools_scm _version.py, egg-info, which an editable install needs.
_CLEAR_WORK = (f"cd /work && xargs -0 -r rm -f -- < {SNAPSHOT_LIST} && "
               f"find /work -mindepth 1 -depth -type d -empty -delete && chown {SANDBOX_UID}:{SANDBOX_UID} /work")


# uv installs into the image's venv, never downloads a Python, keeps its cache out of the image, and compiles
# bytecode as pip does (an old package's compile-time warnings would otherwise fire under filterwarnings=error).
UV_ENVIRONMENT = {
    "UV_PYTHON": f"{VENV}/bin/python", "UV_PYTHON_DOWNLOADS": "never", "UV_CACHE_DIR": f"{TOOLS_DIR}/cache",
    "UV_NO_PROGRESS": "1", "UV_LINK_MODE": "copy", "UV_COMPILE_BYTECODE": "1",
    "R1AGENT_UV": UV, "R1AGENT_UV_VERSION": version("uv"),
}


def env_image_tag(repo: Path, digest: str) -> str:
    slug = re.sub(r"[^a-z0-9_.-]+", "-", repo.name.lower()).strip("-.") or "repo"
    return f"r1agent/env-{slug}:{digest[:16]}"


def planned_env_tag(
    client: docker.DockerClient, repo: Path, base_tag: str, setup: str | None, cutoff: date | None = None,
    relax_pins: bool = False,
) -> tuple[str, InstallPlan, str, dict[str, str]]:
    """The image's tag, its install plan, the digest naming it, and the environment its steps get."""
    files = dependency_files(snapshot_paths(repo))
    environment = install_environment(repo, files)
    plan = install_plan(repo, files, setup, cutoff, relax_pins)
    digest = deps_hash(repo, files, plan, client.images.get(base_tag).id, environment | UV_ENVIRONMENT)
    return env_image_tag(repo, digest), plan, digest, environment




def _tools_tar(plan: InstallPlan, snapshot: list[str]) -> bytes:
    """The uv binary of this installation, the plan's generated files and the snapshot's file list."""
    folder = Path(TOOLS_DIR).name
    return files_tar({f"{folder}/{Path(UV).name}": (Path(find_uv_bin()).read_bytes(), 0o755),
                      f"{folder}/{Path(SNAPSHOT_LIST).name}": ("\0".join(snapshot).encode(), 0o644),
                      **{f"{folder}/{name}": (text.encode(), 0o644) for name, text in plan.files.items()}})


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
    causes = [re.sub(r"^(cause:|╰─▶)\s*", "", ln) for ln in useful if ln.startswith(("cause:", "╰─▶"))]  # uv's why
    errors = [ln for ln in useful if ln.lstrip("│ ").lower().startswith("error")]
    return (raised or causes or errors or useful or [ln.strip() for ln in lines if ln.strip()] or [""])[-1][:300]


# uv's hint when a cut-off date leaves a package no release at all (its old ones were deleted from the index).
_FILTERED = re.compile(r"`([\w.-]+)` was filtered by `exclude-newer`.*?published at (\d{4}-\d{2}-\d{2})", re.S)
CUTOFF_RETRIES = 5
_EXEMPT = re.compile(r"--exclude-newer-package (\S+)")


def exempted(command: str, output: str) -> str | None:
    """``command`` again with each package that the cut-off left without any release allowed up to its
    oldest later release (uv names it and its date), or None when the output names none."""
    found = [(pkg, day) for pkg, day in _FILTERED.findall(output) if f"--exclude-newer-package {pkg}=" not in command]
    if not found or "--exclude-newer " not in command:
        return None
    flags = "".join(f" --exclude-newer-package {pkg}={_day_after(day)}" for pkg, day in dict(found).items())
    return command.replace(" --exclude-newer ", f"{flags} --exclude-newer ", 1)


def _day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


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
    timeout: float, on_event: EventSink, limits: dict | None = None, cutoff: date | None = None,
    relax_pins: bool = False,
) -> str:
    """Return the environment image tag for ``repo``, building it when its dependency hash is new.

    The build runs the repo's own code (setup.py, build backends) with network, so it is bounded: memory,
    CPU and process limits (``limits``), a time limit per step, no host paths, and every install step
    runs as the unprivileged sandbox user (root only prepares the venv's ownership and cleans up)."""
    tag, plan, digest, repo_environment = planned_env_tag(client, repo, base_tag, setup, cutoff, relax_pins)
    if image_exists(client, tag):
        return tag
    environment = install_env.environment | UV_ENVIRONMENT | repo_environment
    container = client.containers.create(
        base_tag, command=["sleep", "infinity"], user="0", working_dir="/work", network_mode="bridge",
        labels=labels.owned("build", **{labels.REPO: str(repo)}), security_opt=["no-new-privileges"],
        environment={"HOME": f"/home/{SANDBOX_USER}"}, **(limits or {}),
    )
    try:
        container.put_archive("/work", snapshot_tar(repo))
        container.put_archive(str(Path(TOOLS_DIR).parent), _tools_tar(plan, snapshot_paths(repo)))
        if install_env.ca_bundle is not None:
            ca_dir, ca_name = CONTAINER_CA_PATH.rsplit("/", 1)
            container.put_archive(ca_dir, single_file_tar(ca_name, install_env.ca_bundle.read_bytes()))
        container.start()
        run_exec(client.api, container.id, ["chown", "-R", f"{SANDBOX_UID}:{SANDBOX_UID}", VENV, "/work"], user="0",
                 workdir="/", environment=None, timeout=120, cap=10_000, on_timeout=container.kill)
        for i, step in enumerate(plan.steps):
            on_event(Progress(task="environment image", done=i, total=len(plan.steps),
                              detail=f"{step.source}: {step.command}"))
            command = step.command
            for _ in range(CUTOFF_RETRIES):
                raw = run_exec(
                    client.api, container.id, ["sh", "-c", command], user=str(SANDBOX_UID), workdir="/work",
                    environment=environment, timeout=timeout, cap=200_000, on_timeout=container.kill,
                )
                retry = exempted(command, raw.stdout.text() + raw.stderr.text()) if raw.exit_code else None
                if retry is None:
                    break
                added = sorted(set(_EXEMPT.findall(retry)) - set(_EXEMPT.findall(command)))
                on_event(Message(f"{step.source}: no release of {', '.join(a.split('=')[0] for a in added)} before "
                                 f"the cut-off date is left on the index; allowing {', '.join(added)}"))
                command = retry
            if raw.timed_out or raw.exit_code != 0:
                failure = _failure(step, raw.exit_code, raw.stdout.text() + "\n" + raw.stderr.text())
                if not step.optional:
                    raise failure
                on_event(Message(f"{failure}; going on without it", level="warning"))
        run_exec(
            client.api, container.id, ["sh", "-c", f"{_CLEAR_WORK} && rm -rf {CONTAINER_CA_PATH} {TOOLS_DIR}"], user="0",
            workdir="/", environment=None, timeout=120, cap=10_000, on_timeout=container.kill,
        )
        repository, _, version = tag.rpartition(":")
        label_change = "LABEL " + " ".join(
            f"{k}={v}" for k, v in {labels.OWNED: "1", labels.KIND: "env", labels.DEPS_HASH: digest}.items()
        )
        container.commit(repository=repository, tag=version, changes=[label_change, "USER sandbox"])
        on_event(Progress(task="environment image", done=len(plan.steps), total=len(plan.steps), detail=f"{tag} ready"))
        return tag
    finally:
        container.remove(force=True)
