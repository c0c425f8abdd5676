"""Turn a path written by the model into a safe path inside the repo, or say why it is refused."""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from r1agent.tools.edits.model import Reason

WALK_LIMIT = 50_000  # files listed when root is not a git repo


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    message: str


class RepoPaths:
    """Path checks and lookups against one repo root; the file listing is read once, when first needed."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    @cached_property
    def files(self) -> list[str]:
        if (self.root / ".git").exists():
            done = subprocess.run(
                ["git", "-C", str(self.root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                capture_output=True, check=False,
            )
            if done.returncode == 0:
                return sorted({p for p in done.stdout.decode("utf-8", "replace").split("\0") if p})
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            rel = Path(dirpath).relative_to(self.root)
            found.extend((rel / f).as_posix() for f in filenames)
            if len(found) > WALK_LIMIT:
                break
        return sorted(found)

    def unsafe(self, path: str) -> Refusal | None:
        """Why ``path`` may not be written, if it may not: absolute, ``..``, under .git, escaping symlink."""
        if path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:/", path):
            return Refusal(Reason.OUTSIDE_REPO, f"{path}: absolute paths are refused; use a path relative to the repo root")
        parts = PurePosixPath(path).parts
        if ".." in parts:
            return Refusal(Reason.OUTSIDE_REPO, f"{path}: '..' is refused; use a path inside the repo")
        if ".git" in parts:
            return Refusal(Reason.GIT_DIR, f"{path}: files under .git/ are refused")
        real = (self.root / path).resolve()
        if not real.is_relative_to(self.root):
            return Refusal(Reason.OUTSIDE_REPO, f"{path}: resolves through a symlink to outside the repo")
        if ".git" in real.relative_to(self.root).parts:
            return Refusal(Reason.GIT_DIR, f"{path}: resolves into .git/, which is refused")
        if real.exists() and not real.is_file():
            return Refusal(Reason.NOT_A_FILE, f"{path}: is a directory, not a file")
        return None

    def resolve(self, path: str, creating: bool) -> str | Refusal:
        """The repo path meant by ``path``: itself if it exists, else the unique repo file it is a suffix of."""
        refusal = self.unsafe(path)
        if refusal is not None:
            return refusal
        real = (self.root / path).resolve()
        if real.is_file() or creating:
            # through an in-repo symlink, name the real file: `git apply` refuses paths beyond a symlink
            return real.relative_to(self.root).as_posix()
        parts = PurePosixPath(path).parts
        matches = [f for f in self.files if _suffix_match(PurePosixPath(f).parts, parts)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(matches[:5])
            return Refusal(Reason.AMBIGUOUS_PATH, f"{path}: several files match ({shown}); give the full path")
        close = difflib.get_close_matches(path, self.files, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return Refusal(Reason.FILE_NOT_FOUND, f"{path}: no such file in the repo{hint}")


def _suffix_match(repo_parts: tuple[str, ...], given: tuple[str, ...]) -> bool:
    """One path ends with the other, whole components only (``app.py`` ~ ``src/app.py``)."""
    k = min(len(repo_parts), len(given))
    return repo_parts[-k:] == given[-k:] and k > 0 and (k == len(given) or k == len(repo_parts))
