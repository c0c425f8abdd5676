"""Git work for the hand-off, through GitPython. Nothing here runs before a fix is accepted,
except read-only checks; every write first proves it cannot clobber uncommitted work."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import git

from r1agent.diffs import touched_files
from r1agent.errors import RepoError


def open_repo(path: Path) -> git.Repo:
    """The git repo at ``path`` (its top level), or a one-line RepoError."""
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepoError(f"{path} is not inside a git repository (run `git init`, or pass -C DIR)") from None
    if repo.bare:
        raise RepoError(f"{path} is a bare repository; r1agent needs a working tree")
    return repo


def head_commit(repo: git.Repo) -> str:
    """HEAD's sha, or '' in a repo with no commits yet."""
    try:
        return repo.head.commit.hexsha
    except ValueError:
        return ""


def is_dirty(repo: git.Repo) -> bool:
    return repo.is_dirty(untracked_files=False)


def _run_apply(repo_dir: Path, patch: str, *args: str) -> tuple[bool, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".patch", delete=False, encoding="utf-8") as f:
        f.write(patch)
        name = f.name
    try:
        git.Repo(repo_dir).git.apply(*args, name)
        return True, ""
    except git.GitCommandError as e:
        return False, (e.stderr or str(e)).strip().replace("\n", "; ")
    finally:
        Path(name).unlink(missing_ok=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


@dataclass
class Handoff:
    """What a hand-off did, kept so that `r1agent undo` can revert exactly that."""

    run_id: str
    repo: str
    mode: str  # "worktree" | "branch"
    patch: str
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256 after the hand-off
    branch: str = ""
    commit: str = ""
    previous_branch_head: str = ""
    at: float = field(default_factory=time.time)


def apply_to_worktree(repo: git.Repo, patch: str, run_id: str) -> Handoff:
    """Apply to the working tree (not the index). Refuses, changing nothing, on any conflict."""
    root = Path(repo.working_tree_dir)
    ok, why = _run_apply(root, patch, "--check")
    if not ok:
        raise RepoError(f"the patch no longer applies to your working tree: {why}")
    ok, why = _run_apply(root, patch)
    if not ok:
        raise RepoError(f"git apply failed: {why}")
    return worktree_record(repo, patch, run_id)


def commit_worktree_files(repo: git.Repo, handoff: Handoff, message: str) -> Handoff:
    """Commit exactly the files the hand-off touched on the current branch, and nothing else.

    The commit is built in a temporary index (HEAD plus those files), so whatever else the user had
    staged stays staged and out of it; the user's index then takes the new HEAD for those files only."""
    root = Path(repo.working_tree_dir)
    parent = head_commit(repo)
    with tempfile.TemporaryDirectory(prefix="r1agent-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        g = repo.git
        if parent:
            g.read_tree(parent, env=env)
        present = [p for p in handoff.files if (root / p).exists()]
        gone = [p for p in handoff.files if p not in present]
        if present:
            g.update_index("--add", "--", *present, env=env)
        if gone:
            g.update_index("--force-remove", "--", *gone, env=env)
        tree = g.write_tree(env=env)
        sha = g.commit_tree(tree, *(["-p", parent] if parent else []), "-m", message).strip()
    repo.git.update_ref("HEAD", sha, *([parent] if parent else []), "-m", "r1agent: commit the verified fix")
    if parent:
        repo.git.reset("-q", sha, "--", *handoff.files)
    else:
        repo.git.read_tree(sha)
    handoff.commit = sha
    return handoff


def check_branchable(repo: git.Repo, branch: str) -> None:
    """A branch is made from HEAD alone, so the tree the tests saw must be HEAD: no uncommitted changes,
    and no untracked files (the sandbox's snapshot includes them, and the branch would lack them)."""
    if is_dirty(repo):
        raise RepoError("the working tree has uncommitted changes; commit or stash them, or run without --branch")
    untracked = repo.untracked_files
    if untracked:
        more = f" and {len(untracked) - 3} more" if len(untracked) > 3 else ""
        raise RepoError(f"untracked files would be tested but left out of the branch ({', '.join(untracked[:3])}{more}); "
                        "commit them, stash them (git stash -u), or run without --branch")
    if branch in repo.heads:
        raise RepoError(f"branch {branch!r} already exists; choose another --branch name")


def commit_on_branch(repo: git.Repo, patch: str, branch: str, message: str, run_id: str) -> Handoff:
    """Create ``branch`` from HEAD and commit the patch there, in a temporary worktree, so the
    user's checkout, index and uncommitted files are never touched."""
    if not head_commit(repo):
        raise RepoError("--branch needs at least one commit to branch from")
    check_branchable(repo, branch)
    with tempfile.TemporaryDirectory(prefix="r1agent-wt-") as tmp:
        wt = Path(tmp) / "wt"
        repo.git.worktree("add", "-q", "-b", branch, str(wt), "HEAD")
        try:
            ok, why = _run_apply(wt, patch, "--index")
            if not ok:
                raise RepoError(f"the patch does not apply to HEAD: {why}")
            sha = git.Repo(wt).index.commit(message).hexsha
        except Exception:
            repo.git.worktree("remove", "--force", str(wt))
            repo.git.branch("-D", branch)
            raise
        repo.git.worktree("remove", "--force", str(wt))
    return Handoff(run_id=run_id, repo=str(repo.working_tree_dir), mode="branch", patch=patch, branch=branch, commit=sha)


def save_handoff(state_dir: Path, handoff: Handoff) -> Path:
    path = _handoff_path(state_dir, handoff.repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(handoff), indent=2), encoding="utf-8")
    tmp.replace(path)
    _pending_path(state_dir, handoff.repo).unlink(missing_ok=True)
    return path


def load_handoff(state_dir: Path, repo_dir: str) -> Handoff | None:
    path = _handoff_path(state_dir, repo_dir)
    return Handoff(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def _pending_path(state_dir: Path, repo_dir: str) -> Path:
    return _handoff_path(state_dir, repo_dir).with_suffix(".pending.json")


def begin_handoff(state_dir: Path, repo: git.Repo, run_id: str) -> dict:
    """Note that a hand-off is starting (or find the note a killed one left), so a resumed run can tell
    which of its steps already happened: {"run_id", "head"}, HEAD as it was before the first step."""
    path = _pending_path(state_dir, repo.working_tree_dir)
    if path.is_file():
        note = json.loads(path.read_text(encoding="utf-8"))
        if note.get("run_id") == run_id:
            return note
    note = {"run_id": run_id, "head": head_commit(repo)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(note), encoding="utf-8")
    return note


def is_applied(repo: git.Repo, patch: str) -> bool:
    """The working tree already holds ``patch``: it no longer applies, and it reverses cleanly."""
    root = Path(repo.working_tree_dir)
    return not _run_apply(root, patch, "--check")[0] and _run_apply(root, patch, "-R", "--check")[0]


def worktree_record(repo: git.Repo, patch: str, run_id: str) -> Handoff:
    root = Path(repo.working_tree_dir)
    return Handoff(run_id=run_id, repo=str(root), mode="worktree", patch=patch,
                   files={p: _digest(root / p) for p in touched_files(patch)})


def made_commit(repo: git.Repo, parent: str, message: str) -> str:
    """The commit a killed hand-off made on top of ``parent`` with ``message``, if HEAD is it; else ''."""
    try:
        head = repo.head.commit
    except ValueError:
        return ""
    return head.hexsha if _made_by_us(head, parent, message) else ""


def _made_by_us(commit: git.Commit, parent: str, message: str) -> bool:
    """``commit`` is the hand-off's: ``message``, on top of ``parent`` alone ('' for the first commit)."""
    return [p.hexsha for p in commit.parents] == ([parent] if parent else []) and \
        commit.message.strip() == message.strip()


def _handoff_path(state_dir: Path, repo_dir: str) -> Path:
    key = hashlib.sha256(str(Path(repo_dir).resolve()).encode()).hexdigest()[:16]
    return state_dir / "handoffs" / f"{key}.json"


def undo_last(repo: git.Repo, state_dir: Path) -> Handoff:
    """Revert the last hand-off in this repo, only if nothing changed since."""
    path = _handoff_path(state_dir, repo.working_tree_dir)
    if not path.is_file():
        raise RepoError("nothing to undo: no r1agent hand-off recorded for this repository")
    h = Handoff(**json.loads(path.read_text(encoding="utf-8")))
    root = Path(repo.working_tree_dir)
    if h.mode == "branch":
        if h.branch not in repo.heads:
            raise RepoError(f"branch {h.branch!r} is gone; nothing to undo")
        if repo.heads[h.branch].commit.hexsha != h.commit:
            raise RepoError(f"branch {h.branch!r} has moved since the hand-off; not deleting it")
        if not repo.head.is_detached and repo.active_branch.name == h.branch:
            raise RepoError(f"branch {h.branch!r} is checked out; switch away from it first")
        repo.git.branch("-D", h.branch)
    else:
        changed = [p for p, d in h.files.items() if _digest(root / p) != d]
        if changed:
            raise RepoError(f"{changed[0]} changed since the hand-off; undo refused to keep your edits")
        if h.commit:
            if head_commit(repo) != h.commit:
                raise RepoError("HEAD moved since the hand-off commit; undo refused")
            repo.git.reset("--soft", "HEAD~1")
            repo.git.reset("-q", "HEAD", "--", *h.files)  # unstage; the files stay for the reverse apply
        ok, why = _run_apply(root, h.patch, "-R")
        if not ok:
            raise RepoError(f"cannot reverse the patch: {why}")
    path.unlink()
    return h


def made_commit_on(repo: git.Repo, branch: str, parent: str, message: str) -> str:
    """The commit a killed branch hand-off made, if ``branch`` holds just it on ``parent``; else ''.
    A branch the killed attempt created but never committed to is removed, so the hand-off can redo it."""
    if branch not in repo.heads:
        return ""
    head = repo.heads[branch].commit
    if head.hexsha == parent:
        repo.git.worktree("prune")
        repo.git.branch("-D", branch)
        return ""
    return head.hexsha if _made_by_us(head, parent, message) else ""
