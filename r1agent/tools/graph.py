"""The def/ref graph: an edge from each file to the files defining the names it uses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from r1agent.tools.columns import Columns, spans

if TYPE_CHECKING:
    from r1agent.tools.index import FileRecord

# Names defined in many files (get, run, __init__) say little about which file a reference means.
_GENERIC_DEFINERS = 5
# Past this many definers a name (create, __init__) links nothing useful and only multiplies edges.
_MAX_DEFINERS = 32
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
    def_file: np.ndarray  # per definition, in records order: its file
    def_name: np.ndarray  # per definition, in records order: its name's index in ``names``
    # Each (file, name) that some definition gives has a slot: edges into that file named after that
    # name share it, so the rank flowing into each definition is one bincount over slots (rank.py).
    edge_slot: np.ndarray  # per edge
    def_slot: np.ndarray  # per definition


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """True at the first element of each run of equal values in a sorted, non-empty array."""
    return np.concatenate(([True], ordered[1:] != ordered[:-1]))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of an int array without its cost: the first call of ``np.unique`` imports numpy.ma
    (~60 ms), which would dominate a warm run of a fresh process."""
    out = np.sort(values)
    return out[run_starts(out)] if len(out) else out


def build_graph(records: list[FileRecord], boosted: frozenset[str] = frozenset()) -> RefGraph:
    """The graph of ``records`` with edges named after ``boosted`` names weighing 10x."""
    return boost(link(Columns.from_records(records)), boosted)


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
    family = np.fromiter((_FAMILY.get(lang, len(_FAMILY)) for lang in cols.langs), dtype=np.int64,
                         count=len(cols.langs))
    present = sorted_unique(family)
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
    pairs = sorted_unique(def_pair)
    dfile, dkey = (pairs % n_files).astype(np.int32), pairs // n_files
    n_def = np.bincount(dkey, minlength=n_keys)
    first = np.concatenate(([0], np.cumsum(n_def)[:-1])) if n_names else np.zeros(0, dtype=np.int64)
    factor = np.ones(n_keys)
    factor[np.tile(cols.name_weak, n_keys // width) | (n_def > _GENERIC_DEFINERS)] = 0.1

    # Names defined nowhere in the repo (or the family), or by crowds, link nothing: no definer is repeated.
    rfile = cols.ref_file()
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
                    names=cols.names, def_file=all_file, def_name=all_name, edge_slot=slot[own],
                    def_slot=np.searchsorted(pairs, def_pair))
