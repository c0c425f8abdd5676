"""Every file's definitions and references as flat numpy arrays, built once per run from the index's
records, so the graph and the ranking are array joins rather than per-file Python loops."""

from __future__ import annotations

import bisect
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from r1agent.tools.symbols import Definition

if TYPE_CHECKING:
    from r1agent.tools.index import FileRecord

_INT = np.int32


def _offsets(counts: Sequence[int]) -> np.ndarray:
    """Row offsets from per-file row counts: file i's rows are offsets[i]:offsets[i+1]."""
    return np.concatenate(([0], np.cumsum(np.asarray(counts, dtype=np.int64))))


def spans(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Row numbers of consecutive runs: ``starts[i]`` repeated ``counts[i]`` times, counting up."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)


def _parents(definitions: Sequence[Definition]) -> list[int]:
    """Per definition, the first one in the file named by the longest proper prefix of its qualname
    (``A.B`` for ``A.B.c``, else ``A``), counted from the file's first definition; -1 when none is."""
    first: dict[str, int] = {}
    for j, d in enumerate(definitions):
        first.setdefault(d.qualname, j)
    parents = []
    for d in definitions:
        outer, parent = d.qualname, -1
        while parent < 0 and "." in outer:
            outer = outer.rsplit(".", 1)[0]
            parent = first.get(outer, -1)
        parents.append(parent)
    return parents


# A file's definitions as columns: names, kinds, qualnames, start lines, end lines, signatures, parents.
DefinitionColumns = tuple[list[str], list[str], list[str], list[int], list[int], list[str], list[int]]
ReferenceColumns = tuple[list[str], list[int]]  # names (sorted) and their counts


# Names and kinds are interned before they are stored: marshal keeps that, so a run that loads every
# file holds each name once, not once per file using it (a 20,000-file repo's references: ~1.5M).
def definition_columns(definitions: Sequence[Definition]) -> DefinitionColumns:
    columns = [list(c) for c in zip(*definitions, strict=True)] if definitions else [[] for _ in range(6)]
    columns[0], columns[1] = [sys.intern(n) for n in columns[0]], [sys.intern(k) for k in columns[1]]
    return (*columns, _parents(definitions))  # type: ignore[return-value]


def reference_columns(references: dict[str, int]) -> ReferenceColumns:
    names = sorted(references)
    return [sys.intern(n) for n in names], [references[n] for n in names]


def definitions_of(columns: DefinitionColumns) -> list[Definition]:
    return [Definition(*d) for d in zip(*columns[:6], strict=True)]


@dataclass(frozen=True, eq=False)
class Columns:
    """File i's definitions are rows ``def_at[i]:def_at[i+1]``; its references ``ref_at[i]:ref_at[i+1]``."""

    paths: list[str]  # sorted
    langs: list[str]
    names: list[str]  # sorted; every name some file defines or references, and no other
    def_at: np.ndarray
    def_name: np.ndarray  # index into names
    def_start: np.ndarray
    def_end: np.ndarray
    def_parent: np.ndarray  # the row, counted from its file's first, of the definition enclosing it by name; else -1
    def_qualname: list[str]
    def_signature: list[str]
    ref_at: np.ndarray
    ref_name: np.ndarray  # index into names, ascending within a file
    ref_count: np.ndarray

    @classmethod
    def from_records(cls, records: Iterable[FileRecord]) -> Columns:
        """Columns of ``records``, in any order (files come out sorted by path)."""
        return cls.from_rows(sorted(
            (r.path, r.lang, definition_columns(r.definitions), reference_columns(r.references)) for r in records))

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[str, str, DefinitionColumns, ReferenceColumns]]) -> Columns:
        """Columns of files given as (path, lang, definition columns, reference columns), sorted by path:
        the index stores files in this form, so a run joins lists rather than building objects."""
        def_names = list(chain.from_iterable(r[2][0] for r in rows))
        ref_names = list(chain.from_iterable(r[3][0] for r in rows))
        names = sorted(set(def_names).union(ref_names))
        ids = dict(zip(names, range(len(names)), strict=True))

        def ints(column: Iterable[int], count: int) -> np.ndarray:
            return np.fromiter(column, dtype=_INT, count=count)

        n_defs, n_refs = len(def_names), len(ref_names)
        return cls(
            paths=[r[0] for r in rows], langs=[r[1] for r in rows], names=names,
            def_at=_offsets([len(r[2][0]) for r in rows]),
            def_name=ints(map(ids.__getitem__, def_names), n_defs),
            def_start=ints(chain.from_iterable(r[2][3] for r in rows), n_defs),
            def_end=ints(chain.from_iterable(r[2][4] for r in rows), n_defs),
            def_parent=ints(chain.from_iterable(r[2][6] for r in rows), n_defs),
            def_qualname=list(chain.from_iterable(r[2][2] for r in rows)),
            def_signature=list(chain.from_iterable(r[2][5] for r in rows)),
            # Each file's names are stored sorted, and ids follow the sorted vocabulary: ascending per file.
            ref_at=_offsets([len(r[3][0]) for r in rows]), ref_name=ints(map(ids.__getitem__, ref_names), n_refs),
            ref_count=ints(chain.from_iterable(r[3][1] for r in rows), n_refs),
        )

    def def_file(self) -> np.ndarray:
        """Per definition row: the index of its file."""
        return np.repeat(np.arange(len(self.paths), dtype=_INT), np.diff(self.def_at))

    def name_ids(self, wanted: Iterable[str]) -> np.ndarray:
        """Vocabulary ids of those ``wanted`` names that the repo uses (sorted)."""
        found = ((bisect.bisect_left(self.names, name), name) for name in sorted(set(wanted)))
        return np.asarray([i for i, name in found if i < len(self.names) and self.names[i] == name], dtype=_INT)
