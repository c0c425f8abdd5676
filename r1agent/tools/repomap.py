"""Render the repository map: ranked files with their key signatures, cut to a token budget.

The cut is one pass over definitions in rank order; the output depends only on the index contents
and the request, so identical inputs give byte-identical maps (a stable prompt prefix for vLLM).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from r1agent.events import EventSink, ignore
from r1agent.settings import Settings
from r1agent.tools.columns import Columns
from r1agent.tools.graph import boost, pagerank, rank_definitions
from r1agent.tools.index import Snapshot, load_snapshot, update_index
from r1agent.tools.mentions import find_mentions, match_path
from r1agent.tools.tokens import estimate_tokens

_MENTION_BOOST = 10.0
_FOCUS_BOOST = 3.0


@dataclass(frozen=True)
class RepoMap:
    text: str
    tokens: int  # estimated with r1agent.tools.tokens.estimate_tokens
    files: tuple[str, ...]


def personalization(cols: Columns, focus: Iterable[str], issue_text: str) -> tuple[dict[str, float], frozenset[str]]:
    """Restart weights for PageRank (focus files, paths and definers named in the issue) and the names to boost."""
    paths = cols.paths
    personal: dict[str, float] = defaultdict(float)
    mentions = find_mentions(issue_text)
    for mp in [*focus, *sorted(mentions.paths | {f.path for f in mentions.frames})]:
        for p in match_path(mp, paths):
            personal[p] += 1.0
    idents = frozenset(i for i in mentions.identifiers if "." not in i)
    def_file = cols.def_file()
    for name_id in cols.name_ids(idents).tolist():
        # Each definition counts, so a file defining the name twice gets two shares.
        where = def_file[cols.def_name == name_id].tolist()
        for i in where:
            personal[paths[i]] += 0.5 / len(where)
    return personal, idents


def render_map(
    snap: Snapshot, *, budget: int, focus: Iterable[str] = (), issue_text: str = "", exclude: Iterable[str] = (),
) -> RepoMap:
    """Pick definitions in rank order while they fit ``budget`` tokens, then print them grouped by file."""
    cols = snap.columns
    personal, idents = personalization(cols, focus, issue_text)
    graph = boost(snap.graph, idents)
    file_rank = pagerank(graph, personal)
    def_rank = rank_definitions(graph, file_rank)

    def_file = cols.def_file()
    n_defs = np.diff(cols.def_at).astype(np.float64)
    # Every definition gets a share of its file's rank, so unreferenced files still order sensibly.
    score = def_rank + file_rank[def_file] / (10 * (n_defs[def_file] + 1))
    if idents:
        score[np.isin(cols.def_name, cols.name_ids(idents))] *= _MENTION_BOOST
    if personal:
        # A focus file's own signatures lead; its rank is mostly restart mass, not in-links.
        focused = np.asarray([p in personal for p in cols.paths], dtype=bool)[def_file]
        score[focused] = score[focused] * _FOCUS_BOOST + file_rank[def_file[focused]]
    skip = set(exclude)
    if skip:
        score[np.asarray([p in skip for p in cols.paths], dtype=bool)[def_file]] = -1.0
    # Ties fall back to row order (path, then line): a stable sort. Deterministic for identical inputs.
    order = np.argsort(-score, kind="stable")

    @cache
    def line(k: int) -> tuple[str, int]:
        """Definition row ``k``'s map line and that line's token estimate."""
        text = f"{int(cols.def_start[k]):>5}│{'  ' * cols.def_qualname[k].count('.')}{cols.def_signature[k]}\n"
        return text, estimate_tokens(text)

    parents, file_start = cols.def_parent.tolist(), cols.def_at.tolist()
    chosen: dict[int, set[int]] = {}  # file -> its definition rows in the map
    used = misses = 0
    for idx in order.tolist():
        if score[idx] < 0:
            break  # excluded files sort last
        # Once the budget is nearly spent, or nothing has fit for a while, the rest cannot matter.
        if budget - used < 4 or misses > 200:
            break
        f = int(def_file[idx])
        picked = chosen.get(f, set())
        if idx in picked:
            continue
        # A nested definition brings its enclosing ones along, so a method shows under its class.
        chain = [idx]
        up = parents[idx]
        while up >= 0:
            row = file_start[f] + up
            if row not in picked:
                chain.append(row)
            up = parents[row]
        header = 0 if f in chosen else estimate_tokens(f"{cols.paths[f]}:\n")
        cost = sum(line(x)[1] for x in chain) + header
        if used + cost > budget:
            misses += 1
            # The file's name alone may still fit: a ranked path is worth more than unused budget.
            if header and used + header <= budget:
                used += header
                chosen[f] = set()
            continue
        misses = 0
        used += cost
        chosen.setdefault(f, set()).update(chain)

    blocks = []
    for f, rows in chosen.items():
        # Rows run in file order (by start line, end line, name), so sorting them gives reading order.
        blocks.append(f"{cols.paths[f]}:\n" + "".join(line(k)[0] for k in sorted(rows)))
    text = "\n".join(blocks)
    # The estimate is additive over lines, and a blank line after a line's "\n" costs nothing more, so
    # ``used`` is exactly the estimate of the text (tests check it).
    return RepoMap(text=text, tokens=used, files=tuple(cols.paths[f] for f in chosen))


def build_repo_map(
    repo: Path, settings: Settings, *, budget: int = 1024, focus: Iterable[str] = (), issue_text: str = "",
    on_event: EventSink = ignore,
) -> RepoMap:
    """Update the index, then render the map of ``repo`` within ``budget`` estimated tokens."""
    update_index(repo, settings, on_event=on_event)
    return render_map(load_snapshot(repo, settings), budget=budget, focus=focus, issue_text=issue_text)
