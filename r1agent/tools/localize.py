"""Rank the files (and symbols) most likely to need an edit for an issue, with no model.

Signals: BM25 over each file's terms and over each definition, the paths, stack-trace frames and
identifiers the issue names, and personalised PageRank on the def/ref graph seeded by those signals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from r1agent.events import EventSink, Phase, ignore
from r1agent.settings import Settings
from r1agent.tools.graph import boost, pagerank
from r1agent.tools.index import FileTerms, Snapshot, load_snapshot, update_index
from r1agent.tools.mentions import find_mentions, match_path
from r1agent.tools.terms import bm25, query_counts, split_identifier, terms

# Weights of the signals in a file's score; each signal is first scaled to [0, 1].
W_FILE_TEXT = 1.0
W_SYMBOLS = 0.7
W_PATH = 1.0
W_FRAME = 0.8
W_IDENT = 0.6
W_GRAPH = 0.3
W_PRIOR = 0.2  # how central a file is in the graph, unpersonalised: core modules change more often
W_SIZE = 0.2  # bigger files hold more of the bugs; BM25's length normalisation alone would hide them
TEST_FACTOR = 0.6  # fixes mostly edit the code under test, not the tests
PERIPHERAL_FACTOR = 0.5  # docs, examples, build scripts rarely hold the bug
_PERIPHERAL_DIRS = {"docs", "doc", "examples", "example", "scripts", "benchmarks", "bench", "tools", "ci", ".github"}
_PERIPHERAL_FILES = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "ez_setup.py", "tasks.py", "conf.py"}
# Words every bug report uses; they match code named after them (fix_*, BugReport) by accident.
ISSUE_NOISE = frozenset(
    "fix fixed fixes fixing bug bugs issue issues close closes closed see problem should now also would "
    "work works working broken break breaks regression revert reverts commit patch pr".split()
)


@dataclass(frozen=True)
class FileHit:
    path: str
    score: float
    why: str


@dataclass(frozen=True)
class SymbolHit:
    path: str
    name: str  # qualified: Class.method
    kind: str
    line: int
    score: float


@dataclass
class Localization:
    files: list[FileHit] = field(default_factory=list)
    symbols: list[SymbolHit] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"files": [asdict(f) for f in self.files], "symbols": [asdict(s) for s in self.symbols]}


def _is_test(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return "test" in path.split("/")[:-1] or "tests" in path.split("/")[:-1] or name.startswith("test_") \
        or name.endswith(("_test.py", "_test.go", ".test.ts", ".test.js", ".spec.ts", ".spec.js", "Test.java"))


def _is_peripheral(path: str) -> bool:
    parts = path.split("/")
    return parts[-1] in _PERIPHERAL_FILES or not _PERIPHERAL_DIRS.isdisjoint(parts[:-1])


@lru_cache(maxsize=1 << 14)
def _path_terms(path: str) -> tuple[str, ...]:
    return tuple(t for part in path.replace(".", "/").split("/") for t in [part.lower(), *split_identifier(part)]
                 if len(t) > 1)


def _lexical_scores(terms_of: list[FileTerms], words: np.ndarray, paths: list[str], def_file: np.ndarray,
                    query: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """BM25 of each file (its ``words`` terms, with its path's terms three times over: paths say much, and
    are short) and of each definition (its own terms and its file's path's), for ``query``."""
    wanted = set(query)
    path_terms = [_path_terms(p) for p in paths]
    path_counts = query_counts(path_terms, wanted)
    path_len = np.fromiter(map(len, path_terms), dtype=np.float64, count=len(paths))
    file_len = words + 3 * path_len
    file_counts = {q: np.fromiter((t.counts.get(q, 0) for t in terms_of), dtype=np.float64, count=len(paths))
                   + 3 * path_counts[q] for q in wanted}
    defs = [d for t in terms_of for d in t.definitions]
    def_len = np.fromiter(map(len, defs), dtype=np.float64, count=len(defs))
    def_len += path_len[def_file]
    def_counts = {q: c + path_counts[q][def_file] for q, c in query_counts(defs, wanted).items()}
    return bm25(file_counts, file_len, query), bm25(def_counts, def_len, query)


def _scaled(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else values


def rank_files(snap: Snapshot, issue_text: str, top_k: int = 10) -> Localization:
    """The pure ranking step: index contents and issue text in, ranked files and symbols out."""
    records = list(snap.records.values())
    if not records:
        return Localization()
    paths = [r.path for r in records]
    index = {p: i for i, p in enumerate(paths)}
    n = len(paths)
    query = [t for t in terms(issue_text) if t not in ISSUE_NOISE]
    reasons: list[list[str]] = [[] for _ in range(n)]

    terms_of = [snap.terms[p] for p in paths]
    words = np.fromiter((sum(t.counts.values()) for t in terms_of), dtype=np.float64, count=n)
    sym_rows = [(i, d) for i, r in enumerate(records) for d in r.definitions]
    def_file = np.fromiter((i for i, _d in sym_rows), dtype=np.int64, count=len(sym_rows))
    file_bm25, sym_scores = (_scaled(s) for s in _lexical_scores(terms_of, words, paths, def_file, query))
    best_sym = np.zeros(n)
    np.maximum.at(best_sym, def_file, sym_scores)

    mentions = find_mentions(issue_text)
    mention = np.zeros(n)

    def credit(p: str, weight: float, reason: str) -> None:
        mention[index[p]] += weight
        reasons[index[p]].append(reason)

    for mp in sorted(mentions.paths):
        for p in match_path(mp, paths):
            credit(p, W_PATH, f"path {mp} named in issue")
    for frame in mentions.frames:
        for p in match_path(frame.path, paths):
            credit(p, W_FRAME, f"stack frame {p}:{frame.line}")
    # Dotted names (pkg.module.Class) may name a module path: the shortest prefix that is one counts.
    for ident in sorted(i for i in mentions.identifiers if "." in i):
        modules = (ident.rsplit(".", k)[0] for k in range(ident.count("."), 0, -1))
        module, hits = next(((m, h) for m in modules if (h := match_path(m.replace(".", "/") + ".py", paths))),
                            ("", []))
        for p in hits:
            credit(p, W_PATH / 2, f"module {module} named in issue")
    definers: dict[str, list[int]] = defaultdict(list)
    for i, d in sym_rows:
        definers[d.name].append(i)
        if d.qualname != d.name:
            definers[d.qualname].append(i)
    named: dict[int, list[str]] = defaultdict(list)
    for ident in sorted(mentions.identifiers):
        where = sorted(set(definers.get(ident, ())))
        if where and len(where) <= 10:
            for i in where:
                named[i].append(ident)
                mention[i] += W_IDENT / math.sqrt(len(where)) / (1 + 0.5 * (len(named[i]) - 1))
    for i, names in named.items():
        reasons[i].append("defines " + ", ".join(f"`{x}`" for x in names[:3]) + " named in issue")

    base = W_FILE_TEXT * file_bm25 + W_SYMBOLS * best_sym + mention
    # The graph spreads relevance from the strongest candidates to the files they use or are used by.
    names = frozenset(mentions.identifiers)
    graph = boost(snap.graph, names)
    seeds = {paths[i]: float(base[i]) for i in np.argsort(-base, kind="stable")[:20] if base[i] > 0}
    graph_score = _scaled(pagerank(graph, seeds)) if seeds else np.zeros(n)
    prior = _scaled(np.sqrt(pagerank(graph)))
    size = _scaled(np.log1p(words))
    total = base + W_GRAPH * graph_score + W_PRIOR * prior + W_SIZE * size
    total *= [TEST_FACTOR if _is_test(p) else PERIPHERAL_FACTOR if _is_peripheral(p) else 1.0 for p in paths]

    order = sorted(np.flatnonzero(total > 0).tolist(), key=lambda i: (-round(float(total[i]), 9), paths[i]))[:top_k]
    hits = []
    for i in order:
        why = list(reasons[i])
        if file_bm25[i] >= 0.5:
            why.append(f"issue words match file text ({file_bm25[i]:.2f})")
        if best_sym[i] >= 0.5:
            top_def = max(records[i].definitions, key=lambda d: d.name.lower() in query)
            why.append(f"issue words match symbols such as `{top_def.qualname}`")
        if graph_score[i] >= 0.3 and not why:
            why.append("closely linked in the def/ref graph to other matches")
        hits.append(FileHit(paths[i], round(float(total[i]), 4), "; ".join(why) or "weak lexical match"))

    kept = {h.path for h in hits}
    shown = [k for k in np.flatnonzero(sym_scores > 0).tolist() if paths[sym_rows[k][0]] in kept]
    symbols = []
    for k in sorted(shown, key=lambda k: (-round(float(sym_scores[k]), 9), k))[:top_k * 2]:
        i, d = sym_rows[k]
        symbols.append(SymbolHit(paths[i], d.qualname, d.kind, d.start_line, round(float(sym_scores[k]), 4)))
    return Localization(files=hits, symbols=symbols)


def localize(
    repo: Path, issue_text: str, settings: Settings, top_k: int = 10, *, on_event: EventSink = ignore,
) -> Localization:
    """Update the index of ``repo`` and rank its files for ``issue_text``."""
    on_event(Phase("localizing"))
    update_index(repo, settings, on_event=on_event)
    return rank_files(load_snapshot(repo, settings), issue_text, top_k)
