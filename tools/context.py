"""The context pack the agent sends R1: a repo map, then the full text of the files most likely to change.

Order is stable (map, then files in rank order) so the prompt prefix is reusable by vLLM's prefix cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from r1agent.events import EventSink, Phase, ignore
from r1agent.settings import Settings
from r1agent.tools.files import is_secret, repo_root
from r1agent.tools.index import load_snapshot, load_terms, update_index
from r1agent.tools.localize import Localization, rank_files
from r1agent.tools.repomap import render_map
from r1agent.tools.tokens import estimate_tokens


@dataclass(frozen=True)
class FileContext:
    path: str
    text: str


@dataclass
class ContextPack:
    repo_map: str
    files: list[FileContext] = field(default_factory=list)
    localization: Localization = field(default_factory=Localization)


def _read_text(root: Path, rel: str) -> str | None:
    """A repo file's text, or None when it is a secret, escapes the repo, is binary or is not UTF-8."""
    if is_secret(rel):
        return None
    path = (root / rel).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def build_context_pack(
    repo: Path, issue_text: str, settings: Settings, *, map_tokens: int = 2048, file_tokens: int = 12000,
    pinned: Iterable[str] = (), on_event: EventSink | None = None,
) -> ContextPack:
    """Localize the issue, then pack pinned files and top-ranked files whole (while they fit
    ``file_tokens``) and a map of the rest of the repo within ``map_tokens``."""
    on_event = on_event or ignore
    root = repo_root(repo)
    on_event(Phase("indexing"))
    update_index(root, settings, on_event=on_event)
    snap = load_snapshot(root, settings)
    records = list(snap.records.values())
    on_event(Phase("localizing"))
    localization = rank_files(records, load_terms(root, settings), issue_text, top_k=10, graph=snap.graph)

    files: list[FileContext] = []
    used = 0
    seen: set[str] = set()
    for rel in [*pinned, *(h.path for h in localization.files)]:
        if rel in seen:
            continue
        seen.add(rel)
        text = _read_text(root, rel)
        if text is None:
            continue
        cost = estimate_tokens(text)
        if used + cost > file_tokens:
            continue  # a smaller, lower-ranked file may still fit
        used += cost
        files.append(FileContext(rel, text))
    shown = [f.path for f in files]
    repo_map = render_map(snap.columns, budget=map_tokens, focus=shown, issue_text=issue_text, exclude=shown,
                          graph=snap.graph).text
    return ContextPack(repo_map=repo_map, files=files, localization=localization)
