"""The persistent symbol index: one SQLite file per repository under the cache dir.

A file is re-parsed only when its content hash changes; a matching (mtime, size) skips even the read.
Parsing runs in a process pool over bounded chunks, so huge repositories neither exhaust memory nor hang.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from r1agent.events import EventSink, Progress, ignore
from r1agent.settings import Settings
from r1agent.tools import graph as graph_module
from r1agent.tools.files import FileListing, Skip, check_content, list_files, repo_root
from r1agent.tools.graph import RefGraph, link
from r1agent.tools.languages import language_for
from r1agent.tools.symbols import Definition, parse_source
from r1agent.tools.terms import terms_of_identifiers

SCHEMA_VERSION = "5"
CHUNK_FILES = 48  # files per pool task: small enough to bound memory, big enough to amortise IPC
INLINE_BELOW = 24  # fewer changed files than this are parsed in-process (a pool costs more to start)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, hash TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    lang TEXT NOT NULL, syntax_errors INTEGER NOT NULL, defs TEXT NOT NULL, refs TEXT NOT NULL,
    idents TEXT NOT NULL, skip TEXT NOT NULL DEFAULT ''
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


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    except sqlite3.OperationalError:  # a new file: no tables yet
        conn.executescript(_SCHEMA)
        row = None
    if row is None or row[0] != SCHEMA_VERSION:  # an older layout: start over, it is only a cache
        conn.executescript("DROP TABLE files; DROP TABLE skipped; DELETE FROM meta;")
        conn.executescript(_SCHEMA)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        conn.commit()
    return conn


def _snapshot_path(db: Path) -> Path:
    return db.with_suffix(".records.pickle")


def _record_from_row(path: str, lang: str, defs: str, refs: str, err: int) -> FileRecord:
    return FileRecord(path, lang, [Definition(*d) for d in json.loads(defs)], json.loads(refs), bool(err))


@dataclass(frozen=True)
class Snapshot:
    """Every parsed file's record, sorted by path, and the def/ref graph linking them."""

    records: dict[str, FileRecord]
    graph: RefGraph


# A snapshot holds a graph linked by graph.py: a new version of that code must relink, not reuse it.
_SNAPSHOT_VERSION = hashlib.sha256(SCHEMA_VERSION.encode() + Path(graph_module.__file__).read_bytes()).hexdigest()[:16]

# The last snapshot this process read or wrote, so an update followed by a load unpickles nothing.
_recent: dict[Path, tuple[str, Snapshot]] = {}


def _write_snapshot(conn: sqlite3.Connection, db: Path, records: dict[str, FileRecord]) -> Snapshot:
    """Persist records and graph in one pickle: loading it beats decoding rows and relinking names."""
    token = f"{_SNAPSHOT_VERSION}-{os.urandom(8).hex()}"
    snap = Snapshot(records, link(list(records.values())))
    _recent.clear()
    _recent[db] = (token, snap)
    tmp = _snapshot_path(db).with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        pickle.dump((token, snap), f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, _snapshot_path(db))
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('snapshot', ?)", (token,))
    conn.commit()
    return snap


def _read_snapshot(conn: sqlite3.Connection, db: Path) -> Snapshot:
    """The records, from the snapshot when it matches the database, else rebuilt from the rows."""
    row = conn.execute("SELECT value FROM meta WHERE key='snapshot'").fetchone()
    if row is not None and not row[0].startswith(_SNAPSHOT_VERSION):
        row = None  # written by other code: rebuild below
    if row is not None and db in _recent and _recent[db][0] == row[0]:
        return _recent[db][1]
    try:
        with open(_snapshot_path(db), "rb") as f:
            token, snap = pickle.load(f)
        if row is not None and token == row[0] and isinstance(snap, Snapshot):
            _recent.clear()
            _recent[db] = (token, snap)
            return snap
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
        pass  # missing or torn: the SQLite rows are the source of truth
    rows = conn.execute("SELECT path, lang, defs, refs, syntax_errors FROM files WHERE skip = '' ORDER BY path")
    return _write_snapshot(conn, db, {r[0]: _record_from_row(*r) for r in rows})


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
    return _Outcome(job.path, digest, st.st_mtime_ns, st.st_size, row=row)


def _process_chunk(root: str, jobs: list[_Job]) -> list[_Outcome]:
    return [_process_one(root, j) for j in jobs]


def _run_jobs(root: Path, jobs: list[_Job], workers: int) -> Iterator[list[_Outcome]]:
    """Yield outcomes chunk by chunk; at most 2 chunks per worker are in flight at once."""
    chunks = [jobs[i:i + CHUNK_FILES] for i in range(0, len(jobs), CHUNK_FILES)]
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
    report = IndexReport(skipped=list(listing.skipped))
    db = db_path(root, settings)
    conn = _connect(db)
    try:
        known = {p: (h, m, s) for p, h, m, s in conn.execute("SELECT path, hash, mtime_ns, size FROM files")}
        current = set(listing.paths)
        gone = [p for p in known if p not in current]
        jobs: list[_Job] = []
        for path in listing.paths:
            old = known.get(path)
            if old is not None and listing.stats[path] == (old[1], old[2]):
                continue
            jobs.append(_Job(path, old[0] if old else None))
        workers = workers or max(1, min(os.cpu_count() or 1, 8))
        done = 0
        changed: dict[str, FileRecord | None] = {p: None for p in gone}
        with conn:
            conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in gone])
            for outcomes in _run_jobs(root, jobs, workers):
                for o in outcomes:
                    if o.row is None and o.hash:
                        conn.execute("UPDATE files SET mtime_ns=?, size=? WHERE path=?", (o.mtime_ns, o.size, o.path))
                    elif o.row is None:  # vanished or unreadable between listing and reading
                        conn.execute("DELETE FROM files WHERE path = ?", (o.path,))
                        changed[o.path] = None
                    else:
                        if not o.skip:
                            report.parsed.append(o.path)
                        conn.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?)", o.row)
                        row = o.row  # (path, hash, mtime_ns, size, lang, syntax_errors, defs, refs, idents, skip)
                        changed[o.path] = None if o.skip else _record_from_row(row[0], row[4], row[6], row[7], row[5])
                done += len(outcomes)
                on_event(Progress("indexing", done, len(jobs)))
            # Content skips (binary, not UTF-8, unparseable) persist with their file rows.
            report.skipped += [Skip(p, r) for p, r in conn.execute("SELECT path, skip FROM files WHERE skip != ''")]
            report.skipped.sort(key=lambda s: s.path)
            skips = [(s.path, s.reason) for s in report.skipped]
            if skips != conn.execute("SELECT path, reason FROM skipped ORDER BY path").fetchall():
                conn.execute("DELETE FROM skipped")  # written only on change: a warm run stays read-only
                conn.executemany("INSERT INTO skipped VALUES (?, ?)", skips)
        report.removed = len(gone)
        if changed:
            records = dict(_read_snapshot(conn, db).records)  # a copy: the cached one may be in use
            for path, rec in changed.items():
                if rec is None:
                    records.pop(path, None)
                else:
                    records[path] = rec
            _write_snapshot(conn, db, dict(sorted(records.items())))
        report.files = conn.execute("SELECT COUNT(*) FROM files WHERE skip = ''").fetchone()[0]
        report.syntax_errors = conn.execute("SELECT COUNT(*) FROM files WHERE syntax_errors = 1").fetchone()[0]
    finally:
        conn.close()
    report.seconds = time.perf_counter() - start
    return report


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
