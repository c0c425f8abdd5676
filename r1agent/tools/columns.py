"""The index snapshot as columns: every file's definitions and references in flat numpy arrays.

A run loads a handful of arrays instead of building thousands of objects, and a changed file is
spliced in by index arithmetic, so a one-file edit rebuilds nothing but that file's rows. Names
live in one sorted vocabulary that holds exactly the names in use, so a snapshot updated file by
file equals, array for array, one built from scratch: the map cannot depend on the edit history.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from itertools import compress
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np

from r1agent.tools.names import says_little
from r1agent.tools.strings import Packer, Strings
from r1agent.tools.symbols import Definition

if TYPE_CHECKING:  # index.py builds snapshots from these modules, so it imports this one
    from r1agent.tools.index import FileRecord

_INT = np.int32
_SEP = "\0"


def _take(values: Sequence[str], rows: np.ndarray) -> list[str]:
    """``values[rows]`` for a plain list, at C speed."""
    if len(rows) == 0:
        return []
    if len(rows) == 1:
        return [values[int(rows[0])]]
    return list(itemgetter(*rows.tolist())(values))


def _take_strings(values: Strings, rows: np.ndarray) -> Strings:
    return Strings.of(_take(list(values), rows))


def _find(names: list[str], name: str) -> int:
    """The index of ``name`` in the sorted ``names``, else -1 (a set of a big vocabulary costs more)."""
    i = bisect.bisect_left(names, name)
    return i if i < len(names) and names[i] == name else -1


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Row offsets from per-file row counts: file i's rows are offsets[i]:offsets[i+1]."""
    return np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))


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


