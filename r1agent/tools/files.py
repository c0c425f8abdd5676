"""List the repository files the index may read: git's view (tracked plus untracked, not ignored),
minus secrets, vendored or generated code, binaries and oversized files, each skip with its reason."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from r1agent.errors import RepoError

MAX_FILE_BYTES = 1_000_000
MAX_PATH_DEPTH = 40
# Minified or generated sources have very long lines; parsing them costs much and tells little.
MAX_AVG_LINE_CHARS = 400

# Never read, never indexed, never sent to a model.
SECRET_PATTERNS = (
    ".env", ".env.*", "*.env", ".envrc", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.ppk", ".netrc", ".pgpass", ".pypirc", ".npmrc",
    "credentials", "credentials.json", "*.secret", "secrets.*", "*.kdbx", ".htpasswd",
)
VENDORED_DIRS = frozenset({
    "node_modules", "vendor", "_vendor", "vendored", "_vendored", "third_party", "third-party", "thirdparty",
    "bower_components", ".venv", "venv", "site-packages", "__pycache__", ".git", ".tox", ".nox", ".mypy_cache",
})
GENERATED_PATTERNS = (
    "*.min.js", "*.min.css", "*.bundle.js", "*_pb2.py", "*_pb2_grpc.py", "*.pb.go", "*.pb.cc", "*.pb.h",
    "*.generated.*", "*_generated.*", "*.g.dart", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
    "poetry.lock", "Cargo.lock", "go.sum", "uv.lock", "*.map",
)


@dataclass(frozen=True)
class Skip:
    path: str
    reason: str  # secret | vendored | generated | too deep | too large | binary | unreadable | minified


@dataclass
class FileListing:
    """Paths the index may read (repo-relative, sorted, with their stat) and the ones left out, with why."""

    skipped: list[Skip] = field(default_factory=list)
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (mtime_ns, size)


def repo_root(path: Path) -> Path:
    """The top of the git work tree holding ``path``; a one-line RepoError when there is none."""
    return _repo_root(str(Path(path).resolve()))


@lru_cache(maxsize=64)
def _repo_root(path_str: str) -> Path:
    path = Path(path_str)
    if not path.is_dir():
        raise RepoError(f"{path}: not a directory")
    proc = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RepoError(f"{path}: not a git repository")
    return Path(proc.stdout.strip()).resolve()


def _one_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


_SECRET = _one_regex(SECRET_PATTERNS)
_GENERATED = _one_regex(GENERATED_PATTERNS)


def is_secret(path: str) -> bool:
    return _SECRET.match(PurePosixPath(path).name) is not None


def _skip_reason_by_name(path: str) -> str | None:
    parts = path.split("/")
    if _SECRET.match(parts[-1]):
        return "secret"
    if len(parts) > MAX_PATH_DEPTH:
        return "too deep"
    if not VENDORED_DIRS.isdisjoint(parts[:-1]):
        return "vendored"
    if _GENERATED.match(parts[-1]):
        return "generated"
    return None


def list_files(root: Path, wanted: Callable[[str], bool]) -> FileListing:
    """Git's file list filtered by name; ``wanted(path)`` narrows it further (e.g. to known grammars).

    Content checks (binary, minified) happen when the file is read, in ``check_content``.
    """
    proc = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                          capture_output=True)
    if proc.returncode != 0:
        raise RepoError(f"{root}: git ls-files failed: {proc.stderr.decode(errors='replace').strip()}")
    listing = FileListing()
    top = os.path.join(root, "")
    for path in sorted({p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p}):
        reason = _skip_reason_by_name(path)
        if reason is None and not wanted(path):
            continue
        if reason is None:
            try:
                st = os.lstat(top + path)
            except OSError:
                continue  # deleted in the work tree but still in the index: nothing to read
            if not stat.S_ISREG(st.st_mode):
                continue  # symlinks and submodules are not read
            if st.st_size > MAX_FILE_BYTES:
                reason = "too large"
        if reason:
            listing.skipped.append(Skip(path, reason))
        else:
            listing.stats[path] = (st.st_mtime_ns, st.st_size)
    return listing


def check_content(data: bytes) -> str | None:
    """Why a file's bytes should not be parsed (binary, minified, not UTF-8), or None when they are fine."""
    if b"\0" in data[:8192]:
        return "binary"
    if data and len(data) / (data.count(b"\n") + 1) > MAX_AVG_LINE_CHARS:
        return "minified"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "not utf-8"
    return None
