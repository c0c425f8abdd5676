"""The persistent symbol index: one SQLite file per repository under the cache dir.

A file is re-parsed only when its content hash changes; a matching (mtime, size) skips even the read.
Parsing runs in a process pool over bounded chunks, so huge repositories neither exhaust memory nor hang.
Every parsed file is also kept in columns (see columns.py), a snapshot file that loads far faster than
the rows and is updated by splicing in the changed files.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from r1agent.events import EventSink, Progress, ignore
from r1agent.settings import Settings
from r1agent.tools import columns as columns_module
from r1agent.tools import mapped
from r1agent.tools import names as names_module
from r1agent.tools import strings as strings_module
from r1agent.tools.columns import Columns
from r1agent.tools.files import FileListing, Skip, check_content, list_files, repo_root
from r1agent.tools.graph import RefGraph, link
from r1agent.tools.languages import language_for
from r1agent.tools.reparse import parse_edited
from r1agent.tools.symbols import Block, Definition, parse_source
from r1agent.tools.terms import terms_of_identifiers

SCHEMA_VERSION = "10"
CHUNK_FILES = 48  # files per pool task: small enough to bound memory, big enough to amortise IPC
INLINE_BELOW = 24  # fewer changed files than this are parsed in-process (a pool costs more to start)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, hash TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    lang TEXT NOT NULL, syntax_errors INTEGER NOT NULL, defs TEXT NOT NULL, refs TEXT NOT NULL,
    idents TEXT NOT NULL, skip TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS blocks (path TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rendered (key TEXT PRIMARY KEY, snapshot TEXT NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memo (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


@dataclass(frozen=True)
class FileRecord:
    """One indexed file as the ranking code reads it back."""

    path: str
    lang: str
    definitions: list[Definition]
    references: dict[str, int]
    syntax_errors: bool


@dataclass
class IndexReport:
    """What an update did: counts, the files it re-parsed, and every skip with its reason."""

    files: int = 0
    parsed: list[str] = field(default_factory=list)
    removed: int = 0
    skipped: list[Skip] = field(default_factory=list)
    syntax_errors: int = 0
    seconds: float = 0.0

    def skip_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(s.reason for s in self.skipped).items()))


def db_path(root: Path, settings: Settings) -> Path:
    """Index file for a repo: keyed by its resolved path so two checkouts never share one."""
    key = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    return settings.cache_dir / "index" / f"{root.name}-{key}.sqlite"


def _is_damage(error: sqlite3.DatabaseError) -> bool:
    """A damaged or foreign file ("malformed", "not a database"), as opposed to a lock or an I/O error."""
    return type(error) is sqlite3.DatabaseError


def _discard(db: Path) -> None:
    """Delete a damaged index and everything beside it; it is only a cache of the work tree."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), _snapshot_path(db)):
        path.unlink(missing_ok=True)
    _recent.pop(db, None)


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as e:
        conn.close()
        if not _is_damage(e):
            raise
        _discard(path)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
    # No fsync: the index is a cache of the work tree. An OS crash may cost it (it is then discarded or,
    # when rows merely roll back, their stale stat makes the files parse again), never the user's work;
    # and each change saves two fsyncs of ~8 ms.
    conn.execute("PRAGMA synchronous=OFF")
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    except sqlite3.OperationalError:  # a new file: no tables yet
        conn.executescript(_SCHEMA)
        row = None
    if row is None or row[0] != SCHEMA_VERSION:  # an older layout: start over, it is only a cache
        conn.executescript("DROP TABLE files; DROP TABLE skipped; DROP TABLE IF EXISTS rendered; "
                           "DROP TABLE IF EXISTS memo; DROP TABLE IF EXISTS blocks; DELETE FROM meta;")
        conn.executescript(_SCHEMA)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        conn.commit()
    return conn


def _snapshot_path(db: Path) -> Path:
    return db.with_suffix(".columns.pickle")


def _record_from_row(path: str, lang: str, defs: str, refs: str, err: int) -> FileRecord:
    return FileRecord(path, lang, [Definition(*d) for d in json.loads(defs)], json.loads(refs), bool(err))


