"""The def/ref graph: an edge from each file to the files defining the names it uses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from r1agent.tools.columns import Columns

if TYPE_CHECKING:
    from r1agent.tools.index import FileRecord

# Names defined in many files (get, run, __init__) say little about which file a reference means.
_GENERIC_DEFINERS = 5
# Past this many definers a name (create, __init__) links nothing useful and only multiplies edges.
_MAX_DEFINERS = 32


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


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of an int array without its cost: the first call of ``np.unique`` imports numpy.ma
    (~60 ms), which would dominate a warm run of a fresh process."""
    out = np.sort(values)
    return out[np.concatenate(([True], out[1:] != out[:-1]))] if len(out) else out


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

    Built with array joins on the snapshot's columns: no per-file Python work, so thousands of files stay cheap.
    """
    n_names = len(cols.names)
    width = max(n_names, 1)
    # File and name ids fit 32 bits; edges are many, so their arrays stay narrow. Keys are 64-bit.
    all_file, all_name = cols.def_file(), cols.def_name
    # A file defining a name twice (overloads, if/else branches) is still one definer.
    pairs = sorted_unique(all_file.astype(np.int64) * width + all_name)
    dfile, dname = (pairs // width).astype(np.int32), pairs % width
    order = np.argsort(dname, kind="stable")
    dfile, dname = dfile[order], dname[order]
    n_def = np.bincount(dname, minlength=n_names)
    first = np.concatenate(([0], np.cumsum(n_def)[:-1])) if n_names else np.zeros(0, dtype=np.int64)

    # Names defined nowhere in the repo have no definers and so link nothing.
    rfile, rname = cols.ref_file(), cols.ref_name
    rcount = cols.ref_count.astype(np.float64)
    keep = n_def[rname] <= _MAX_DEFINERS if len(rname) else np.zeros(0, dtype=bool)
    rfile, rname, rcount = rfile[keep], rname[keep], rcount[keep]

    # One edge per (reference, definer of that name): repeat each reference once per definer.
    fan = n_def[rname]
    src = np.repeat(rfile, fan)
    ident = np.repeat(rname, fan)
    offset = np.arange(len(src)) - np.repeat(np.cumsum(fan) - fan, fan)
    dst = dfile[first[ident] + offset] if len(src) else np.zeros(0, dtype=np.int32)
    weight = np.sqrt(np.repeat(rcount, fan)) / fan.repeat(fan)
    factor = np.ones(n_names)
    factor[cols.name_weak | (n_def > _GENERIC_DEFINERS)] = 0.1
    weight = weight * factor[ident] if len(ident) else weight
    own = src != dst
    return RefGraph(paths=cols.paths, src=src[own], dst=dst[own], ident=ident[own],
                    weight=weight[own], names=cols.names, def_file=all_file, def_name=all_name)
