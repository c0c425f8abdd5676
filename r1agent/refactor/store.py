"""Verified suggestions as patch files under ``.git/r1agent/suggestions/``: kept out of the work tree,
and applied to it (and, when asked, to the index) only on ``--apply``."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from r1agent.errors import InputError, RepoError
from r1agent.refactor.outcome import VerifiedSuggestion
from r1agent.refactor.staged import git_dir

_ID = re.compile(r"^[0-9a-f]{4,64}$")


def suggestions_dir(repo: Path) -> Path:
    return git_dir(repo) / "r1agent" / "suggestions"


def save(repo: Path, suggestion: VerifiedSuggestion) -> Path:
    """``<id>.patch`` for git apply, and ``<id>.json`` with the rationale; returns the patch path."""
    folder = suggestions_dir(repo)
    folder.mkdir(parents=True, exist_ok=True)
    patch = folder / f"{suggestion.id}.patch"
    patch.write_text(suggestion.patch, encoding="utf-8")
    (folder / f"{suggestion.id}.json").write_text(suggestion.model_dump_json(indent=2), encoding="utf-8")
    return patch


def _find(repo: Path, sid: str) -> Path:
    if not _ID.match(sid):
        raise InputError(f"{sid!r} is not a suggestion id (hex, as printed by `r1agent refactor`)")
    folder = suggestions_dir(repo)
    matches = sorted(folder.glob(f"{sid}*.patch")) if folder.is_dir() else []
    if not matches:
        raise InputError(f"no saved suggestion {sid} in {folder}; run `r1agent refactor` first")
    if len(matches) > 1:
        raise InputError(f"suggestion id {sid} is ambiguous: {', '.join(m.stem for m in matches)}")
    return matches[0]


def rationale(patch_path: Path) -> str:
    try:
        return json.loads(patch_path.with_suffix(".json").read_text(encoding="utf-8")).get("rationale", "")
    except (OSError, ValueError):
        return ""


def _git_apply(repo: Path, patches: list[Path], *args: str) -> str:
    """One git apply over every patch (all or none); '' on success, git's first error line otherwise."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    done = subprocess.run(["git", "-C", str(repo), "apply", "--whitespace=nowarn", *args, *map(str, patches)],
                          capture_output=True, text=True, env=env)
    if done.returncode == 0:
        return ""
    return next((ln for ln in done.stderr.splitlines() if ln.startswith("error:")), done.stderr.strip() or "failed")


def apply(repo: Path, ids: list[str], stage: bool) -> list[Path]:
    """Apply saved suggestions to the work tree, and to the index only when ``stage``; checked before anything changes."""
    patches = [_find(repo, sid) for sid in dict.fromkeys(ids)]
    targets = [("work tree", ())] + ([("index", ("--cached",))] if stage else [])
    for where, extra in targets:
        problem = _git_apply(repo, patches, "--check", *extra)
        if problem:
            raise RepoError(f"the suggestion(s) do not apply to the {where}: {problem}")
    for where, extra in targets:
        problem = _git_apply(repo, patches, *extra)
        if problem:
            raise RepoError(f"applying to the {where} failed after a clean check: {problem}")
    return patches
