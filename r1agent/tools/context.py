"""The context pack the agent sends R1: a repo map, then the code most likely to change.

R1 cannot browse: what is not in the pack it cannot edit. Small files go in whole; a large file gives
its best-ranked definitions verbatim and a skeleton of the rest, with elisions marked (excerpts.py).
The order is stable (map, then files in rank order) so the prompt prefix is reusable by vLLM's cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from r1agent.events import EventSink, Phase, ignore
from r1agent.settings import Settings
from r1agent.tools.excerpts import Excerpt, Span, best_excerpt
from r1agent.tools.files import is_secret, repo_root
from r1agent.tools.index import FileRecord, load_snapshot, load_terms, update_index
from r1agent.tools.localize import ISSUE_NOISE, Localization, rank_files
from r1agent.tools.mentions import Mentions, find_mentions, match_path
from r1agent.tools.repomap import render_map
from r1agent.tools.symbols import Definition
from r1agent.tools.terms import bm25, query_counts, terms
from r1agent.tools.tokens import estimate_tokens

CANDIDATE_FILES = 12  # files the localizer hands the packer, best first
FIRST_SHARE = 0.7  # of the file budget, the most the first excerpted file may take
LATER_SHARE = 0.3  # ... and each later one
MIN_EXCERPT = 600  # less room than this shows too little of a large file to be worth a place
SKELETON_TOKENS = 200  # the signatures shown of an excerpted file's other definitions
EXCERPT_NOTE = "(excerpts: each `⋮ lines A-B not shown` line stands for lines of the file that are not shown; never quote it)"
# A definition's score: its words against the issue, plus what the issue names outright.
W_NAMED = 1.0  # its name (or Class.name) is written in the issue as code
W_WORD = 0.3  # its name appears among the issue's plain words
W_PART = 0.4  # a part of its name (_print_Mul: Mul) is written in the issue as code
W_FRAME = 1.5  # a stack frame of the issue points into it


@dataclass(frozen=True)
class FileContext:
    """One file as the prompt shows it: whole, or as verbatim spans with the rest elided."""

    path: str
    text: str  # exactly what the prompt holds for this file
    whole: bool = True
    spans: tuple[Span, ...] = ()
    why: str = ""
    chosen: tuple[tuple[str, str], ...] = ()  # for an excerpt: (definition shown whole, why), best first

    @property
    def block(self) -> str:
        """The file as the prompt holds it: a heading, then its text in a fence."""
        note = "" if self.whole else f" {EXCERPT_NOTE}"
        return f"## {self.path}{note}\n````\n{self.text.rstrip(chr(10))}\n````\n"

    @cached_property
    def tokens(self) -> int:
        return estimate_tokens(self.block)

    def to_dict(self) -> dict:
        return {"path": self.path, "whole": self.whole, "tokens": self.tokens, "why": self.why,
                "chosen": [{"name": name, "why": why} for name, why in self.chosen],
                "spans": [{"start": s.start, "end": s.end, "text": s.text} for s in self.spans]}


@dataclass
class ContextPack:
    repo_map: str
    files: list[FileContext] = field(default_factory=list)
    localization: Localization = field(default_factory=Localization)

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.repo_map) + sum(f.tokens for f in self.files)


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


def _whole(rel: str, text: str, why: str) -> FileContext:
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    return FileContext(rel, text, True, (Span(1, max(lines, 1), text),), why)


def score_definitions(
    files: dict[str, tuple[str, list[Definition]]], issue_text: str, mentions: Mentions,
) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Each definition's relevance to the issue: BM25 of its own lines (a class: its opening lines only,
    since its members are scored apart) over all candidate files' definitions, plus names and frames."""
    query = [t for t in terms(issue_text) if t not in ISSUE_NOISE]
    plain = set(query)
    rows: list[tuple[str, int]] = []
    docs: list[list[str]] = []
    for rel, (text, defs) in files.items():
        lines = text.splitlines()
        for i, d in enumerate(defs):
            end = d.end_line
            inner = [o.start_line for o in defs if d.start_line < o.start_line <= d.end_line]
            if inner:
                end = min(inner) - 1
            rows.append((rel, i))
            docs.append(terms("\n".join(lines[d.start_line - 1:end])) + terms(d.qualname))
    out = {rel: [0.0] * len(defs) for rel, (_t, defs) in files.items()}
    why = {rel: [""] * len(defs) for rel, (_t, defs) in files.items()}
    if not rows:
        return out, why
    lexical = np.zeros(len(rows))
    if query:
        lengths = np.fromiter(map(len, docs), dtype=np.float64, count=len(docs))
        raw = bm25(query_counts(docs, plain), lengths, query)
        if raw.max() > 0:
            lexical = raw / raw.max()
    frames: dict[str, list[int]] = {}
    frame_names: dict[str, set[str]] = {}
    for fr in mentions.frames:
        for p in match_path(fr.path, list(files)):
            frames.setdefault(p, []).append(fr.line)
            frame_names.setdefault(p, set()).add(fr.function)
    named_parts = {w for w in mentions.identifiers if len(w) > 2 and "." not in w}
    for k, (rel, i) in enumerate(rows):
        d = files[rel][1][i]
        s = float(lexical[k])
        reasons = [f"issue words match its text ({s:.2f})"] if s >= 0.3 else []
        if d.name in mentions.identifiers or d.qualname in mentions.identifiers:
            s += W_NAMED
            reasons.append("named in the issue")
        elif d.name.lower() in plain:
            s += W_WORD
            reasons.append("its name is a word of the issue")
        elif named_parts & set(d.name.split("_")):
            s += W_PART
            reasons.append("part of its name is named in the issue")
        if d.name in frame_names.get(rel, ()):
            s += W_FRAME  # the traceback names it (its line numbers may be of another version)
            reasons.append("a stack frame of the issue names it")
        elif any(d.start_line <= line <= d.end_line for line in frames.get(rel, ())):
            s += W_FRAME / 2
            reasons.append("a stack frame's line falls in it")
        out[rel][i] = round(s, 9)
        why[rel][i] = "; ".join(reasons) or "weak match"
    return out, why


