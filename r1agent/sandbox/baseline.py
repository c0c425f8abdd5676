"""The snapshot as a ready git repo whose HEAD is the snapshot, packed as the tar every sandbox starts from.

Built once per backend on the host, in a temporary directory (never the user's repo), so a new
sandbox only unpacks files and ``diff()`` can compare against HEAD.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from r1agent.errors import SandboxError
from r1agent.sandbox.snapshot import SANDBOX_UID, snapshot_tar

GIT_IDENTITY = (
    "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false",
    "-c", "user.name=r1agent", "-c", "user.email=r1agent@sandbox.invalid",
)
# Build output that tests create must not show up in a candidate's diff.
EXCLUDES = "__pycache__/\n*.py[co]\n.pytest_cache/\n"


def _git(work: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # no outside repo or index
    env |= {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(work)}  # the user's git config can't sign or hook
    done = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=work, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SandboxError(f"git {args[0]} while preparing the snapshot failed: {done.stderr.strip()[:300]}")


def _owned_by_sandbox(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = SANDBOX_UID
    info.uname = info.gname = ""
    return info


class FrozenSnapshot:
    """Mixin for backends: the snapshot is taken at the first call and reused, so every sandbox
    of a run starts from the same files even if the user keeps editing."""

    repo: Path
    snapshot_file: Path | None = None  # where a run keeps it, so a resumed run tests the same files
    _snapshot: bytes | None = None

    def snapshot(self) -> bytes:
        if self._snapshot is None:
            if self.snapshot_file is not None and self.snapshot_file.is_file():
                self._snapshot = self.snapshot_file.read_bytes()
            else:
                self._snapshot = snapshot_with_baseline(self.repo)
                if self.snapshot_file is not None:
                    tmp = self.snapshot_file.with_name(self.snapshot_file.name + ".partial")
                    tmp.write_bytes(self._snapshot)
                    os.replace(tmp, self.snapshot_file)
        return self._snapshot

    def refresh_snapshot(self) -> None:
        """Take the snapshot again at the next create (after the user changed the working tree)."""
        self._snapshot = None
        if self.snapshot_file is not None:
            self.snapshot_file.unlink(missing_ok=True)


def snapshot_with_baseline(repo: Path) -> bytes:
    """The repo snapshot plus a ``.git`` holding it as one commit, as tar bytes."""
    work = Path(tempfile.mkdtemp(prefix="r1agent-snapshot-"))
    try:
        with snapshot_tar(repo) as tar, tarfile.open(fileobj=tar) as archive:
            archive.extractall(work, filter="data")
        _git(work, "init", "-q", "-b", "main", ".")
        (work / ".git" / "info" / "exclude").write_text(EXCLUDES)
        _git(work, "add", "-A", "-f")
        _git(work, "commit", "-q", "--no-verify", "--allow-empty", "-m", "snapshot")
        _git(work, "repack", "-a", "-d", "-q")  # one pack file instead of an object per file
        _git(work, "prune-packed", "-q")
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as tar:
            for name in sorted(os.listdir(work)):
                tar.add(work / name, arcname=name, filter=_owned_by_sandbox)
        return out.getvalue()
    finally:
        shutil.rmtree(work, ignore_errors=True)
