"""The base image: Debian with python3, pip, venv, git and build tools.

Pulled when a registry answers quickly; otherwise built offline with debootstrap from the host's
own apt mirror and loaded with ``docker import``. Cached by tag.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound

from r1agent.errors import SandboxError
from r1agent.events import EventSink, Message, Progress
from r1agent.sandbox import labels
from r1agent.sandbox.host_mirror import DEBOOTSTRAP_SCRIPTS, AptSource, release_mirror

PACKAGES = (
    "python3", "python3-pip", "python3-venv", "python3-dev", "git", "ca-certificates",
    "gcc", "g++", "make", "libc6-dev", "procps",
)
SANDBOX_UID = 1000
VENV = "/opt/venv"
PULL_PROBE_TIMEOUT_S = 5
# Run inside the new root: the unprivileged user, the venv every install goes into, and a smaller image.
_FINISH_ROOTFS = f"""set -e
useradd --create-home --uid {SANDBOX_UID} --user-group --shell /bin/bash sandbox
python3 -m venv {VENV}
mkdir -p /work && chown {SANDBOX_UID}:{SANDBOX_UID} /work
git config --system user.name sandbox
git config --system user.email sandbox@r1agent.invalid
git config --system safe.directory '*'
git config --system init.defaultBranch main
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/* /var/cache/debconf/*-old
"""
IMAGE_CHANGES = (
    f"ENV PATH={VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV PIP_DISABLE_PIP_VERSION_CHECK=1",
    "WORKDIR /work",
)


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except ImageNotFound:
        return False


def _try_pull(client: docker.DockerClient, tag: str, on_event: EventSink) -> bool:
    """Pull ``tag`` only if a registry describes it within a few seconds; offline hosts fall through fast."""
    probe = docker.from_env(timeout=PULL_PROBE_TIMEOUT_S)  # same engine as ``client``, shorter patience
    try:
        probe.api.inspect_distribution(tag)
    except Exception:  # any failure (no route, DNS, 404, timeout) means: build instead
        return False
    finally:
        probe.close()
    on_event(Progress(task="base image", done=0, detail=f"pulling {tag}"))
    try:
        client.images.pull(tag)
    except DockerException as e:
        on_event(Message(f"pull of {tag} failed ({e}); building it instead", level="warning"))
        return False
    return True


def _run_debootstrap(root: Path, suite: str | None, on_event: EventSink) -> None:
    """Bootstrap ``suite`` (default: the host's own release) from the host's release mirror."""
    src = release_mirror()
    if suite and suite != src.suite:
        if not (DEBOOTSTRAP_SCRIPTS / suite).exists():
            raise SandboxError(f"debootstrap here does not know Debian {suite}; upgrade debootstrap or set sandbox.python")
        src = AptSource(src.uri, suite, src.components)
    cmd = [
        "debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
        f"--components={','.join(c for c in src.components if c == 'main')}", src.suite, str(root), src.uri,
    ]
    on_event(Progress(task="base image", done=0, detail=f"debootstrap {src.suite} from {src.uri}"))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    tail: list[str] = []
    steps = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        tail = (tail + [line])[-15:]
        if line.startswith("I: "):
            steps += 1
            on_event(Progress(task="base image", done=steps, detail=line[3:]))
    if proc.wait() != 0:
        last = next((t for t in reversed(tail) if t.startswith(("E:", "W:"))), tail[-1] if tail else "")
        raise SandboxError(f"debootstrap {src.suite} from {src.uri} failed: {last}")


def _tar_chunks(root: Path) -> Iterator[bytes]:
    """Stream the root filesystem as a tar, owners kept numerically (docker import reads it)."""
    proc = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-cf", "-", "."], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    while chunk := proc.stdout.read(1 << 20):
        yield chunk
    if proc.wait() != 0:
        raise SandboxError(f"tar of the base root filesystem {root} failed")


def build_base_image(client: docker.DockerClient, tag: str, work_dir: Path, on_event: EventSink,
                     suite: str | None = None) -> None:
    """debootstrap a root filesystem of ``suite``, finish it in a chroot, and import it as ``tag``."""
    if os.geteuid() != 0:
        raise SandboxError(
            f"building the base image {tag} needs root (debootstrap): run `sudo r1agent sandbox build` once, "
            "or set sandbox.base_image to an image you have"
        )
    if not shutil.which("debootstrap"):
        raise SandboxError(f"cannot build the base image {tag}: debootstrap is missing (apt-get install debootstrap)")
    work_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="rootfs-", dir=work_dir))
    try:
        _run_debootstrap(root, suite, on_event)
        on_event(Progress(task="base image", done=0, detail="adding the sandbox user and the venv"))
        done = subprocess.run(["chroot", str(root), "/bin/sh", "-c", _FINISH_ROOTFS], capture_output=True, text=True)
        if done.returncode != 0:
            raise SandboxError(f"preparing the base root filesystem failed: {done.stderr.strip()[-300:]}")
        on_event(Progress(task="base image", done=0, detail=f"docker import as {tag}"))
        label_change = "LABEL " + " ".join(f"{k}={v}" for k, v in labels.owned("base").items()
                                           if k not in (labels.OWNER_PID, labels.OWNER_HOST))
        repository, _, version = tag.rpartition(":") if ":" in tag.rsplit("/", 1)[-1] else (tag, "", "latest")
        client.api.import_image_from_stream(
            _tar_chunks(root), repository=repository, tag=version, changes=[*IMAGE_CHANGES, label_change]
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not image_exists(client, tag):
        raise SandboxError(f"docker import did not produce {tag}; see `docker images`")


def ensure_base_image(client: docker.DockerClient, tag: str, work_dir: Path, on_event: EventSink,
                      suite: str | None = None) -> str:
    """Return ``tag`` once it exists locally: as found, pulled, or built offline (Debian ``suite``)."""
    if image_exists(client, tag):
        return tag
    if _try_pull(client, tag, on_event):
        return tag
    on_event(Message(f"no registry has {tag}; building it offline from the host's Debian mirror (minutes)"))
    build_base_image(client, tag, work_dir, on_event, suite)
    on_event(Progress(task="base image", done=1, total=1, detail=f"{tag} ready"))
    return tag
