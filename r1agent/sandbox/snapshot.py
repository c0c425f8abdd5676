"""The repo as a tar stream: tracked plus untracked-not-ignored files, as they are in the working tree.

Read-only towards the user's repo: it runs ``git ls-files`` and reads files, nothing else.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import IO

from r1agent.errors import RepoError

SANDBOX_UID = 1000


def snapshot_paths(repo: Path) -> list[str]:
    """Paths (relative, sorted) of the tracked and untracked-but-not-ignored files that exist now."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # never touch the user's index, even to refresh it
    done = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, env=env,
    )
    if done.returncode != 0:
        raise RepoError(f"{repo} is not a git repository ({done.stderr.decode(errors='replace').strip()})")
    names = sorted({n for n in done.stdout.decode("utf-8", "surrogateescape").split("\0") if n})
    # Deleted-but-tracked files are listed yet absent; submodules are directories: both are skipped.
    return [n for n in names if (repo / n).is_symlink() or (repo / n).is_file()]


def _parent_dirs(names: list[str]) -> list[str]:
    dirs = {str(p) for n in names for p in Path(n).parents if str(p) != "."}
    return sorted(dirs, key=lambda d: (d.count("/"), d))


def _add(tar: tarfile.TarFile, repo: Path, name: str) -> None:
    path = repo / name
    st = path.lstat()
    info = tarfile.TarInfo(name)
    info.uid = info.gid = SANDBOX_UID
    info.mtime = int(st.st_mtime)
    if stat.S_ISLNK(st.st_mode):
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, os.readlink(path), 0o777
        tar.addfile(info)
        return
    info.mode = 0o755 if st.st_mode & 0o111 else 0o644
    info.size = st.st_size
    with path.open("rb") as f:
        tar.addfile(info, f)


def snapshot_tar(repo: Path) -> IO[bytes]:
    """A rewound file object holding the tar of the repo snapshot (spills to disk when large)."""
    buf = tempfile.SpooledTemporaryFile(max_size=64 << 20)
    names = snapshot_paths(repo)
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for directory in _parent_dirs(names):  # explicit entries, or Docker creates them root-owned
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, SANDBOX_UID, SANDBOX_UID
            tar.addfile(info)
        for name in names:
            _add(tar, repo, name)
    buf.seek(0)
    return buf


def files_tar(entries: dict[str, tuple[bytes, int]]) -> bytes:
    """A tar of ``{name: (content, mode)}``, owned by the sandbox user, for ``put_archive``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for directory in _parent_dirs(list(entries)):
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, SANDBOX_UID, SANDBOX_UID
            tar.addfile(info)
        for name, (content, mode) in entries.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.gid = len(content), mode, SANDBOX_UID, SANDBOX_UID
            tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def single_file_tar(name: str, content: bytes, mode: int = 0o644) -> bytes:
    """A tar with one file, owned by the sandbox user, for ``put_archive``."""
    return files_tar({name: (content, mode)})