def _why_excerpt(ex: Excerpt, why: str) -> str:
    shown = ", ".join(f"`{q}`" for q in ex.chosen[:4]) + (" …" if len(ex.chosen) > 4 else "")
    return f"{why}; excerpts: {shown}" if shown else f"{why}; skeleton only"


def pack_files(
    read: Callable[[str], str | None], records: dict[str, FileRecord], localization: Localization, issue_text: str,
    file_tokens: int, whole_tokens: int, pinned: Iterable[str] = (),
) -> list[FileContext]:
    """Pinned files, then the ranked ones: each whole when small enough, else as excerpts of its
    best-scored definitions (the first file up to FIRST_SHARE of the budget, later ones LATER_SHARE)."""
    pinned = list(dict.fromkeys(pinned))
    why = {h.path: h.why for h in localization.files}
    order = list(dict.fromkeys([*pinned, *(h.path for h in localization.files[:CANDIDATE_FILES])]))
    texts = {rel: t for rel in order if (t := read(rel)) is not None}
    order = [rel for rel in order if rel in texts]
    parsed = {rel: (texts[rel], list(records[rel].definitions)) for rel in order if rel in records}
    scores, reasons = score_definitions(parsed, issue_text, find_mentions(issue_text))
    out: list[FileContext] = []
    left = file_tokens
    for rel in order:
        text = texts[rel]
        reason = "pinned" if rel in pinned else why.get(rel, "")
        whole = _whole(rel, text, reason)
        cost = whole.tokens
        if cost <= min(whole_tokens, left) or (rel in pinned and cost <= left):
            out.append(whole)
            left -= cost
            continue
        defs = parsed.get(rel, ("", []))[1]
        budget = min(left, int(file_tokens * (LATER_SHARE if out else FIRST_SHARE)))
        if not defs or budget < MIN_EXCERPT:
            continue  # nothing to choose from, or too little room to show a definition
        ex = best_excerpt(text, defs, scores[rel], budget, SKELETON_TOKENS)
        if not ex.chosen:
            continue
        by_name = {d.qualname: reasons[rel][i] for i, d in enumerate(defs)}
        shown = FileContext(rel, ex.text, False, ex.spans, _why_excerpt(ex, reason),
                            tuple((q, by_name.get(q, "")) for q in ex.chosen))
        if shown.tokens > left:
            continue
        out.append(shown)
        left -= shown.tokens
    return out


def build_context_pack(
    repo: Path, issue_text: str, settings: Settings, *, map_tokens: int | None = None,
    file_tokens: int | None = None, pinned: Iterable[str] = (), on_event: EventSink | None = None,
) -> ContextPack:
    """Localize the issue, then pack pinned and top-ranked files (whole or as excerpts) within the file
    budget, and a map of the rest of the repo within the map budget."""
    on_event = on_event or ignore
    root = repo_root(repo)
    map_tokens = settings.context.map_tokens if map_tokens is None else map_tokens
    file_tokens = settings.context.file_tokens if file_tokens is None else file_tokens
    on_event(Phase("indexing"))
    update_index(root, settings, on_event=on_event)
    snap = load_snapshot(root, settings)
    records = snap.records
    on_event(Phase("localizing"))
    localization = rank_files(list(records.values()), load_terms(root, settings), issue_text, top_k=CANDIDATE_FILES,
                              graph=snap.graph)
    files = pack_files(lambda rel: _read_text(root, rel), records, localization, issue_text, file_tokens,
                       settings.context.whole_file_tokens, pinned)
    whole = [f.path for f in files if f.whole]
    repo_map = render_map(snap.columns, budget=map_tokens, focus=[f.path for f in files], issue_text=issue_text,
                          exclude=whole, graph=snap.graph).text if map_tokens > 0 else ""
    return ContextPack(repo_map=repo_map, files=files, localization=localization)
