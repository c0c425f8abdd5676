"""The persistent symbol index: one SQLite file per repository under the cache dir.

Each file's row holds what its parse found (definitions, reference counts, search terms). A file
is re-parsed only when its content hash changes; a matching (mtime, size) skips even the read.
Parsing runs in a process pool over bounded chunks, so huge repositories neither exhaust memory nor
hang. A run reads every row back and builds the graph and the ranking in memory (see columns.py).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from r1agent.events import EventSink, Progress, ignore
from r1agent.settings import Settings
from r1agent.tools.columns import (
    Columns,
    DefinitionColumns,
    ReferenceColumns,
    definition_columns,
    definitions_of,
    reference_columns,
)
from r1agent.tools.files import FileListing, Skip, check_content, list_files, repo_root
from r1agent.tools.graph import RefGraph, link
from r1agent.tools.languages import language_for
from r1agent.tools.symbols import Definition, parse_source
from r1agent.tools.terms import definition_terms, terms_of_identifiers

SCHEMA_VERSION = f"16-marshal{marshal.version}"  # rows are marshal data: a new format is a new schema
CHUNK_FILES = 48  # files per pool task: small enough to bound memory, big enough to amortise IPC
INLINE_BELOW = 24  # fewer changed files than this are parsed in-process (a pool costs more to start)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, hash TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    lang TEXT NOT NULL, syntax_errors INTEGER NOT NULL, defs BLOB NOT NULL, refs BLOB NOT NULL,
    terms BLOB NOT NULL, skip TEXT NOT NULL DEFAULT ''  -- defs, refs, terms (FileTerms): marshal data
);
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
"""


@dataclass(frozen=True)
class FileRecord:
    """One indexed file as the ranking code reads it back."""

    path: str
    lang: str
    definitions: list[Definition]
    references: dict[str, int]
    syntax_errors: bool


class FileTerms(NamedTuple):
    """A file's search terms with their counts, and each definition's own terms (in definition order)."""

    counts: dict[str, int]
    definitions: list[tuple[str, ...]]


def _file_terms(parsed) -> FileTerms:
    counts = Counter(terms_of_identifiers(parsed.identifiers))
    return FileTerms(dict(counts), [tuple(map(sys.intern, definition_terms(d.name, d.qualname, d.signature)))
                                    for d in parsed.definitions])


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
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)


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
        path.with_suffix(".columns.pickle").unlink(missing_ok=True)  # older versions kept a snapshot file beside it
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        conn.commit()
    return conn


class Snapshot:
    """Every parsed file as the index stores it (path order); records, columns and graph built on first use."""

    def __init__(self, rows: list[tuple[str, str, DefinitionColumns, ReferenceColumns, bool]]) -> None:
        self.rows = rows

    @cached_property
    def records(self) -> dict[str, FileRecord]:
        """By path, in path order."""
        return {path: FileRecord(path, lang, definitions_of(defs), dict(zip(*refs, strict=True)), err)
                for path, lang, defs, refs, err in self.rows}

    @cached_property
    def columns(self) -> Columns:
        return Columns.from_rows([row[:4] for row in self.rows])

    @cached_property
    def graph(self) -> RefGraph:
        return link(self.columns)


@dataclass(frozen=True)
class _Job:
    path: str
    old_hash: str | None


@dataclass(frozen=True)
class _Outcome:
    """A worker's answer for one file: parsed (row set), unchanged (same hash), or skipped."""

    path: str
    hash: str = ""
    mtime_ns: int = 0
    size: int = 0
    row: tuple | None = None
    skip: str | None = None


