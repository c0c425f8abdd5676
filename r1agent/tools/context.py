"""The context pack the agent sends R1: a repo map, then the code most likely to change.

R1 cannot browse: what is not in the pack it cannot edit. Small files go in whole; a large file gives
its best-ranked definitions verbatim and a skeleton of the rest, with elisions marked (excerpts.py).
The order is stable (map, then files in rank order) so the prompt prefix is reusable by vLLM's cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from r1agent.events import EventSink, Phase, ignore
from r1agent.settings import Settings
from r1agent.tools.excerpts import Span, excerpt, header_span, is_container, unit_span
from r1agent.tools.files import is_secret, repo_root
from r1agent.tools.index import FileRecord, load_snapshot, load_terms, update_index
from r1agent.tools.localize import ISSUE_NOISE, Localization, rank_files
from r1agent.tools.mentions import Mentions, find_mentions, match_path
from r1agent.tools.repomap import render_map
from r1agent.tools.symbols import Definition
from r1agent.tools.terms import bm25, identifiers, query_counts, terms, terms_of_identifiers
from r1agent.tools.tokens import estimate_tokens

CANDIDATE_FILES = 12  # files the localizer hands the packer, best first
FILE_POWER = 2.0  # a definition's value: (its score + BASE_VALUE) times its file's relative score to this power
BASE_VALUE = 0.1  # what a definition the issue's words miss is still worth, for its file's rank
WHOLE_SLACK = 4.0  # a file whose whole text costs at most this many times its first excerpt goes in whole
WHOLE_EXTRA = 400  # ... or at most this many tokens more
SKELETON_TOKENS = 200  # the signatures shown of an excerpted file's other definitions
HEADING_TOKENS = 30  # a file's heading, fence and elision note
MARKER_TOKENS = 8  # one elision marker line
EXCERPT_NOTE = "(excerpts: each `⋮ lines A-B not shown` line stands for lines of the file that are not shown; never quote it)"
# A definition's score: its words against the issue, plus what the issue names outright.
W_NAMED = 1.0  # its name (or Class.name) is written in the issue as code
W_WORD = 0.3  # its name appears among the issue's plain words
W_PART = 0.4  # a part of its name (_print_Mul: Mul) is written in the issue as code
W_FRAME = 1.5  # a stack frame of the issue points into it
W_CALLEE = 0.3  # of a definition's score, the share each definition it uses takes


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
    uses: list[set[str]] = []  # the names each definition's own lines use
    for rel, (text, defs) in files.items():
        lines = text.splitlines()
        for i, d in enumerate(defs):
            end = d.end_line
            inner = [o.start_line for o in defs if d.start_line < o.start_line <= d.end_line]
            if inner:
                end = min(inner) - 1
            rows.append((rel, i))
            own = identifiers("\n".join(lines[d.start_line:end]))  # the lines after its first
            docs.append(terms_of_identifiers(identifiers(lines[d.start_line - 1]) + own) + terms(d.qualname))
            uses.append(set(own) - {d.name})
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
        out[rel][i] = s
        why[rel][i] = "; ".join(reasons) or "weak match"
    _spread(files, rows, uses, out, why)
    return {rel: [round(x, 9) for x in v] for rel, v in out.items()}, why


def _spread(files: dict[str, tuple[str, list[Definition]]], rows: list[tuple[str, int]], uses: list[set[str]],
            out: dict[str, list[float]], why: dict[str, list[str]]) -> None:
    """A definition that a strong one uses takes a share of that one's score: a fix often lands in the
    helper that the code the issue's words point at calls."""
    where: dict[str, list[tuple[str, int]]] = {}
    for rel, i in rows:
        where.setdefault(files[rel][1][i].name, []).append((rel, i))
    bonus: dict[tuple[str, int], tuple[float, str]] = {}
    for (rel, i), names in zip(rows, uses, strict=True):
        value = W_CALLEE * out[rel][i]
        for key in (key for name in names for key in where.get(name, ()) if key != (rel, i)):
            if value > max(0.05, bonus.get(key, (0.0, ""))[0]):
                bonus[key] = (value, f"`{files[rel][1][i].qualname}` uses it")
    for (rel, i), (value, reason) in bonus.items():
        out[rel][i] += value
        why[rel][i] = reason if why[rel][i] == "weak match" else f"{why[rel][i]}; {reason}"


def _why_excerpt(chosen: Sequence[str], why: str) -> str:
    shown = ", ".join(f"`{q}`" for q in chosen[:4]) + (" …" if len(chosen) > 4 else "")
    return f"{why}; excerpts: {shown}" if shown else f"{why}; skeleton only"