class Snapshot:
    """Every parsed file in columns; the records and the def/ref graph are built on first use."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns

    @cached_property
    def records(self) -> dict[str, FileRecord]:
        """By path, in path order."""
        return self.columns.records()

    @cached_property
    def graph(self) -> RefGraph:
        return link(self.columns)


# A snapshot written by other column code (or other name flags) is rebuilt from the rows, never misread.
_SNAPSHOT_VERSION = hashlib.sha256(SCHEMA_VERSION.encode() + b"".join(
    Path(m.__file__).read_bytes() for m in (columns_module, mapped, names_module, strings_module)
    if m.__file__)).hexdigest()[:16]

# Meta keys: 'snapshot' names the index's current contents (every change of records gives a new name);
# 'columns' names the contents the columns file holds; 'pending' lists the paths changed since that file
# was written, whose rows are applied when it is loaded. A small change so writes only its own rows.
PENDING_MAX = 64

# The last snapshot this process read or wrote (its name and contents), so an update followed by a load
# unpickles nothing.
_recent: dict[Path, tuple[str, Snapshot]] = {}


def _load(path: Path) -> object:
    # Unpickling builds many small strings; the cycle collector has nothing to find among them.
    gc.disable()
    try:
        return mapped.load(path)
    finally:
        gc.enable()


def _meta(conn: sqlite3.Connection, key: str) -> str:
    """A meta value written by this version of the snapshot code, else ""."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row is not None and row[0].startswith(_SNAPSHOT_VERSION) else ""


def _pending(conn: sqlite3.Connection) -> list[str]:
    row = conn.execute("SELECT value FROM meta WHERE key = 'pending'").fetchone()
    return json.loads(row[0]) if row is not None else []


def _new_name() -> str:
    return f"{_SNAPSHOT_VERSION}-{os.urandom(8).hex()}"


def _mark_changed(conn: sqlite3.Connection, paths: Iterable[str]) -> None:
    """Record changed files in the transaction that writes their rows, so a crash cannot split the two."""
    pending = sorted(set(_pending(conn)).union(paths))
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                     [("pending", json.dumps(pending)), ("snapshot", _new_name())])


def _remember(db: Path, name: str, snap: Snapshot) -> Snapshot:
    _recent.clear()
    _recent[db] = (name, snap)
    return snap


def _write_columns(conn: sqlite3.Connection, db: Path, columns: Columns, contents: str) -> Snapshot:
    """Persist the columns whole, folding in every pending change (after a first build or many changes).

    ``contents`` names the index state the columns hold. Should another process have changed the index
    meanwhile, the file is not claimed as current, so the next load rebuilds from the rows, never misses one.
    """
    name = _new_name()
    mapped.dump((name, columns), _snapshot_path(db))
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _meta(conn, "snapshot") == contents:
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                             [("snapshot", name), ("columns", name), ("pending", "[]")])
    finally:
        conn.commit()
    return _remember(db, name, Snapshot(columns))


def _read_snapshot(conn: sqlite3.Connection, db: Path) -> Snapshot:
    """The index's current contents: from memory, from the columns file plus pending rows, or from all rows."""
    name = _meta(conn, "snapshot")
    if name and db in _recent and _recent[db][0] == name:
        return _recent[db][1]
    try:
        stored, columns = _load(_snapshot_path(db))
        if name and stored == _meta(conn, "columns") and isinstance(columns, Columns):
            pending = _pending(conn)
            if pending:
                rows = _rows(conn, "SELECT path, lang, defs, refs, syntax_errors FROM files "
                                   "WHERE skip = '' AND path IN ({})", pending)
                found = {r[0]: _record_from_row(*r) for r in rows}
                columns = columns.updated({p: found.get(p) for p in pending})
            return _remember(db, name, Snapshot(columns))
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
        pass  # missing or torn: the SQLite rows are the source of truth
    return _write_columns(conn, db, _columns_from_rows(conn), name)


def _columns_from_rows(conn: sqlite3.Connection) -> Columns:
    """Every parsed file's row, decoded one at a time into the columns (no list of records is held)."""
    # In path order (SQLite compares UTF-8 bytes: code point order, as Python sorts), so nothing is reordered.
    rows = conn.execute("SELECT path, lang, defs, refs, syntax_errors FROM files WHERE skip = '' ORDER BY path")
    return Columns.from_records(_record_from_row(*r) for r in rows)