_NONE, _NOTHING = marshal.dumps(definition_columns([])), marshal.dumps(reference_columns({}))


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
    reason, spec = check_content(data), language_for(job.path)
    try:
        parsed = None if reason else parse_source(data, spec)
    except (ValueError, RuntimeError) as e:  # the grammar refused the bytes outright
        reason = f"unparseable: {type(e).__name__}"
    if parsed is None:
        # Kept as a row too, so an unchanged skipped file is not read again on the next run.
        row = (job.path, digest, st.st_mtime_ns, st.st_size, "", 0, _NONE, _NOTHING, b"", reason)
        return _Outcome(job.path, digest, st.st_mtime_ns, st.st_size, row=row, skip=reason)
    row = (
        job.path, digest, st.st_mtime_ns, st.st_size, spec.grammar, int(parsed.syntax_errors),
        marshal.dumps(definition_columns(parsed.definitions)), marshal.dumps(reference_columns(parsed.references)),
        marshal.dumps(tuple(_file_terms(parsed))), "",
    )
    return _Outcome(job.path, digest, st.st_mtime_ns, st.st_size, row=row)


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
        old = dict(_rows(conn, "SELECT path, hash FROM files WHERE path IN ({})", [p for p in moved if p in known]))
        jobs = [_Job(p, old.get(p)) for p in sorted(moved)]
        status = {p: row[1:] for p, row in known.items()}  # path -> (skip reason, syntax errors)
        if jobs or gone:
            _apply_jobs(conn, root, jobs, gone, workers, report, status, on_event)
        # Content skips (binary, not UTF-8, unparseable) persist with their file rows.
        report.skipped += [Skip(p, st[0]) for p, st in status.items() if st[0]]
        report.skipped.sort(key=lambda s: s.path)
        skips = [(s.path, s.reason) for s in report.skipped]
        if skips != conn.execute("SELECT path, reason FROM skipped ORDER BY path").fetchall():
            with conn:  # written only on change: a warm run stays read-only
                conn.execute("DELETE FROM skipped")
                conn.executemany("INSERT INTO skipped VALUES (?, ?)", skips)
        report.removed = len(gone)
        report.files = sum(1 for st in status.values() if not st[0])
        report.syntax_errors = sum(1 for st in status.values() if st[1])
    finally:
        conn.close()
    return report


def _rows(conn: sqlite3.Connection, sql: str, keys: list[str], batch: int = 500) -> Iterator[tuple]:
    """Rows of ``sql`` for ``keys`` bound into its ``IN ({})``, in batches under SQLite's variable limit."""
    for i in range(0, len(keys), batch):
        part = keys[i:i + batch]
        yield from conn.execute(sql.format(",".join("?" * len(part))), part)


def _delete_rows(conn: sqlite3.Connection, paths: list[str]) -> None:
    conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])


def _apply_jobs(
    conn: sqlite3.Connection, root: Path, jobs: list[_Job], gone: list[str], workers: int, report: IndexReport,
    status: dict[str, tuple[str, int]], on_event: EventSink,
) -> None:
    """Read (and parse when the hash moved) each job's file, writing its row in one transaction."""
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
                else:
                    if not o.skip:
                        report.parsed.append(o.path)
                    conn.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?)", o.row)
                    row = o.row  # (path, hash, mtime_ns, size, lang, syntax_errors, defs, refs, terms, skip)
                    status[o.path] = (row[9], row[5])
            done += len(outcomes)
            on_event(Progress("indexing", done, len(jobs)))


def load_snapshot(repo: Path, settings: Settings) -> Snapshot:
    """The repo's records as of the last ``update_index``; the columns and graph follow from them."""
    conn = _connect(db_path(repo_root(repo), settings))
    try:
        rows = conn.execute("SELECT path, lang, defs, refs, syntax_errors FROM files WHERE skip = '' ORDER BY path")
        # In path order (SQLite compares UTF-8 bytes: code point order, as Python sorts).
        return Snapshot([(p, lang, marshal.loads(d), marshal.loads(r), bool(e)) for p, lang, d, r, e in rows])
    finally:
        conn.close()


def load_terms(repo: Path, settings: Settings) -> dict[str, FileTerms]:
    """Each parsed file's search terms, for lexical retrieval."""
    conn = _connect(db_path(repo_root(repo), settings))
    try:
        rows = conn.execute("SELECT path, terms FROM files WHERE skip = '' ORDER BY path")
        return {p: FileTerms(*marshal.loads(terms)) for p, terms in rows}
    finally:
        conn.close()