@dataclass
class _Candidate:
    """A ranked file as the packer weighs it: its text, definitions and their scores."""

    rel: str
    text: str
    weight: float  # the file's localization score, relative to the best file's
    why: str
    defs: list[Definition]
    scores: list[float]
    reasons: list[str]
    whole: FileContext
    chosen: list[int] = field(default_factory=list)
    show_whole: bool = False

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    @cached_property
    def prefix(self) -> list[int]:
        """Tokens of the lines before each line: the estimate is additive."""
        out = [0]
        for line in self.lines:
            out.append(out[-1] + estimate_tokens(line))
        return out

    def opening_cost(self) -> int:
        head = header_span(self.defs, len(self.lines))
        return HEADING_TOKENS + SKELETON_TOKENS + (self.prefix[head[1]] if head else 0)

    def unit_cost(self, i: int) -> int:
        a, b = unit_span(self.lines, self.defs, i)[0]
        return self.prefix[b] - self.prefix[a - 1] + MARKER_TOKENS

    def covers(self, i: int) -> bool:
        d = self.defs[i]
        return any(self.defs[j].start_line <= d.start_line and d.end_line <= self.defs[j].end_line
                   for j in self.chosen)

    def shown(self) -> FileContext:
        if self.show_whole:
            return self.whole
        ex = excerpt(self.lines, self.prefix, self.defs, self.chosen, SKELETON_TOKENS)
        by_name = {d.qualname: self.reasons[i] for i, d in enumerate(self.defs)}
        return FileContext(self.rel, ex.text, False, ex.spans, _why_excerpt(ex.chosen, self.why),
                           tuple((q, by_name.get(q, "")) for q in ex.chosen))


def _candidates(read: Callable[[str], str | None], records: dict[str, FileRecord], localization: Localization,
                issue_text: str, pinned: list[str]) -> list[_Candidate]:
    hits = {h.path: h for h in localization.files[:CANDIDATE_FILES]}
    top = max((h.score for h in hits.values()), default=1.0) or 1.0
    order = list(dict.fromkeys([*pinned, *hits]))
    texts = {rel: t for rel in order if (t := read(rel)) is not None}
    parsed = {rel: (texts[rel], list(records[rel].definitions) if rel in records else []) for rel in order
              if rel in texts}
    scores, reasons = score_definitions(parsed, issue_text, find_mentions(issue_text))
    out = []
    for rel, (text, defs) in parsed.items():
        why = "pinned" if rel in pinned else hits[rel].why
        weight = 1.0 if rel in pinned else max(hits[rel].score, 0.0) / top
        out.append(_Candidate(rel, text, weight, why, defs, scores[rel], reasons[rel], _whole(rel, text, why)))
    return out


def pack_files(
    read: Callable[[str], str | None], records: dict[str, FileRecord], localization: Localization, issue_text: str,
    file_tokens: int, whole_tokens: int, pinned: Iterable[str] = (),
) -> list[FileContext]:
    """Pinned files whole, then the definitions of the ranked files that matter most, across files: each
    definition's value is its score against the issue times its file's rank score, so the budget is not
    spent on the first files alone. A file whose whole text costs little more than its excerpt (or fits
    ``whole_tokens`` once the definitions are chosen) is shown whole."""
    pinned = list(dict.fromkeys(pinned))
    files = _candidates(read, records, localization, issue_text, pinned)
    left = file_tokens
    taken: list[_Candidate] = []  # the file of each excerpt choice, in the order made

    def fits_whole(f: _Candidate, cap: int) -> bool:
        nonlocal left
        extra = f.whole.tokens - sum(f.unit_cost(i) for i in f.chosen) - (f.opening_cost() if f.chosen else 0)
        if f.show_whole or f.whole.tokens > cap or extra > left:
            return False
        f.show_whole, left = True, left - extra
        return True

    for f in files:
        if f.rel in pinned:
            fits_whole(f, file_tokens)
    units = sorted(((f.weight ** FILE_POWER * (f.scores[i] + BASE_VALUE), k, f.defs[i].start_line, i)
                    for k, f in enumerate(files) for i in range(len(f.defs))
                    if not is_container(f.defs, i) and f.scores[i] > 0), key=lambda u: (-u[0], u[1], u[2]))
    for _value, k, _line, i in units:
        f = files[k]
        if f.show_whole or f.covers(i):
            continue
        cost = f.unit_cost(i) + (0 if f.chosen else f.opening_cost())
        if not f.chosen and fits_whole(f, min(whole_tokens, max(cost * WHOLE_SLACK, cost + WHOLE_EXTRA))):
            continue  # the whole file costs little more than this one definition
        if cost <= left:
            f.chosen.append(i)
            taken.append(f)
            left -= cost
    for f in files:  # then whole, in rank order: files with a choice, and those the issue's words miss entirely
        if f.chosen or not any(f.scores):
            fits_whole(f, whole_tokens)
    while True:
        out = [f.shown() for f in files if f.show_whole or f.chosen]
        if sum(c.tokens for c in out) <= file_tokens or not taken:
            return out
        last = taken.pop()  # the estimate fell short: undo the latest choice
        if not last.show_whole:
            last.chosen.pop()


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
