"""Render the repository map: ranked files with their key signatures, cut to a token budget.

The cut is one pass over definitions in rank order; the output depends only on the index contents
and the request, so identical inputs give byte-identical maps (a stable prompt prefix for vLLM).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from r1agent.events import EventSink, ignore
from r1agent.settings import Settings
from r1agent.tools import mentions, rank, tokens
from r1agent.tools.graph import RefGraph, boost, build_graph
from r1agent.tools.index import FileRecord, load_snapshot, read_rendered, update_index, write_rendered
from r1agent.tools.mentions import find_mentions, match_path
from r1agent.tools.rank import pagerank, rank_definitions
from r1agent.tools.symbols import Definition
from r1agent.tools.tokens import estimate_tokens

# A stored map is reused only when the code that renders maps is the same as when it was stored.
_RENDER_VERSION = hashlib.sha256(b"".join(
    Path(m.__file__).read_bytes() for m in (mentions, rank, tokens) if m.__file__) + Path(__file__).read_bytes()
).hexdigest()[:16]
_MENTION_BOOST = 10.0
_FOCUS_BOOST = 3.0


@dataclass(frozen=True)
class RepoMap:
    text: str
    tokens: int  # estimated with r1agent.tools.tokens.estimate_tokens
    files: tuple[str, ...]
    definitions: int


def _header(path: str) -> str:
    return f"{path}:\n"


def _prefix(start_line: int, depth: int) -> str:
    return f"{start_line:>5}│{'  ' * depth}"


def _line(d: Definition) -> str:
    return f"{_prefix(d.start_line, d.qualname.count('.'))}{d.signature}\n"


def personalization(records: list[FileRecord], focus: Iterable[str], issue_text: str) -> tuple[dict[str, float], frozenset[str]]:
    """Restart weights for PageRank (focus files, paths and definers named in the issue) and the names to boost."""
    paths = [r.path for r in records]
    personal: dict[str, float] = {}
    for f in focus:
        for p in match_path(f, paths):
            personal[p] = personal.get(p, 0) + 1.0
    mentions = find_mentions(issue_text) if issue_text else None
    idents: frozenset[str] = frozenset()
    if mentions:
        for mp in sorted(mentions.paths | {f.path for f in mentions.frames}):
            for p in match_path(mp, paths):
                personal[p] = personal.get(p, 0) + 1.0
        idents = frozenset(i for i in mentions.identifiers if "." not in i)
        defined: dict[str, list[str]] = {}
        for r in records:
            for d in r.definitions:
                if d.name in idents:
                    defined.setdefault(d.name, []).append(r.path)
        for where in defined.values():
            for p in where:
                personal[p] = personal.get(p, 0) + 0.5 / len(where)
    return personal, idents


def render_map(
    records: list[FileRecord], *, budget: int, focus: Iterable[str] = (), issue_text: str = "",
    exclude: Iterable[str] = (), graph: RefGraph | None = None,
) -> RepoMap:
    """Pick definitions in rank order while they fit ``budget`` tokens, then print them grouped by file.

    ``graph`` is the records' linked graph when the caller has it (the index snapshot keeps one).
    """
    focus = list(focus)
    personal, idents = personalization(records, focus, issue_text)
    graph = boost(graph, idents) if graph is not None else build_graph(records, boosted=idents)
    file_rank = pagerank(graph, personal)
    def_rank = rank_definitions(graph, file_rank)

    flat = [(rec.path, d) for rec in records for d in rec.definitions]
    n_defs = np.asarray([len(rec.definitions) for rec in records], dtype=np.float64)
    # Every definition gets a share of its file's rank, so unreferenced files still order sensibly.
    score = def_rank + file_rank[graph.def_file] / (10 * (n_defs[graph.def_file] + 1))
    if idents:
        mentioned = np.asarray([name in idents for name in graph.names], dtype=bool)
        score[mentioned[graph.def_name]] *= _MENTION_BOOST
    in_focus = np.asarray([rec.path in personal for rec in records], dtype=bool)
    if in_focus.any():
        # A focus file's own signatures lead; its rank is mostly restart mass, not in-links.
        focused = in_focus[graph.def_file]
        score[focused] = score[focused] * _FOCUS_BOOST + file_rank[graph.def_file[focused]]
    skip = set(exclude)
    if skip:
        score[np.asarray([rec.path in skip for rec in records], dtype=bool)[graph.def_file]] = -1.0
    # Ties fall back to records order: path, then line. Deterministic for identical inputs.
    order = np.lexsort((np.arange(len(flat)), -score))

    by_file = {rec.path: rec.definitions for rec in records}
    qualnames: dict[str, dict[str, Definition]] = {}

    def enclosing(path: str, qualname: str) -> Definition | None:
        if path not in qualnames:  # built only for files that reach the map
            qualnames[path] = {}
            for d in by_file[path]:
                qualnames[path].setdefault(d.qualname, d)
        return qualnames[path].get(qualname)

    chosen: dict[str, dict[int, Definition]] = {}
    file_order: list[str] = []
    used = 0
    misses = 0
    for idx in order:
        if score[idx] < 0:
            break  # excluded files sort last
        path, d = flat[idx]
        # Once the budget is nearly spent, or nothing has fit for a while, the rest cannot matter.
        if budget - used < 4 or misses > 200:
            break
        picked = chosen.get(path, {})
        if id(d) in picked:
            continue
        # A nested definition brings its enclosing ones along, so a method shows under its class.
        chain = [d]
        parts = d.qualname.split(".")
        for k in range(len(parts) - 1, 0, -1):
            parent = enclosing(path, ".".join(parts[:k]))
            if parent is not None and id(parent) not in picked:
                chain.append(parent)
        cost = sum(estimate_tokens(_line(x)) for x in chain)
        if path not in chosen:
            cost += estimate_tokens(_header(path)) + (1 if file_order else 0)
        if used + cost > budget:
            misses += 1
            # The file's name alone may still fit: a ranked path is worth more than unused budget.
            header = estimate_tokens(_header(path)) + (1 if file_order else 0)
            if path not in chosen and used + header <= budget:
                used += header
                chosen[path] = {}
                file_order.append(path)
            continue
        misses = 0
        used += cost
        if path not in chosen:
            chosen[path] = {}
            file_order.append(path)
        for x in chain:
            chosen[path][id(x)] = x

    blocks = []
    for path in file_order:
        defs = sorted(chosen[path].values(), key=lambda x: (x.start_line, x.end_line, x.qualname))
        blocks.append(_header(path) + "".join(_line(x) for x in defs))
    text = "\n".join(blocks)
    return RepoMap(text=text, tokens=estimate_tokens(text), files=tuple(file_order),
                   definitions=sum(len(v) for v in chosen.values()))


def build_repo_map(
    repo: Path, settings: Settings, *, budget: int = 1024, focus: Iterable[str] = (), issue_text: str = "",
    exclude: Iterable[str] = (), on_event: EventSink = ignore,
) -> RepoMap:
    """Update the index, then render the map of ``repo`` within ``budget`` estimated tokens."""
    report = update_index(repo, settings, on_event=on_event)
    return map_of_snapshot(repo, settings, report.snapshot, budget=budget, focus=focus, issue_text=issue_text,
                           exclude=exclude)


def map_of_snapshot(
    repo: Path, settings: Settings, snapshot: str, *, budget: int, focus: Iterable[str] = (), issue_text: str = "",
    exclude: Iterable[str] = (),
) -> RepoMap:
    """The map of the index as ``update_index`` left it (``snapshot`` is its report's id).

    A map is a pure function of the snapshot and the request, so an unchanged repo reprints the map
    stored by the last identical request instead of ranking again.
    """
    focus, exclude = list(focus), sorted(set(exclude))
    key = hashlib.sha256(json.dumps([_RENDER_VERSION, budget, focus, issue_text, exclude]).encode()).hexdigest()
    if snapshot:
        stored = read_rendered(repo, settings, key)
        if stored is not None:
            fields = json.loads(stored)
            return RepoMap(fields["text"], fields["tokens"], tuple(fields["files"]), fields["definitions"])
    snap = load_snapshot(repo, settings)
    result = render_map(list(snap.records.values()), budget=budget, focus=focus, issue_text=issue_text,
                        exclude=exclude, graph=snap.graph)
    if snapshot:  # else load_snapshot just rebuilt a stale snapshot: the next run stores the map
        write_rendered(repo, settings, snapshot, key, json.dumps(asdict(result)))
    return result
