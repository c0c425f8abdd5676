"""A sequence of strings packed as UTF-8 bytes plus each one's end offset.

The index snapshot holds tens of thousands of signatures and qualified names. Packed, they load as one
object each instead of one per string. A splice (the snapshot with one edited file swapped in) shares
the bytes of the row ranges it keeps instead of copying them: a fresh process would otherwise copy
(and fault in) a megabyte to change one file. Rows decode when read; the map reads a few hundred.
Loaded from the index's mapped snapshot file, the bytes stay in the page cache: see mapped.py.
"""

from __future__ import annotations

import bisect
import pickle
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

_NO_ENDS = np.zeros(0, dtype=np.int64)
# A long session splices splices; past this many runs the rows are packed again, so reads stay cheap.
MAX_RUNS = 64


@dataclass(frozen=True)
class _Run:
    """Consecutive rows stored in ``data``: the first starts at ``start``, row i ends at ``ends[i]``."""

    data: bytes | memoryview  # a view when loaded from a mapped file
    start: int
    ends: np.ndarray


class Strings(Sequence[str]):
    """Immutable; rows are read by number (``s[k]``) or in order (``iter``)."""

    __slots__ = ("_runs", "_firsts")

    def __init__(self, runs: list[_Run]) -> None:
        self._runs = [r for r in runs if len(r.ends)]
        self._firsts = list(accumulate((len(r.ends) for r in self._runs), initial=0))  # each run's first row

    @classmethod
    def of(cls, items: Iterable[str]) -> Strings:
        packer = Packer()
        for item in items:
            packer.append(item)
        return packer.packed()

    @classmethod
    def spliced(cls, pieces: Sequence[tuple[Strings, int, int]]) -> Strings:
        """Rows a:b of each (strings, a, b) in turn; no bytes are copied."""
        runs = []
        for src, a, b in pieces:
            for j, run in enumerate(src._runs):
                first = src._firsts[j]
                lo, hi = max(a - first, 0), min(b - first, len(run.ends))
                if lo < hi:
                    start = int(run.ends[lo - 1]) if lo else run.start
                    runs.append(_Run(run.data, start, run.ends[lo:hi]))
        spliced = cls(runs)
        return spliced if len(spliced._runs) <= MAX_RUNS else _unpack(*spliced.packed())

    def packed(self) -> tuple[bytes, np.ndarray]:
        """All rows as one byte string and their ends in it."""
        datas, ends, size = [], [], 0
        for run in self._runs:
            end = int(run.ends[-1])
            datas.append(memoryview(run.data)[run.start:end])
            ends.append(run.ends + (size - run.start))
            size += end - run.start
        return b"".join(datas), (np.concatenate(ends) if ends else _NO_ENDS)

    def __len__(self) -> int:
        return self._firsts[-1]

    def __getitem__(self, k: int) -> str:  # type: ignore[override]  # rows by number only
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        j = bisect.bisect_right(self._firsts, k) - 1 if len(self._runs) > 1 else 0
        run, i = self._runs[j], k - self._firsts[j]
        return str(run.data[int(run.ends[i - 1]) if i else run.start:int(run.ends[i])], "utf-8")

    def __iter__(self) -> Iterator[str]:
        for run in self._runs:
            start, data = run.start, run.data
            for end in run.ends.tolist():
                yield str(data[start:end], "utf-8")
                start = end

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Strings):
            return NotImplemented
        (data, ends), (other_data, other_ends) = self.packed(), other.packed()
        return data == other_data and np.array_equal(ends, other_ends)

    __hash__ = None  # type: ignore[assignment]

    def __reduce_ex__(self, protocol: int) -> tuple:  # type: ignore[override]
        data, ends = self.packed()
        # From protocol 5 the bytes may travel out of band, to be read in place (see mapped.py).
        return _unpack, (pickle.PickleBuffer(data) if protocol >= 5 else data, ends)


class Packer:
    """Packs strings as they come, holding no str object: a first build of a big repo streams a few
    hundred thousand signatures through here."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("q")

    def append(self, item: str) -> None:
        self._data += item.encode("utf-8")
        self._ends.append(len(self._data))

    def packed(self) -> Strings:
        return Strings([_Run(bytes(self._data), 0, np.frombuffer(self._ends, dtype=np.int64).copy())])


def _unpack(data: bytes | memoryview, ends: np.ndarray) -> Strings:
    return Strings([_Run(data, 0, ends)])
