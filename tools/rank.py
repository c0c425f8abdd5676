"""Personalised PageRank over the def/ref graph, by power iteration on numpy arrays."""

from __future__ import annotations

import numpy as np

from r1agent.tools.graph import RefGraph

DAMPING = 0.85


def pagerank(graph: RefGraph, personal: dict[str, float] | None = None, iterations: int = 60) -> np.ndarray:
    """Stationary rank of each file; the random walk restarts at ``personal`` files (else anywhere)."""
    n = len(graph.paths)
    if n == 0:
        return np.zeros(0)
    restart = np.zeros(n)
    index = {p: i for i, p in enumerate(graph.paths)}
    for path, w in (personal or {}).items():
        if path in index and w > 0:
            restart[index[path]] += w
    if restart.sum() == 0:
        restart[:] = 1.0
    restart /= restart.sum()
    src, dst, w = graph.src, graph.dst, graph.weight
    out = np.bincount(src, weights=w, minlength=n)
    share = w / out[src] if len(w) else w
    dangling = out == 0
    rank = restart.copy()
    for _ in range(iterations):
        flow = np.bincount(dst, weights=rank[src] * share, minlength=n)
        new = DAMPING * (flow + rank[dangling].sum() * restart) + (1 - DAMPING) * restart
        if np.abs(new - rank).sum() < 1e-10:
            rank = new
            break
        rank = new
    return rank


def rank_definitions(graph: RefGraph, rank: np.ndarray) -> np.ndarray:
    """Score of each definition (records order): the rank flowing into its file along edges named after it."""
    scores = np.zeros(len(graph.def_file))
    if not len(graph.src) or not len(scores):
        return scores
    n = len(graph.paths)
    width = len(graph.names)
    out = np.bincount(graph.src, weights=graph.weight, minlength=n)
    # Group edges by (file, name); sorted by hand, as np.unique would import numpy.ma (see graph.sorted_unique).
    flat = graph.dst.astype(np.int64) * width + graph.ident
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    keys = ordered[first]
    where = np.empty(len(flat), dtype=np.int64)
    where[order] = np.cumsum(first) - 1
    sums = np.bincount(where, weights=rank[graph.src] * graph.weight / out[graph.src])
    wanted = graph.def_file.astype(np.int64) * width + graph.def_name
    pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    hit = keys[pos] == wanted
    scores[hit] = sums[pos[hit]]
    return scores
