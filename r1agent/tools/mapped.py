"""Pickles whose arrays and byte strings are read straight from the page cache, not copied.

The index snapshot is a megabyte or more of numpy arrays and packed strings. A plain pickle copies
all of it into fresh memory on every load, and on a small VM first-touch page faults make that copy
cost more than the rest of a run's work. Here the pickle keeps its large buffers out of band
(protocol 5), each written after the pickle stream at an aligned offset; a load maps the file and
hands those buffers back as read-only views, so only the pages a run reads are ever touched.

Files are replaced by rename, never rewritten in place, so a mapping stays valid while it is used.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
from pathlib import Path

_MAGIC = b"r1mapped"
_HEAD = struct.Struct("<8sQQ")  # magic, pickle length, buffer count
_SPAN = struct.Struct("<QQ")  # a buffer's offset and length
_ALIGN = 64  # numpy's preferred alignment; arrays on unaligned views take slow paths


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def dump(obj: object, path: Path) -> None:
    """Write ``obj`` to ``path`` atomically (a reader sees the old file or the new one, never a mix)."""
    buffers: list[pickle.PickleBuffer] = []
    stream = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    spans, at = [], _aligned(_HEAD.size + _SPAN.size * len(raws) + len(stream))
    for raw in raws:
        spans.append((at, raw.nbytes))
        at = _aligned(at + raw.nbytes)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(_HEAD.pack(_MAGIC, len(stream), len(raws)))
            f.writelines(_SPAN.pack(*span) for span in spans)
            f.write(stream)
            for (offset, _), raw in zip(spans, raws, strict=True):
                f.seek(offset)
                f.write(raw)
            f.truncate(at)  # to the end of the last span, though it be empty
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written file behind
        raise


def load(path: Path) -> object:
    """What ``dump`` wrote; its buffers are read-only views of the mapped file.

    Raises OSError when the file cannot be read, ValueError (or an unpickling error) when it is not one
    of ours or is cut short."""
    with open(path, "rb") as f:
        view = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))  # ValueError when empty
    if len(view) < _HEAD.size:
        raise ValueError(f"{path}: too short")
    magic, length, count = _HEAD.unpack_from(view)
    start = _HEAD.size + _SPAN.size * count
    if magic != _MAGIC or start + length > len(view):
        raise ValueError(f"{path}: not a mapped pickle")
    buffers = []
    for k in range(count):
        offset, size = _SPAN.unpack_from(view, _HEAD.size + _SPAN.size * k)
        if offset + size > len(view):
            raise ValueError(f"{path}: cut short")
        buffers.append(view[offset:offset + size])
    return pickle.loads(view[start:start + length], buffers=buffers)
