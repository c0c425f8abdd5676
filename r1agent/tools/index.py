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
from contextlib import closing
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


def _discard(db: Path) -> None:
    """Delete a damaged index and everything beside it; it is only a cache of the work tree."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)


def _connect(path: Path) -> sqlite3.Connection:
    """The index's connection. A file an older version wrote is begun again: it is only a cache. A damaged
    file raises ``sqlite3.DatabaseError``; ``update_index`` then discards it and builds it again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        # No fsync: the index is a cache of the work tree. An OS crash may cost it (it is then discarded or,
        # when rows merely roll back, their stale stat makes the files parse again), never the user's work.
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    except sqlite3.DatabaseError:
        conn.close()
        raise
    if row is not None and row[0] != SCHEMA_VERSION:
        conn.close()
        _discard(path)
        return _connect(path)
    if row is None:  # a new file
        with conn:
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
    return conn


@dataclass
class Snapshot:
    """Every parsed file as the index stores it (path order); records, columns, graph and terms on first use."""

    db: Path
    rows: list[tuple[str, str, DefinitionColumns, ReferenceColumns, bool]]

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

    @cached_property
    def terms(self) -> dict[str, FileTerms]:
        """Each parsed file's search terms, for lexical retrieval (read apart: the map does without them)."""
        with closing(_connect(self.db)) as conn:
            rows = conn.execute("SELECT path, terms FROM files WHERE skip = '' ORDER BY path")
            return {p: FileTerms(*marshal.loads(terms)) for p, terms in rows}


_NONE, _NOTHING = marshal.dumps(definition_columns([])), marshal.dumps(reference_columns({}))
Outcome = tuple[str, tuple[str, int, int] | None, tuple | None]  # path, (hash, mtime_ns, size), rest of its row


def _process_one(root: str, path: str, old_hash: str | None) -> Outcome:
    """A file's new row: no stat when it vanished or cannot be read, no row when its hash is unchanged."""
    try:
        st = os.stat(os.path.join(root, path))
        with open(os.path.join(root, path), "rb") as f:
            data = f.read()
    except OSError:
        return path, None, None
    stat = (hashlib.blake2b(data, digest_size=16).hexdigest(), st.st_mtime_ns, st.st_size)
    if stat[0] == old_hash:
        return path, stat, None
    reason, spec = check_content(data), language_for(path)
    try:
        parsed = None if reason else parse_source(data, spec)
    except (ValueError, RuntimeError) as e:  # the grammar refused the bytes outright
        reason = f"unparseable: {type(e).__name__}"
    if parsed is None:  # kept as a row too, so an unchanged skipped file is not read again on the next run
        return path, stat, ("", 0, _NONE, _NOTHING, b"", reason)
    defs, refs = definition_columns(parsed.definitions), reference_columns(parsed.references)
    terms = FileTerms(dict(Counter(terms_of_identifiers(parsed.identifiers))), [
        tuple(map(sys.intern, definition_terms(d.name, d.qualname, d.signature))) for d in parsed.definitions])
    return path, stat, (spec.grammar, int(parsed.syntax_errors), marshal.dumps(defs), marshal.dumps(refs),
                        marshal.dumps(tuple(terms)), "")


def _process_chunk(root: str, jobs: list[tuple[str, str | None]]) -> list[Outcome]:
    """Each (path, hash the index holds) job's outcome."""
    return [_process_one(root, *job) for job in jobs]


def _run_jobs(root: Path, jobs: list[tuple[str, str | None]], workers: int) -> Iterator[list[Outcome]]:
    """Yield outcomes chunk by chunk; at most 2 chunks per worker are in flight at once."""
    # About 8 chunks per worker, so the last one to finish leaves little idle time on the others.
    size = max(4, min(CHUNK_FILES, -(-len(jobs) // (8 * workers))))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    if workers <= 1 or len(jobs) < INLINE_BELOW:
        yield from (_process_chunk(str(root), chunk) for chunk in chunks)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = set()
        for chunk in chunks:
            pending.add(pool.submit(_process_chunk, str(root), chunk))
            if len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (fut.result() for fut in done)
        yield from (fut.result() for fut in pending)


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
        if type(e) is not sqlite3.DatabaseError:  # a lock or an I/O error, not a damaged or foreign file
            raise
        _discard(db)  # damaged on disk (say, by an OS crash): build it again
        report = _update(root, listing, db, workers, on_event)
    report.seconds = time.perf_counter() - start
    return report


def _update(root: Path, listing: FileListing, db: Path, workers: int, on_event: EventSink) -> IndexReport:
    """Read (and parse when the hash moved) each file whose stat moved, writing the rows in one transaction."""
    report = IndexReport(skipped=list(listing.skipped))
    with closing(_connect(db)) as conn, conn:
        # path -> ((mtime_ns, size), hash, skip reason, syntax errors): all an unchanged file needs.
        known = {r[0]: ((r[1], r[2]), *r[3:])
                 for r in conn.execute("SELECT path, mtime_ns, size, hash, skip, syntax_errors FROM files")}
        gone = [p for p in known if p not in listing.stats]
        if gone:  # a warm run writes nothing
            conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in gone])
        status = {p: row[2:] for p, row in known.items() if p in listing.stats}  # path -> (skip reason, errors)
        # A file whose stat moved is read; its old hash decides whether it really changed.
        jobs = [(p, known[p][1] if p in known else None) for p, st in sorted(listing.stats.items())
                if p not in known or known[p][0] != st]
        done = 0
        for outcomes in _run_jobs(root, jobs, workers):
            for path, stat, row in outcomes:
                if stat is None:  # vanished or unreadable between listing and reading
                    conn.execute("DELETE FROM files WHERE path = ?", (path,))
                    status.pop(path, None)
                elif row is None:
                    conn.execute("UPDATE files SET mtime_ns=?, size=? WHERE path=?", (*stat[1:], path))
                else:  # (lang, syntax_errors, defs, refs, terms, skip)
                    conn.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?)", (path, *stat, *row))
                    status[path] = (row[5], row[1])
                    if not row[5]:
                        report.parsed.append(path)
            done += len(outcomes)
            on_event(Progress("indexing", done, len(jobs)))
    # Content skips (binary, not UTF-8, unparseable) persist with their file rows.
    report.skipped = sorted(report.skipped + [Skip(p, st[0]) for p, st in status.items() if st[0]],
                            key=lambda s: s.path)
    report.removed = len(gone)
    report.files = sum(1 for st in status.values() if not st[0])
    report.syntax_errors = sum(1 for st in status.values() if st[1])
    return report


def load_snapshot(repo: Path, settings: Settings) -> Snapshot:
    """The repo's records as of the last ``update_index``; the columns and graph follow from them."""
    db = db_path(repo_root(repo), settings)
    with closing(_connect(db)) as conn:
        rows = conn.execute("SELECT path, lang, defs, refs, syntax_errors FROM files WHERE skip = '' ORDER BY path")
        # In path order (SQLite compares UTF-8 bytes: code point order, as Python sorts).
        return Snapshot(db, [(p, lang, marshal.loads(d), marshal.loads(r), bool(e)) for p, lang, d, r, e in rows])