@dataclass(frozen=True)
class _Job:
    path: str
    old_hash: str | None
    last_parse: tuple[str, str, str] | None = None  # the row's definitions, blocks and words, when worth reusing


@dataclass(frozen=True)
class _Outcome:
    """A worker's answer for one file: parsed (row set), unchanged (same hash), or skipped."""

    path: str
    hash: str = ""
    mtime_ns: int = 0
    size: int = 0
    row: tuple | None = None
    skip: str | None = None
    blocks: str = "[]"  # the parse's blocks (see reparse.py), kept apart from the row


def _encode_defs(defs: list[Definition]) -> str:
    return json.dumps([list(d) for d in defs])


def _process_one(root: str, job: _Job) -> _Outcome:
    full = os.path.join(root, job.path)
    try:
        st = os.stat(full)
        with open(full, "rb") as f:
            data = f.read()
    except OSError:
        return _Outcome(job.path)
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if digest == job.old_hash:
        return _Outcome(job.path, digest, st.st_mtime_ns, st.st_size)
    reason = check_content(data)
    if reason is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            reason = "not utf-8"
    if reason:
        # Kept as a row too, so an unchanged skipped file is not read again on the next run.
        row = (job.path, digest, st.st_mtime_ns, st.st_size, "", 0, "[]", "{}", "", reason)
        return _Outcome(job.path, digest, st.st_mtime_ns, st.st_size, row=row, skip=reason)
    spec = language_for(job.path)
    try:
        if job.last_parse:
            defs, blocks, words = job.last_parse
            parsed = parse_edited(data, spec, [Block(*b) for b in json.loads(blocks)],
                                  [Definition(*d) for d in json.loads(defs)], words.split())
        else:
            parsed = parse_source(data, spec)
    except (ValueError, RuntimeError) as e:  # the grammar refused the bytes outright
        reason = f"unparseable: {type(e).__name__}"
        row = (job.path, digest, st.st_mtime_ns, st.st_size, "", 0, "[]", "{}", "", reason)
        return _Outcome(job.path, digest, st.st_mtime_ns, st.st_size, row=row, skip=reason)
    row = (
        job.path, digest, st.st_mtime_ns, st.st_size, spec.grammar, int(parsed.syntax_errors),
        _encode_defs(parsed.definitions), json.dumps(parsed.references, sort_keys=True),
        " ".join(parsed.identifiers), "",
    )
    return _Outcome(job.path, digest, st.st_mtime_ns, st.st_size, row=row, blocks=json.dumps(parsed.blocks))


def _process_chunk(root: str, jobs: list[_Job]) -> list[_Outcome]:
    return [_process_one(root, j) for j in jobs]


