"""Each instance's repo at its base commit: a clean checkout of its own under the batch's work area,
cloned from a local mirror of bare repos (``owner__name.git``) or from the network, through one
shared bare cache per repo so that many instances of a repo fetch it once."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from git import GitCommandError, Repo

from r1agent.errors import RepoError

from .instances import Instance

CLONE_BASE = "https://github.com"


@dataclass(frozen=True)
class Checkout:
    path: Path
    base_commit: str


def mirror_name(repo: str) -> str:
    """SWE-bench's own naming of a repo on disk: owner/name -> owner__name."""
    return repo.replace("/", "__")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise the processes of one host that would fill the same cache at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _source(inst: Instance, mirrors: Path | None, clone_base: str) -> str:
    if inst.repo_path:
        path = Path(inst.repo_path)
        if not (path / ".git").exists() and not (path / "HEAD").is_file():
            raise RepoError(f"{inst.instance_id}: {path} is not a git repository")
        return str(path)
    if mirrors is not None:
        for name in (f"{mirror_name(inst.repo)}.git", mirror_name(inst.repo)):
            if (mirrors / name).exists():
                return str(mirrors / name)
    return f"{clone_base.rstrip('/')}/{inst.repo}.git"


def _bare_cache(inst: Instance, source: str, commit: str, cache_root: Path) -> Repo:
    """The shared bare clone of the instance's repo, fetched again when it lacks ``commit``."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:8]
    key = mirror_name(inst.repo) if inst.repo else f"local-{Path(source).name}-{digest}"
    bare = cache_root / f"{key}.git"
    with _locked(cache_root / f"{key}.lock"):
        try:
            if not bare.exists():
                partial = bare.with_suffix(".partial")
                shutil.rmtree(partial, ignore_errors=True)
                Repo.clone_from(source, partial, bare=True)
                partial.rename(bare)
            repo = Repo(bare)
            if not _has_commit(repo, commit):
                repo.git.fetch(source, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
        except GitCommandError as e:
            raise RepoError(f"{inst.instance_id}: cannot clone {source}: {_git_words(e)}") from None
    return repo


def _has_commit(repo: Repo, sha: str) -> bool:
    try:
        repo.git.cat_file("-e", f"{sha}^{{commit}}")
        return True
    except GitCommandError:
        return False


def _git_words(e: GitCommandError) -> str:
    text = (e.stderr or str(e)).strip().replace("stderr:", "").strip().strip("'").strip()
    return text.splitlines()[-1] if text else "git failed"


def checkout_path(inst: Instance, work_root: Path) -> Path:
    """``work_root/<instance>/<repo name>``: the folder keeps the repo's own name, which the sandbox
    names environment images after, so instances of one repo share its images."""
    name = inst.repo.rpartition("/")[2] if inst.repo else Path(inst.repo_path).name
    return work_root / inst.slug / name


def materialize(inst: Instance, work_root: Path, mirrors: Path | None = None, clone_base: str = CLONE_BASE) -> Checkout:
    """A fresh checkout of ``inst`` at its base commit (see checkout_path); whatever was there is replaced."""
    source = _source(inst, mirrors, clone_base)
    try:
        commit = inst.base_commit or Repo(source).head.commit.hexsha
    except ValueError:
        raise RepoError(f"{inst.instance_id}: {source} has no commits") from None
    cache = _bare_cache(inst, source, commit, work_root / ".cache")
    dest = checkout_path(inst, work_root)
    shutil.rmtree(dest.parent, ignore_errors=True)
    if not _has_commit(cache, commit):
        raise RepoError(f"{inst.instance_id}: base_commit {commit} is not in {source}")
    try:
        checkout = Repo.clone_from(str(cache.git_dir), dest, no_checkout=True)
        checkout.git.checkout("-q", "--detach", commit)
    except GitCommandError as e:
        raise RepoError(f"{inst.instance_id}: cannot check out {commit}: {_git_words(e)}") from None
    return Checkout(path=dest, base_commit=checkout.head.commit.hexsha)
