"""What the index holds: the staged paths, their diff and blobs, and a copy of the staged tree.

Everything here only reads the user's repository; the index and work tree are never written.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from r1agent.errors import InputError, RepoError

# Never let git refresh the user's index as a side effect of a read.
_READ_ONLY_ENV = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}


def _git(repo: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=_READ_ONLY_ENV)
    if done.returncode != 0:
        raise RepoError(f"git {args[0]} failed in {repo}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def repo_root(path: Path) -> Path:
    """The top of the work tree holding ``path``."""
    done = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if done.returncode != 0:
        raise RepoError(f"{path} is not inside a git repository (run `git init`, or pass -C DIR)")
    return Path(done.stdout.strip())


def git_dir(repo: Path) -> Path:
    """The repository's own .git directory (a linked worktree's private one)."""
    return Path(_git(repo, "rev-parse", "--absolute-git-dir").decode().strip())


@dataclass(frozen=True)
class IndexEntry:
    path: str
    mode: str
    blob: str


@dataclass(frozen=True)
class Focus:
    """The files R1 should look at, as staged, with the staged diff (empty for named files)."""

    paths: tuple[str, ...]
    diff: str
    texts: dict[str, str]
    index_digest: str  # names the whole staged tree: any staged change gives a new digest


def index_entries(repo: Path) -> list[IndexEntry]:
    """Every stage-0 entry of the index (conflicted entries make refactoring meaningless)."""
    entries: list[IndexEntry] = []
    for record in _git(repo, "ls-files", "-s", "-z").decode("utf-8", "surrogateescape").split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, blob, stage = meta.split()
        if stage != "0":
            raise RepoError(f"{path} has merge conflicts in the index; resolve them before asking for refactors")
        entries.append(IndexEntry(path, mode, blob))
    return entries


def _digest(entries: list[IndexEntry]) -> str:
    h = hashlib.sha256()
    for e in entries:
        h.update(f"{e.mode} {e.blob} {e.path}\0".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _blob_text(repo: Path, blob: str, path: str) -> str | None:
    data = _git(repo, "cat-file", "blob", blob)
    if b"\0" in data[:8192]:
        return None  # binary: nothing to refactor
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _texts(repo: Path, entries: dict[str, IndexEntry], paths: list[str]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for p in paths:
        e = entries[p]
        if e.mode.startswith("100"):  # regular files only: not symlinks (120000) or submodules (160000)
            text = _blob_text(repo, e.blob, p)
            if text is not None:
                texts[p] = text
    return texts


def staged_focus(repo: Path) -> Focus:
    """The staged added/modified text files and the staged diff."""
    entries = index_entries(repo)
    by_path = {e.path: e for e in entries}
    names = _git(repo, "diff", "--cached", "--name-only", "--diff-filter=AMR", "-z").decode("utf-8", "surrogateescape")
    paths = [p for p in names.split("\0") if p]
    diff = _git(repo, "diff", "--cached", "--no-color", "--no-ext-diff").decode("utf-8", "replace")
    texts = _texts(repo, by_path, paths)
    return Focus(tuple(p for p in paths if p in texts), diff, texts, _digest(entries))


def named_focus(repo: Path, files: list[Path]) -> Focus:
    """Named files (absolute, or relative to ``repo``), as the index holds them: refactors are always
    checked against the staged tree."""
    entries = index_entries(repo)
    by_path = {e.path: e for e in entries}
    paths: list[str] = []
    for f in files:
        absolute = (repo / f).resolve()
        try:
            rel = absolute.relative_to(repo.resolve()).as_posix()
        except ValueError:
            raise InputError(f"{f} is outside the repository {repo}") from None
        if rel not in by_path:
            raise InputError(f"{f} is not in the index; `git add` it first (refactor works on the staged tree)")
        paths.append(rel)
    texts = _texts(repo, by_path, paths)
    unreadable = [p for p in paths if p not in texts]
    if unreadable:
        raise InputError(f"{unreadable[0]} is not a text file")
    return Focus(tuple(dict.fromkeys(paths)), "", texts, _digest(entries))


def export_staged_tree(repo: Path, dest: Path) -> None:
    """Write the index's files under ``dest`` and make ``dest`` a one-commit git repo of them.

    The sandbox snapshots a git work tree, so the copy gets its own repository; the user's is untouched.
    """
    dest.mkdir(parents=True, exist_ok=True)
    _git(repo, "checkout-index", "--all", "--force", f"--prefix={dest}{os.sep}")
    env = {**_READ_ONLY_ENV, "GIT_AUTHOR_NAME": "r1agent", "GIT_AUTHOR_EMAIL": "r1agent@localhost",
           "GIT_COMMITTER_NAME": "r1agent", "GIT_COMMITTER_EMAIL": "r1agent@localhost"}
    for args in (["init", "-q"], ["add", "-A", "-f"], ["commit", "-q", "--no-verify", "--allow-empty", "-m", "staged tree"]):
        done = subprocess.run(["git", "-C", str(dest), *args], capture_output=True, env=env)
        if done.returncode != 0:
            raise RepoError(f"cannot copy the staged tree ({' '.join(args[:1])}): {done.stderr.decode(errors='replace').strip()}")