def _run_jobs(root: Path, jobs: list[_Job], workers: int) -> Iterator[list[_Outcome]]:
    """Yield outcomes chunk by chunk; at most 2 chunks per worker are in flight at once."""
    # About 8 chunks per worker, so the last one to finish leaves little idle time on the others.
    size = max(4, min(CHUNK_FILES, -(-len(jobs) // (8 * workers))))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    if workers <= 1 or len(jobs) < INLINE_BELOW:
        for chunk in chunks:
            yield _process_chunk(str(root), chunk)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = set()
        for chunk in chunks:
            pending.add(pool.submit(_process_chunk, str(root), chunk))
            if len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        for fut in pending:
            yield fut.result()


def update_index(
    repo: Path, settings: Settings, *, workers: int | None = None, on_event: EventSink = ignore,
) -> IndexReport:
    """Bring the repo's index up to date with its work tree and report what changed."""
    start = time.perf_counter()
    root = repo_root(repo)
    listing: FileListing = list_files(root, wanted=lambda p: language_for(p) is not None)
    db = db_path(root, settings)
    workers = workers or max(1, min(os.cpu_count() or 1, 8))
    try:
        report = _update(root, listing, db, workers, on_event)
    except sqlite3.DatabaseError as e:
        if not _is_damage(e):
            raise
        _discard(db)  # damaged on disk (say, by an OS crash): build it again
        report = _update(root, listing, db, workers, on_event)
    report.seconds = time.perf_counter() - start
    return report


def _update(root: Path, listing: FileListing, db: Path, workers: int, on_event: EventSink) -> IndexReport:
    report = IndexReport(skipped=list(listing.skipped))
    conn = _connect(db)
    try:
        # path -> ((mtime_ns, size), skip reason, syntax errors): all an unchanged file needs.
        known = {r[0]: ((r[1], r[2]), r[3], r[4])
                 for r in conn.execute("SELECT path, mtime_ns, size, skip, syntax_errors FROM files")}
        gone = [p for p in known if p not in listing.stats]
        moved = [p for p, st in listing.stats.items() if p not in known or known[p][0] != st]
        # The old hash decides whether a file whose stat moved really changed; only those rows are read.
        # A few edited files (parsed in this process) bring their last parse too: see reparse.py.
        last = "defs, value, idents" if len(moved) < INLINE_BELOW else "NULL, NULL, NULL"
        rows = _rows(conn, f"SELECT path, hash, {last} FROM files LEFT JOIN blocks USING (path) WHERE path IN ({{}})",
                     [p for p in moved if p in known])
        old = {p: (h, (d, b, w) if d is not None else None) for p, h, d, b, w in rows}
        jobs = [_Job(p, *old.get(p, (None, None))) for p in sorted(moved)]
        status = {p: row[1:] for p, row in known.items()}  # path -> (skip reason, syntax errors)
        changed: dict[str, FileRecord | None] = {p: None for p in gone}
        before = _meta(conn, "snapshot")
        first_build = all(row[1] for row in known.values())  # no parsed file yet
        if jobs or gone:
            # A first build reads its rows back at the end instead of holding every record meanwhile.
            _apply_jobs(conn, root, jobs, gone, workers, report, status, changed, on_event,
                        keep_records=not first_build)
        # Content skips (binary, not UTF-8, unparseable) persist with their file rows.
        report.skipped += [Skip(p, st[0]) for p, st in status.items() if st[0]]
        report.skipped.sort(key=lambda s: s.path)
        skips = [(s.path, s.reason) for s in report.skipped]
        if skips != conn.execute("SELECT path, reason FROM skipped ORDER BY path").fetchall():
            with conn:  # written only on change: a warm run stays read-only
                conn.execute("DELETE FROM skipped")
                conn.executemany("INSERT INTO skipped VALUES (?, ?)", skips)
        report.removed = len(gone)
        if changed:
            _follow_changes(conn, db, before, changed, first_build=first_build)
        report.files = sum(1 for st in status.values() if not st[0])
        report.syntax_errors = sum(1 for st in status.values() if st[1])
    finally:
        conn.close()
    return report


def _follow_changes(
    conn: sqlite3.Connection, db: Path, before: str, changed: dict[str, FileRecord | None], *, first_build: bool,
) -> None:
    """Bring the snapshot up to the rows just written; the columns file is rewritten only now and then."""
    now = _meta(conn, "snapshot")
    if first_build:
        _write_columns(conn, db, _columns_from_rows(conn), now)
        return
    if db in _recent and _recent[db][0] == before:  # a long-lived process: apply the change in memory
        snap = _remember(db, now, Snapshot(_recent[db][1].columns.updated(changed)))
    else:
        snap = _read_snapshot(conn, db)  # the stored columns with the pending rows applied
    if len(_pending(conn)) > PENDING_MAX:
        _write_columns(conn, db, snap.columns, now)


def _rows(conn: sqlite3.Connection, sql: str, keys: list[str], batch: int = 500) -> Iterator[tuple]:
    """Rows of ``sql`` for ``keys`` bound into its ``IN ({})``, in batches under SQLite's variable limit."""
    for i in range(0, len(keys), batch):
        part = keys[i:i + batch]
        yield from conn.execute(sql.format(",".join("?" * len(part))), part)


def _delete_rows(conn: sqlite3.Connection, paths: list[str]) -> None:
    """Forget files: their rows, and the blocks kept beside them."""
    for table in ("files", "blocks"):
        conn.executemany(f"DELETE FROM {table} WHERE path = ?", [(p,) for p in paths])


def _apply_jobs(
    conn: sqlite3.Connection, root: Path, jobs: list[_Job], gone: list[str], workers: int, report: IndexReport,
    status: dict[str, tuple[str, int]], changed: dict[str, FileRecord | None], on_event: EventSink, *,
    keep_records: bool = True,
) -> None:
    """Read (and parse when the hash moved) each job's file, writing its row in one transaction.

    Each changed path lands in ``changed``, with its new record when ``keep_records`` (else None)."""
    done = 0
    with conn:
        _delete_rows(conn, gone)
        for p in gone:
            status.pop(p, None)
        for outcomes in _run_jobs(root, jobs, workers):
            for o in outcomes:
                if o.row is None and o.hash:
                    conn.execute("UPDATE files SET mtime_ns=?, size=? WHERE path=?", (o.mtime_ns, o.size, o.path))
                elif o.row is None:  # vanished or unreadable between listing and reading
                    _delete_rows(conn, [o.path])
                    status.pop(o.path, None)
                    changed[o.path] = None
                else:
                    if not o.skip:
                        report.parsed.append(o.path)
                    conn.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?)", o.row)
                    conn.execute("INSERT OR REPLACE INTO blocks VALUES (?, ?)", (o.path, o.blocks))
                    row = o.row  # (path, hash, mtime_ns, size, lang, syntax_errors, defs, refs, idents, skip)
                    status[o.path] = (row[9], row[5])
                    changed[o.path] = _record_from_row(row[0], row[4], row[6], row[7], row[5]) \
                        if keep_records and not o.skip else None
            done += len(outcomes)
            on_event(Progress("indexing", done, len(jobs)))
        if changed:
            _mark_changed(conn, changed)


def load_snapshot(repo: Path, settings: Settings) -> Snapshot:
    """The repo's records and graph as of the last ``update_index``."""
    db = db_path(repo_root(repo), settings)
    conn = _connect(db)
    try:
        return _read_snapshot(conn, db)
    finally:
        conn.close()


def load_records(repo: Path, settings: Settings) -> list[FileRecord]:
    """Every parsed file of the repo's index, sorted by path (call ``update_index`` first)."""
    return list(load_snapshot(repo, settings).records.values())


def load_terms(repo: Path, settings: Settings) -> dict[str, list[str]]:
    """Each parsed file's search terms, for lexical retrieval (split from the stored identifiers)."""
    conn = _connect(db_path(repo_root(repo), settings))
    try:
        rows = conn.execute("SELECT path, idents FROM files WHERE skip = '' ORDER BY path")
        return {p: terms_of_identifiers(idents.split()) for p, idents in rows}
    finally:
        conn.close()


MEMO_MAX = 16  # results kept; a repo's recent graphs and the requests made of them


class Memo:
    """Results of pure computations over the index (PageRank vectors), kept by a digest of their inputs,
    so they survive any edit that leaves the inputs alone. The newest ``MEMO_MAX`` are kept."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, key: str) -> bytes | None:
        row = self._conn.execute("SELECT value FROM memo WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: bytes) -> None:
        with self._conn:  # a replaced row gets a new rowid: rowids order the entries by age
            self._conn.execute("INSERT OR REPLACE INTO memo VALUES (?, ?)", (key, value))
            self._conn.execute("DELETE FROM memo WHERE rowid <= (SELECT max(rowid) FROM memo) - ?", (MEMO_MAX,))


def rendered(repo: Path, settings: Settings, key: str, render: Callable[[Snapshot, Memo], str]) -> str:
    """The rendering (say, a repo map) stored under ``key`` for the index's current contents, else
    ``render`` of its snapshot, stored for next time; renderings of older contents are dropped."""
    db = db_path(repo_root(repo), settings)
    conn = _connect(db)
    try:
        name = _meta(conn, "snapshot")
        row = conn.execute("SELECT value FROM rendered WHERE key = ? AND snapshot = ?", (key, name)).fetchone()
        if name and row:
            return row[0]
        value = render(_read_snapshot(conn, db), Memo(conn))
        name = _meta(conn, "snapshot")  # reading may have rebuilt the snapshot under a new name
        with conn:
            conn.execute("DELETE FROM rendered WHERE snapshot != ?", (name,))
            conn.execute("INSERT OR REPLACE INTO rendered VALUES (?, ?, ?)", (key, name, value))
        return value
    finally:
        conn.close()
