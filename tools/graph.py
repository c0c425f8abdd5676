"""The def/ref graph: an edge from each file to the files defining the names it uses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the index stores a linked graph in its snapshot, so it imports this module
    from r1agent.tools.index import FileRecord

# Names defined in many files (get, run, __init__) say little about which file a reference means.
_GENERIC_DEFINERS = 5
# Method names every container and stream has: a call to them rarely means the repo's own definition.
_UBIQUITOUS = frozenset(
    "append extend insert pop remove clear copy get set items keys values update add discard join split strip "
    "format encode decode read write close open flush send recv run start stop next iter len str repr hash "
    "find index count replace lower upper sort reverse setdefault log debug info warning error exception map "
    "match filter search sub".split()
)
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
    return boost(link(records), boosted)


def boost(graph: RefGraph, names: frozenset[str]) -> RefGraph:
    """A copy of ``graph`` whose edges named after ``names`` (say, those an issue mentions) weigh 10x."""
    if not names or not len(graph.ident):
        return graph
    factor = np.fromiter((10.0 if n in names else 1.0 for n in graph.names), dtype=np.float64, count=len(graph.names))
    return replace(graph, weight=graph.weight * factor[graph.ident])


def link(records: list[FileRecord]) -> RefGraph:
    """Edges weighted by sqrt(reference count), split among definers, weaker for generic names.

    Built with array joins: the per-name work is numpy's, so thousands of files stay cheap.
    """
    ids: dict[str, int] = {}
    # Flat lists built by comprehensions, then numpy: per-item Python work kept to one dict lookup.
    def_counts = [len(rec.definitions) for rec in records]
    every_name = [ids.setdefault(d.name, len(ids)) for rec in records for d in rec.definitions]
    n_defined = len(ids)
    all_file = np.repeat(np.arange(len(records), dtype=np.int64), def_counts)
    all_name = np.asarray(every_name, dtype=np.int64)
    # A file defining a name twice (overloads, if/else branches) is still one definer.
    pairs = sorted_unique(all_file * max(n_defined, 1) + all_name)
    def_file, def_name = pairs // max(n_defined, 1), pairs % max(n_defined, 1)
    ref_counts = [len(rec.references) for rec in records]
    every_ref = np.fromiter((ids.get(name, -1) for rec in records for name in rec.references), dtype=np.int64,
                            count=sum(ref_counts))
    every_count = np.fromiter((c for rec in records for c in rec.references.values()), dtype=np.float64,
                              count=len(every_ref))
    linked = every_ref >= 0  # names defined nowhere in the repo link nothing
    ref_file = np.repeat(np.arange(len(records), dtype=np.int64), ref_counts)[linked]
    ref_name = every_ref[linked]
    ref_count = every_count[linked]
    names = list(ids)

    dfile, dname = def_file, def_name
    order = np.argsort(dname, kind="stable")
    dfile, dname = dfile[order], dname[order]
    n_def = np.bincount(dname, minlength=n_defined)
    first = np.concatenate(([0], np.cumsum(n_def)[:-1])) if n_defined else np.zeros(0, dtype=np.int64)

    rfile, rname, rcount = ref_file, ref_name, ref_count
    keep = n_def[rname] <= _MAX_DEFINERS if len(rname) else np.zeros(0, dtype=bool)
    rfile, rname, rcount = rfile[keep], rname[keep], rcount[keep]

    # One edge per (reference, definer of that name): repeat each reference once per definer.
    fan = n_def[rname]
    src = np.repeat(rfile, fan)
    ident = np.repeat(rname, fan)
    offset = np.arange(len(src)) - np.repeat(np.cumsum(fan) - fan, fan)
    dst = dfile[first[ident] + offset] if len(src) else np.zeros(0, dtype=np.int64)
    weight = np.sqrt(np.repeat(rcount, fan)) / fan.repeat(fan)
    factor = np.ones(n_defined)
    weak = np.array([n.startswith("_") or len(n) < 3 or n in _UBIQUITOUS for n in names], dtype=bool)
    weak |= n_def > _GENERIC_DEFINERS
    factor[weak] = 0.1
    weight = weight * factor[ident] if len(ident) else weight
    own = src != dst
    return RefGraph(paths=[r.path for r in records], src=src[own], dst=dst[own], ident=ident[own],
                    weight=weight[own], names=names, def_file=all_file, def_name=all_name)
