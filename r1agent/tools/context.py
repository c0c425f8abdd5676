"""The context pack the agent sends R1: a repo map, then the code most likely to change.

R1 cannot browse: what is not in the pack it cannot edit. Small files go in whole; a large file gives
its best-ranked definitions verbatim and a skeleton of the rest, with elisions marked (excerpts.py).
The order is stable (map, then files in rank order) so the prompt prefix is reusable by vLLM's cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from pathlib import Path

import numpy as np

from r1agent.events import EventSink, Phase, ignore
from r1agent.settings import Settings
from r1agent.tools.excerpts import Span, excerpt, first_member, header_span, is_container, unit_span
from r1agent.tools.files import check_content, is_secret, repo_root
from r1agent.tools.index import FileRecord, load_snapshot, update_index
from r1agent.tools.localize import ISSUE_NOISE, Localization, rank_files
from r1agent.tools.mentions import find_mentions, match_path
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
    """A repo file's text, or None when it is a secret, escapes the repo, or is not text the index would read."""
    path = (root / rel).resolve()
    if is_secret(rel) or not path.is_relative_to(root) or not path.is_file():
        return None
    data = path.read_bytes()
    return None if check_content(data) else data.decode("utf-8")


@dataclass
class _Candidate:
    """A ranked file as the packer weighs it: its text, definitions and their scores."""

    rel: str
    text: str
    weight: float  # the file's localization score, relative to the best file's
    why: str
    defs: list[Definition]
    scores: list[float] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    chosen: list[int] = field(default_factory=list)
    show_whole: bool = False

    @cached_property
    def lines(self) -> list[str]:
        """The lines with their ends, split at line feeds only, as tree-sitter counts them (splitlines also
        splits at form feeds and other breaks, which would shift every line number after one)."""
        return re.findall(r"[^\n]*\n|[^\n]+$", self.text)

    @cached_property
    def whole(self) -> FileContext:
        return FileContext(self.rel, self.text, True, (Span(1, max(len(self.lines), 1), self.text),), self.why)

    @cached_property
    def prefix(self) -> list[int]:
        """Tokens of the lines before each line: the estimate is additive."""
        return list(accumulate(map(estimate_tokens, self.lines), initial=0))

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
        text, spans = excerpt(self.lines, self.prefix, self.defs, self.chosen, SKELETON_TOKENS)
        names = [f"`{self.defs[i].qualname}`" for i in self.chosen]
        why = f"{self.why}; excerpts: " + ", ".join(names[:4]) + (" …" if len(names) > 4 else "")
        return FileContext(self.rel, text, False, spans, why if names else f"{self.why}; skeleton only",
                           tuple((self.defs[i].qualname, self.reasons[i]) for i in self.chosen))


def score_definitions(files: list[_Candidate], issue_text: str) -> None:
    """Each definition's relevance to the issue: BM25 of its own lines (a class: its opening lines only,
    since its members are scored apart) over all candidate files' definitions, plus names and frames;
    then a definition that a strong one uses takes a share of its score, as a fix often lands in the
    helper that the code the issue's words point at calls."""
    mentions = find_mentions(issue_text)
    query = [t for t in terms(issue_text) if t not in ISSUE_NOISE]
    plain = set(query)
    rows = [(f, d) for f in files for d in f.defs]
    docs, uses = [], []  # each definition's terms, and the names its own lines use
    for f in files:
        for i, d in enumerate(f.defs):
            own = identifiers("".join(f.lines[d.start_line:first_member(f.defs, i) - 1]))  # after its first line
            docs.append(terms_of_identifiers(identifiers(f.lines[d.start_line - 1]) + own) + terms(d.qualname))
            uses.append(set(own) - {d.name})
    lexical = np.zeros(len(rows))
    if query and rows:
        raw = bm25(query_counts(docs, plain), np.fromiter(map(len, docs), dtype=np.float64, count=len(docs)), query)
        lexical = raw / raw.max() if raw.max() > 0 else lexical
    frames = [(p, fr) for fr in mentions.frames for p in match_path(fr.path, [f.rel for f in files])]
    named_parts = {w for w in mentions.identifiers if len(w) > 2 and "." not in w}
    scores, why = [], []
    for k, (f, d) in enumerate(rows):
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
        if any(p == f.rel and fr.function == d.name for p, fr in frames):
            s += W_FRAME  # the traceback names it (its line numbers may be of another version)
            reasons.append("a stack frame of the issue names it")
        elif any(p == f.rel and d.start_line <= fr.line <= d.end_line for p, fr in frames):
            s += W_FRAME / 2
            reasons.append("a stack frame's line falls in it")
        scores.append(s)
        why.append("; ".join(reasons) or "weak match")
    where: dict[str, list[int]] = {}
    for k, (_f, d) in enumerate(rows):
        where.setdefault(d.name, []).append(k)
    bonus: dict[int, tuple[float, str]] = {}
    for k, names in enumerate(uses):
        value = W_CALLEE * scores[k]
        for j in (j for name in names for j in where.get(name, ()) if j != k):
            if value > max(0.05, bonus.get(j, (0.0, ""))[0]):
                bonus[j] = (value, f"`{rows[k][1].qualname}` uses it")
    for j, (value, reason) in bonus.items():
        scores[j] += value
        why[j] = reason if why[j] == "weak match" else f"{why[j]}; {reason}"
    for k, (f, _d) in enumerate(rows):
        f.scores.append(round(scores[k], 9))
        f.reasons.append(why[k])


def pack_files(
    root: Path, records: dict[str, FileRecord], localization: Localization, issue_text: str,
    file_tokens: int, whole_tokens: int, pinned: Iterable[str] = (),
) -> list[FileContext]:
    """Pinned files whole, then the definitions of the ranked files that matter most, across files: each
    definition's value is its score against the issue times its file's rank score, so the budget is not
    spent on the first files alone. A file whose whole text costs little more than its excerpt (or fits
    ``whole_tokens`` once the definitions are chosen) is shown whole."""
    pinned = list(dict.fromkeys(pinned))
    hits = {h.path: h for h in localization.files[:CANDIDATE_FILES]}
    top = max((h.score for h in hits.values()), default=1.0) or 1.0
    files = [_Candidate(rel, text, 1.0 if rel in pinned else max(hits[rel].score, 0.0) / top,
                        "pinned" if rel in pinned else hits[rel].why, records[rel].definitions if rel in records else [])
             for rel in dict.fromkeys([*pinned, *hits]) if (text := _read_text(root, rel)) is not None]
    score_definitions(files, issue_text)
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
    on_event(Phase("localizing"))
    localization = rank_files(snap, issue_text, top_k=CANDIDATE_FILES)
    files = pack_files(root, snap.records, localization, issue_text, file_tokens, settings.context.whole_file_tokens,
                       pinned)
    whole = [f.path for f in files if f.whole]
    repo_map = render_map(snap, budget=map_tokens, focus=[f.path for f in files], issue_text=issue_text,
                          exclude=whole).text if map_tokens > 0 else ""
    return ContextPack(repo_map=repo_map, files=files, localization=localization)