@dataclass(frozen=True, eq=False)
class Columns:
    """File i's definitions are rows ``def_at[i]:def_at[i+1]``; its references ``ref_at[i]:ref_at[i+1]``."""

    paths: list[str]  # sorted
    langs: list[str]
    errors: np.ndarray  # per file: the tree had syntax errors
    names: list[str]  # sorted; every name some file defines or references, and no other
    name_weak: np.ndarray  # per name: it says little about the definition meant (see names.says_little)
    def_at: np.ndarray
    def_name: np.ndarray  # index into names
    def_start: np.ndarray
    def_end: np.ndarray
    def_parent: np.ndarray  # the row, counted from its file's first, of the definition enclosing it by name; else -1
    def_kind: Strings
    def_qualname: Strings
    def_signature: Strings
    ref_at: np.ndarray
    ref_name: np.ndarray  # index into names, ascending within a file
    ref_count: np.ndarray

    # On disk each list of strings is one joined string: one object to unpickle instead of thousands.
    def __getstate__(self) -> dict[str, object]:
        state: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                joined = _SEP.join(value)
                if joined.count(_SEP) == max(len(value) - 1, 0):  # no string holds the separator itself
                    value = (len(value), joined)
            state[f.name] = value
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            if isinstance(value, tuple):
                count, joined = value
                value = joined.split(_SEP) if count else []
            object.__setattr__(self, name, value)

    @classmethod
    def from_records(cls, records: Iterable[FileRecord]) -> Columns:
        """Columns of ``records``, in any order (files come out sorted by path).

        Records are read one at a time and not kept, so a first build of a big repository needs
        little more memory than the columns themselves.
        """
        paths: list[str] = []
        langs: list[str] = []
        errors: list[bool] = []
        ids: dict[str, int] = {}  # name -> id in order of first sight; sorted at the end
        def_counts, ref_counts = array("q"), array("q")
        def_name, def_start, def_end, def_parent, ref_name, ref_count = (array("i") for _ in range(6))
        def_kind, def_qualname, def_signature = Packer(), Packer(), Packer()
        for r in records:
            paths.append(r.path)
            langs.append(r.lang)
            errors.append(r.syntax_errors)
            def_counts.append(len(r.definitions))
            ref_counts.append(len(r.references))
            def_parent.extend(_parents(r.definitions))
            for d in r.definitions:
                def_name.append(ids.setdefault(d.name, len(ids)))
                def_start.append(d.start_line)
                def_end.append(d.end_line)
                def_kind.append(d.kind)
                def_qualname.append(d.qualname)
                def_signature.append(d.signature)
            for name, count in r.references.items():
                ref_name.append(ids.setdefault(name, len(ids)))
                ref_count.append(count)
        names = sorted(ids)
        final = np.empty(len(names), dtype=_INT)
        final[np.fromiter(map(ids.__getitem__, names), dtype=np.int64, count=len(names))] = np.arange(len(names))
        cols = cls(
            paths=paths, langs=langs, errors=np.asarray(errors, dtype=bool), names=names,
            name_weak=np.fromiter(map(says_little, names), dtype=bool, count=len(names)),
            def_at=_offsets(np.frombuffer(def_counts, dtype=np.int64)),
            def_name=final[np.frombuffer(def_name, dtype=_INT)],
            def_start=np.frombuffer(def_start, dtype=_INT).copy(), def_end=np.frombuffer(def_end, dtype=_INT).copy(),
            def_parent=np.frombuffer(def_parent, dtype=_INT).copy(),
            def_kind=def_kind.packed(), def_qualname=def_qualname.packed(), def_signature=def_signature.packed(),
            ref_at=_offsets(np.frombuffer(ref_counts, dtype=np.int64)),
            ref_name=final[np.frombuffer(ref_name, dtype=_INT)], ref_count=np.frombuffer(ref_count, dtype=_INT).copy(),
        )
        return cols._in_path_order()

    def updated(self, changed: dict[str, FileRecord | None]) -> Columns:
        """These columns with ``changed`` files replaced (None: removed); the rest is copied by index."""
        part = Columns.from_records(r for r in changed.values() if r is not None)

        # One vocabulary: the new names slot in, and every old id moves up by those sorted before it.
        extra = [n for n in part.names if _find(self.names, n) < 0]  # sorted, as part.names is
        names = sorted(self.names + extra) if extra else self.names
        inserted = np.asarray([bisect.bisect_left(self.names, e) for e in extra], dtype=np.int64)
        shift = np.searchsorted(inserted, np.arange(len(self.names)), side="right")
        old_ids = (np.arange(len(self.names)) + shift).astype(_INT)
        part_ids = np.asarray([bisect.bisect_left(names, n) for n in part.names], dtype=_INT)
        name_weak = np.zeros(len(names), dtype=bool)
        name_weak[old_ids] = self.name_weak
        name_weak[part_ids] = part.name_weak

        # Files in path order: runs of kept old files, with each changed file's new rows at its place.
        # Both id maps are increasing, so every file's references stay ascending by name id.
        part_at = {path: j for j, path in enumerate(part.paths)}
        pieces: list[tuple[Columns, np.ndarray, int, int]] = []  # (source, its id map, first file, end file)
        lo = 0
        for path in sorted(changed):
            i = bisect.bisect_left(self.paths, path)
            pieces.append((self, old_ids, lo, i))
            if path in part_at:
                pieces.append((part, part_ids, part_at[path], part_at[path] + 1))
            lo = i + 1 if i < len(self.paths) and self.paths[i] == path else i
        pieces.append((self, old_ids, lo, len(self.paths)))
        pieces = [piece for piece in pieces if piece[2] < piece[3]]

        def rows(at: str) -> list[tuple[Columns, np.ndarray, int, int]]:  # each piece's row range
            return [(src, ids, int(getattr(src, at)[a]), int(getattr(src, at)[b])) for src, ids, a, b in pieces]

        def cat(column: str, at: str, ids: bool = False) -> np.ndarray:
            parts = [m[getattr(src, column)[a:b]] if ids else getattr(src, column)[a:b] for src, m, a, b in rows(at)]
            return np.concatenate(parts) if parts else getattr(self, column)[:0]

        def strings(column: str) -> list[str]:  # per file
            out: list[str] = []
            for src, _, a, b in pieces:
                out += getattr(src, column)[a:b]
            return out

        def text(column: str) -> Strings:  # per definition
            return Strings.spliced([(getattr(src, column), a, b) for src, _, a, b in rows("def_at")])

        def offsets(at: str) -> np.ndarray:
            return _offsets(np.concatenate([np.diff(getattr(src, at)[a:b + 1]) for src, _, a, b in pieces])
                            if pieces else np.zeros(0, dtype=np.int64))

        joined = Columns(
            paths=strings("paths"), langs=strings("langs"),
            errors=np.concatenate([src.errors[a:b] for src, _, a, b in pieces]) if pieces else self.errors[:0],
            names=names, name_weak=name_weak, def_at=offsets("def_at"),
            def_name=cat("def_name", "def_at", ids=True), def_start=cat("def_start", "def_at"),
            def_end=cat("def_end", "def_at"), def_parent=cat("def_parent", "def_at"), def_kind=text("def_kind"),
            def_qualname=text("def_qualname"), def_signature=text("def_signature"),
            ref_at=offsets("ref_at"), ref_name=cat("ref_name", "ref_at", ids=True), ref_count=cat("ref_count", "ref_at"),
        )
        return joined._without_unused_names()

    def _in_path_order(self) -> Columns:
        """The same files sorted by path, and each file's references by name id (as ``ref_name`` promises)."""
        order = np.asarray(sorted(range(len(self.paths)), key=self.paths.__getitem__), dtype=np.int64)
        cols = self
        if np.any(order != np.arange(len(order))):
            def_counts, ref_counts = np.diff(self.def_at)[order], np.diff(self.ref_at)[order]
            def_rows = spans(self.def_at[:-1][order], def_counts)
            ref_rows = spans(self.ref_at[:-1][order], ref_counts)
            cols = replace(
                self, paths=_take(self.paths, order), langs=_take(self.langs, order), errors=self.errors[order],
                def_at=_offsets(def_counts), def_name=self.def_name[def_rows], def_start=self.def_start[def_rows],
                def_end=self.def_end[def_rows], def_parent=self.def_parent[def_rows],
                def_kind=_take_strings(self.def_kind, def_rows), def_qualname=_take_strings(self.def_qualname, def_rows),
                def_signature=_take_strings(self.def_signature, def_rows),
                ref_at=_offsets(ref_counts), ref_name=self.ref_name[ref_rows], ref_count=self.ref_count[ref_rows],
            )
        by_name = np.lexsort((cols.ref_name, cols.ref_file()))
        if np.any(by_name != np.arange(len(by_name))):
            cols = replace(cols, ref_name=cols.ref_name[by_name], ref_count=cols.ref_count[by_name])
        return cols

    def _without_unused_names(self) -> Columns:
        """Drop names no file defines or references any more (a removed file's), renumbering the rest."""
        used = (np.bincount(self.def_name, minlength=len(self.names))
                + np.bincount(self.ref_name, minlength=len(self.names))) > 0
        if used.all():
            return self
        renumber = (np.cumsum(used) - 1).astype(_INT)
        return replace(self, names=list(compress(self.names, used.tolist())), name_weak=self.name_weak[used],
                        def_name=renumber[self.def_name], ref_name=renumber[self.ref_name])

    def def_file(self) -> np.ndarray:
        """Per definition row: the index of its file."""
        return np.repeat(np.arange(len(self.paths), dtype=_INT), np.diff(self.def_at))

    def ref_file(self) -> np.ndarray:
        """Per reference row: the index of its file."""
        return np.repeat(np.arange(len(self.paths), dtype=_INT), np.diff(self.ref_at))

    def name_ids(self, wanted: Iterable[str]) -> np.ndarray:
        """Vocabulary ids of those ``wanted`` names that the repo uses (sorted)."""
        found = (_find(self.names, name) for name in sorted(set(wanted)))
        return np.asarray([i for i in found if i >= 0], dtype=_INT)

    def definitions(self, i: int) -> list[Definition]:
        a, b = int(self.def_at[i]), int(self.def_at[i + 1])
        return [Definition(self.names[n], self.def_kind[k], self.def_qualname[k], s, e, self.def_signature[k])
                for k, n, s, e in zip(range(a, b), self.def_name[a:b].tolist(), self.def_start[a:b].tolist(),
                                      self.def_end[a:b].tolist(), strict=True)]

    def records(self) -> dict[str, FileRecord]:
        """Every file as a ``FileRecord``, by path in path order (for code that wants objects)."""
        from r1agent.tools.index import FileRecord

        out = {}
        for i, path in enumerate(self.paths):
            a, b = int(self.ref_at[i]), int(self.ref_at[i + 1])
            refs = {self.names[n]: c for n, c in zip(self.ref_name[a:b].tolist(), self.ref_count[a:b].tolist(),
                                                      strict=True)}
            out[path] = FileRecord(path, self.langs[i], self.definitions(i), refs, bool(self.errors[i]))
        return out

    def same_as(self, other: Columns) -> bool:
        """Field-by-field equality, arrays included (dataclass ``==`` cannot compare arrays)."""
        return all(
            np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
            for a, b in ((getattr(self, f.name), getattr(other, f.name)) for f in fields(self))
        )

