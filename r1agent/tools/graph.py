"""The def/ref graph (an edge from each file to the files defining the names it uses) and personalised
PageRank over it, by power iteration on numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from r1agent.tools.columns import Columns, spans

# Names defined in many files (get, run, __init__) say little about which file a reference means.
_GENERIC_DEFINERS = 5
# Past this many definers a name (create, __init__) links nothing useful and only multiplies edges.
_MAX_DEFINERS = 32
# Method names every container and stream has: a call to them rarely means the repo's own definition.
_UBIQUITOUS = frozenset(
    "append extend insert pop remove clear copy get set items keys values update add discard join split strip "
    "format encode decode read write close open flush send recv run start stop next iter len str repr hash "
    "find index count replace lower upper sort reverse setdefault log debug info warning error exception map "
    "match filter search sub".split()
)
# Languages whose files call each other by name. A Python reference to ``Path`` does not mean a C++
# typedef that happens to share the name; across families, shared names are mostly such collisions.
_FAMILY = {"python": 0, "javascript": 1, "typescript": 1, "tsx": 1, "go": 2, "rust": 3, "java": 4, "c": 5, "cpp": 5}


@dataclass
class RefGraph:
    """Nodes are file paths (sorted); edge k goes src[k] -> dst[k] because src uses names[ident[k]]."""

    paths: list[str]
    src: np.ndarray
    dst: np.ndarray
    ident: np.ndarray
    weight: np.ndarray
    names: list[str]
    # Each (file, name) that some definition gives has a slot: edges into that file named after that
    # name share it, so the rank flowing into each definition is one bincount over slots (rank_definitions).
    edge_slot: np.ndarray  # per edge
    def_slot: np.ndarray  # per definition


def says_little(name: str) -> bool:
    """Private (``_x``), very short, or a method name every container and stream has: its references say
    little about which definition they mean, so their edges weigh less."""
    return name.startswith("_") or len(name) < 3 or name in _UBIQUITOUS


def boost(graph: RefGraph, names: frozenset[str]) -> RefGraph:
    """A copy of ``graph`` whose edges named after ``names`` (say, those an issue mentions) weigh 10x."""
    if not names or not len(graph.ident):
        return graph
    factor = np.fromiter((10.0 if n in names else 1.0 for n in graph.names), dtype=np.float64, count=len(graph.names))
    return replace(graph, weight=graph.weight * factor[graph.ident])


def link(cols: Columns) -> RefGraph:
    """Edges weighted by sqrt(reference count), split among definers, weaker for generic names.

    A reference links only to definers in its own language family (see _FAMILY). Built with array
    joins on the snapshot's columns: no per-file Python work, so thousands of files stay cheap.
    """
    n_names = len(cols.names)
    width = max(n_names, 1)
    # The join key is (family, name); a one-family repo (most) has keys equal to name ids.
    family = np.asarray([_FAMILY.get(lang, len(_FAMILY)) for lang in cols.langs], dtype=np.int64)
    present = np.unique(family)
    family = np.searchsorted(present, family)
    n_keys = width * max(len(present), 1)

    def keys(files: np.ndarray, names: np.ndarray) -> np.ndarray:
        return family[files] * width + names if len(present) > 1 else names.astype(np.int64)

    # File and name ids fit 32 bits; edges are many, so their arrays stay narrow. Keys are 64-bit.
    all_file, all_name = cols.def_file(), cols.def_name
    n_files = max(len(cols.paths), 1)
    # Each (key, file) pair defining that key once, in key order, then file order: its position is its slot.
    # A file defining a name twice (overloads, if/else branches) is still one definer.
    def_pair = keys(all_file, all_name) * n_files + all_file
    pairs = np.unique(def_pair)
    dfile, dkey = (pairs % n_files).astype(np.int32), pairs // n_files
    n_def = np.bincount(dkey, minlength=n_keys)
    first = np.concatenate(([0], np.cumsum(n_def)[:-1])) if n_names else np.zeros(0, dtype=np.int64)
    factor = np.ones(n_keys)
    weak = np.fromiter(map(says_little, cols.names), dtype=bool, count=n_names)
    factor[np.tile(weak, n_keys // width) | (n_def > _GENERIC_DEFINERS)] = 0.1

    # Names defined nowhere in the repo (or the family), or by crowds, link nothing: no definer is repeated.
    rfile = np.repeat(np.arange(len(cols.paths), dtype=np.int32), np.diff(cols.ref_at))
    rkey = keys(rfile, cols.ref_name)
    fan = n_def[rkey]
    fan[fan > _MAX_DEFINERS] = 0
    per_ref = np.sqrt(cols.ref_count.astype(np.float64)) / np.maximum(fan, 1) * factor[rkey]

    # One edge per (reference, definer of that name): repeat each reference once per definer.
    src = np.repeat(rfile, fan)
    ident = np.repeat((rkey % width).astype(np.int32), fan)
    slot = spans(first[rkey], fan)
    dst = dfile[slot]
    weight = np.repeat(per_ref, fan)
    own = src != dst
    return RefGraph(paths=cols.paths, src=src[own], dst=dst[own], ident=ident[own], weight=weight[own],
                    names=cols.names, edge_slot=slot[own], def_slot=np.searchsorted(pairs, def_pair))


DAMPING = 0.85
# The walk stops once a step moves less than this much rank in all (L1; the ranks sum to 1). Maps
# rendered on four repos (164 to 2,073 files, nine languages) were the same as with 1e-10, which took
# twice the steps; the first differences came at 1e-4.
TOLERANCE = 1e-6


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
    share = DAMPING * w / out[src] if len(w) else w
    dangling = (out == 0).astype(np.float64)  # their walkers restart: a dot product per step
    rank = restart.copy()
    for _ in range(iterations):
        # The walk follows an edge, or restarts: always from a dangling file, else with odds 1 - DAMPING.
        # (bincount gives ints when there are no edges.)
        new = np.bincount(dst, weights=rank[src] * share, minlength=n).astype(np.float64, copy=False)
        new += ((1 - DAMPING) + DAMPING * float(rank @ dangling)) * restart
        done = np.abs(new - rank).sum() < TOLERANCE
        rank = new
        if done:
            break
    return rank


def rank_definitions(graph: RefGraph, rank: np.ndarray) -> np.ndarray:
    """Score of each definition (records order): the rank flowing into its file along edges named after it."""
    if not len(graph.src) or not len(graph.def_slot):
        return np.zeros(len(graph.def_slot))
    out = np.bincount(graph.src, weights=graph.weight, minlength=len(graph.paths))
    flowing = np.bincount(graph.edge_slot, weights=rank[graph.src] * graph.weight / out[graph.src],
                          minlength=len(graph.def_slot))  # slots are fewer than definitions
    return flowing[graph.def_slot]
