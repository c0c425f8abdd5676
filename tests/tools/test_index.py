"""The symbol index: real tree-sitter over real git repos, per language, incremental, with a skip record."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest

from r1agent.errors import RepoError
from r1agent.settings import Settings
from r1agent.tools import index
from r1agent.tools.files import _skip_reason_by_name
from r1agent.tools.index import db_path, load_snapshot, update_index

SOURCES = {
    "py/shapes.py": "class Shape(Base):\n    def area(self, scale: float = 1.0) -> float:\n        return compute(self)\n\n\ndef make_shape(kind):\n    return Shape()\n",
    "js/app.js": "class Widget extends Base {\n  render(x) { return draw(x); }\n}\nfunction boot(opts) { return new Widget(); }\nconst helper = (a) => a + 1;\n",
    "ts/api.ts": "export interface Client { send(msg: string): void }\nexport type Id = string;\nexport class HttpClient implements Client {\n  send(msg: string): void { post(msg); }\n}\nexport function connect(id: Id): Client { return new HttpClient(); }\n",
    "ts/view.tsx": "export function Button(props: Props) { return <b>{props.label}</b>; }\n",
    "go/server.go": "package server\n\ntype Server struct {\n\taddr string\n}\n\ntype Handler interface {\n\tServe()\n}\n\nfunc (s *Server) Start(port int) error {\n\treturn listen(s.addr)\n}\n\nfunc New(addr string) *Server { return &Server{addr: addr} }\n",
    "rs/lib.rs": "pub struct Point { x: i32 }\npub trait Area { fn area(&self) -> i32; }\nimpl Area for Point {\n    fn area(&self) -> i32 { square(self.x) }\n}\npub fn origin() -> Point { Point { x: 0 } }\n",
    "java/Account.java": "public class Account {\n  public Account(int id) {}\n  public int balance(int day) { return ledger(day); }\n}\ninterface Auditable {}\n",
    "c/list.c": "struct node { int v; };\ntypedef struct node node_t;\nint list_len(node_t *head) {\n  return count(head);\n}\n",
    "cpp/engine.cpp": "namespace game {\nclass Engine {\n public:\n  void tick(int dt);\n};\n}\nvoid game::Engine::tick(int dt) { step(dt); }\n",
}

# path -> {(kind, qualname, start_line, end_line)} expected among the definitions, plus one signature.
EXPECTED = {
    "py/shapes.py": ({("class", "Shape", 1, 3), ("method", "Shape.area", 2, 3), ("function", "make_shape", 6, 7)},
                     "def area(self, scale: float = 1.0) -> float"),
    "js/app.js": ({("class", "Widget", 1, 3), ("method", "Widget.render", 2, 2), ("function", "boot", 4, 4),
                   ("function", "helper", 5, 5)}, "function boot(opts)"),
    "ts/api.ts": ({("interface", "Client", 1, 1), ("type", "Id", 2, 2), ("class", "HttpClient", 3, 5),
                   ("method", "HttpClient.send", 4, 4), ("function", "connect", 6, 6)}, "function connect(id: Id): Client"),
    "ts/view.tsx": ({("function", "Button", 1, 1)}, "function Button(props: Props)"),
    "go/server.go": ({("struct", "Server", 3, 5), ("interface", "Handler", 7, 9), ("method", "Server.Start", 11, 13),
                      ("function", "New", 15, 15)}, "func (s *Server) Start(port int) error"),
    "rs/lib.rs": ({("struct", "Point", 1, 1), ("trait", "Area", 2, 2), ("method", "Point.area", 4, 4),
                   ("function", "origin", 6, 6)}, "pub fn origin() -> Point"),
    "java/Account.java": ({("class", "Account", 1, 4), ("method", "Account.balance", 3, 3),
                           ("interface", "Auditable", 5, 5)}, "public int balance(int day)"),
    "c/list.c": ({("struct", "node", 1, 1), ("type", "node_t", 2, 2), ("function", "list_len", 3, 5)},
                 "int list_len(node_t *head)"),
    "cpp/engine.cpp": ({("module", "game", 1, 6), ("class", "game.Engine", 2, 5), ("method", "game.Engine.tick", 7, 7)},
                       "void game::Engine::tick(int dt)"),
}
REFERENCES = {"py/shapes.py": "compute", "js/app.js": "draw", "ts/api.ts": "post", "go/server.go": "listen",
              "rs/lib.rs": "square", "ts/view.tsx": "Props", "java/Account.java": "ledger", "c/list.c": "count", "cpp/engine.cpp": "step"}


def records_of(repo, settings):
    """Every parsed file of the index, by path."""
    return list(load_snapshot(repo, settings).records.values())


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=repo, check=True, capture_output=True)


def _write(repo: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.fixture(scope="module")
def polyglot(tmp_path_factory) -> tuple[Path, Settings]:
    repo = tmp_path_factory.mktemp("polyglot")
    _git(repo, "init", "-q", "-b", "main")
    _write(repo, SOURCES)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "init")
    settings = Settings(cache_dir=tmp_path_factory.mktemp("cache"))
    update_index(repo, settings)
    return repo, settings


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_definitions_have_kind_span_and_signature_per_language(polyglot, path):
    repo, settings = polyglot
    rec = next(r for r in records_of(repo, settings) if r.path == path)
    got = {(d.kind, d.qualname, d.start_line, d.end_line) for d in rec.definitions}
    expected, signature = EXPECTED[path]
    assert expected <= got
    assert signature in {d.signature for d in rec.definitions}
    assert REFERENCES[path] in rec.references


def test_index_lives_in_the_cache_dir_keyed_by_repo(polyglot, tmp_path):
    repo, settings = polyglot
    path = db_path(repo.resolve(), settings)
    assert path.is_file() and settings.cache_dir in path.parents
    assert db_path(tmp_path, settings) != path


def test_only_changed_files_are_reparsed(make_repo, tmp_path):
    repo = make_repo({f"pkg/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(30)})
    settings = Settings(cache_dir=tmp_path / "cache")
    first = update_index(repo, settings, workers=2)
    assert len(first.parsed) == 30 and first.files == 30

    (repo / "pkg/m7.py").write_text("def renamed():\n    return 7\n")
    assert update_index(repo, settings).parsed == ["pkg/m7.py"]

    # A new mtime with the same bytes is not a change: the content hash decides.
    os.utime(repo / "pkg/m3.py", ns=(1, 1))
    assert update_index(repo, settings).parsed == []

    (repo / "pkg/m9.py").unlink()
    report = update_index(repo, settings)
    assert report.removed == 1 and report.files == 29
    names = {d.name for r in records_of(repo, settings) for d in r.definitions}
    assert "renamed" in names and "f7" not in names and "f9" not in names


def test_process_pool_and_inline_parsing_agree(make_repo, tmp_path):
    repo = make_repo({f"src/mod{i}.py": f"class C{i}:\n    def m(self):\n        return helper{i}()\n" for i in range(60)})
    pooled = Settings(cache_dir=tmp_path / "a")
    inline = Settings(cache_dir=tmp_path / "b")
    update_index(repo, pooled, workers=2)
    update_index(repo, inline, workers=1)
    assert records_of(repo, pooled) == records_of(repo, inline)


def test_skips_are_recorded_with_reasons_and_secrets_never_stored(make_repo, tmp_path):
    repo = make_repo({"app.py": "def main():\n    pass\n", ".gitignore": "ignored.py\n"})
    secret = "AKIA-super-secret-token-123"
    _write(repo, {
        ".env": f"TOKEN={secret}\n",
        "deploy/id_rsa": f"{secret}\n",
        "certs/server.pem": f"{secret}\n",
        "node_modules/lib/index.js": "function vendored() {}\n",
        "static/app.min.js": "function minified() {}\n",
        "proto/msg_pb2.py": "class Msg: pass\n",
        "big.py": "x = 1\n" * 200_000,
        "blob.py": b"\x00\x01\x02binary",
        "latin.py": "def caf\xe9(): pass\n".encode("latin-1"),
        "long.js": "var a=" + "1+" * 5000 + "1;\n",
        "ignored.py": "def hidden(): pass\n",
        "untracked.py": "def fresh(): pass\n",
        "/".join(["d"] * 45) + "/deep.py": "def deep(): pass\n",
    })
    report = update_index(repo, Settings(cache_dir=tmp_path / "cache"))
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons[".env"] == reasons["deploy/id_rsa"] == reasons["certs/server.pem"] == "secret"
    assert reasons["node_modules/lib/index.js"] == "vendored"
    assert reasons["static/app.min.js"] == reasons["proto/msg_pb2.py"] == "generated"
    assert reasons["big.py"] == "too large"
    assert reasons["blob.py"] == "binary"
    assert reasons["latin.py"] == "not utf-8"
    assert reasons["long.js"] == "minified"
    assert reasons["/".join(["d"] * 45) + "/deep.py"] == "too deep"
    assert "ignored.py" not in reasons
    assert report.skip_counts()["secret"] == 3
    indexed = {r.path for r in records_of(repo, Settings(cache_dir=tmp_path / "cache"))}
    assert indexed == {"app.py", "untracked.py"}
    db = db_path(repo.resolve(), Settings(cache_dir=tmp_path / "cache"))
    stored = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert secret.encode() not in stored

    # Content skips are remembered: an unchanged binary file is not read again.
    again = update_index(repo, Settings(cache_dir=tmp_path / "cache"))
    assert again.parsed == [] and {s.path: s.reason for s in again.skipped}["blob.py"] == "binary"


def test_syntax_errors_are_counted_and_do_not_stop_the_run(make_repo, tmp_path):
    repo = make_repo({"ok.py": "def fine():\n    pass\n", "broken.py": "def good():\n    pass\n\ndef bad(:\n  ))\n"})
    report = update_index(repo, Settings(cache_dir=tmp_path / "cache"))
    assert report.syntax_errors == 1 and report.files == 2
    broken = next(r for r in records_of(repo, Settings(cache_dir=tmp_path / "cache")) if r.path == "broken.py")
    assert broken.syntax_errors and "good" in {d.name for d in broken.definitions}


def test_not_a_git_repo_is_a_one_line_repo_error(tmp_path):
    with pytest.raises(RepoError, match="not a git repository"):
        update_index(tmp_path, Settings(cache_dir=tmp_path / "cache"))


def test_an_updated_index_gives_the_records_and_graph_of_a_fresh_build(make_repo, tmp_path):
    repo = make_repo({f"pkg/m{i}.py": f"def f{i}():\n    return g{(i + 1) % 80}()\n" for i in range(80)})
    settings = Settings(cache_dir=tmp_path / "cache")
    update_index(repo, settings)
    steps = [
        lambda: (repo / "pkg/m5.py").write_text("def g5():\n    return f6()\n"),  # a new name and a changed one
        lambda: (repo / "pkg/m7.py").unlink(),  # f7 is defined nowhere now: it leaves the vocabulary
        lambda: (repo / "pkg/new.py").write_text("class Fresh:\n    def zeta(self):\n        return f1()\n"),
        lambda: (repo / "pkg/m9.py").write_bytes(b"\x00\x01 binary now"),  # parsed before, skipped now
        lambda: [(repo / f"pkg/m{i}.py").write_text(f"def h{i}():\n    return f{i}()\n") for i in range(20, 60)],
    ]
    for step, change in enumerate(steps):
        change()
        fresh = Settings(cache_dir=tmp_path / f"fresh{step}")
        update_index(repo, fresh)
        built = index.load_snapshot(repo, fresh)
        update_index(repo, settings)
        kept = index.load_snapshot(repo, settings)
        assert kept.records == built.records, step
        assert kept.columns.names == built.columns.names
        assert all(np.array_equal(getattr(kept.graph, f), getattr(built.graph, f)) for f in ("src", "dst", "weight"))
    assert "f7" not in kept.columns.names and "pkg/m9.py" not in kept.records and "Fresh" in kept.columns.names


def test_an_index_an_older_version_wrote_is_begun_again(make_repo, tmp_path):
    repo = make_repo({f"m{i}.py": f"def f{i}():\n    return f{i + 1}()\n" for i in range(5)})
    settings = Settings(cache_dir=tmp_path / "cache")
    update_index(repo, settings)
    db = db_path(repo.resolve(), settings)
    with sqlite3.connect(db) as conn:  # an older layout: another schema tag, a table this version never made
        conn.execute("UPDATE meta SET value = 'old' WHERE key = 'schema'")
        conn.execute("CREATE TABLE rendered (key TEXT)")
    conn.close()
    report = update_index(repo, settings)
    assert report.files == 5 and len(report.parsed) == 5
    with sqlite3.connect(db) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (index.SCHEMA_VERSION,)
    conn.close()
    assert tables == {"meta", "files"}


@pytest.mark.parametrize("damage", ["garbage", "torn"])
def test_a_damaged_index_file_is_discarded_and_built_again(make_repo, tmp_path, damage):
    repo = make_repo({f"m{i}.py": f"def f{i}():\n    return f{i + 1}()\n" for i in range(30)})
    settings = Settings(cache_dir=tmp_path / "cache")
    update_index(repo, settings)
    db = db_path(repo.resolve(), settings)
    data = db.read_bytes()
    # "garbage": not a database at all; "torn": the header kept, pages past it overwritten.
    db.write_bytes(b"not sqlite" * 500 if damage == "garbage" else data[:100] + b"\xff" * (len(data) - 100))
    report = update_index(repo, settings)
    assert report.files == 30 and len(report.parsed) == 30
    assert sorted(index.load_snapshot(repo, settings).records) == sorted(f"m{i}.py" for i in range(30))


@pytest.mark.parametrize("path, reason", [
    ("secrets.yaml", "secret"), ("conf/app.env", "secret"), ("keys/id_ed25519.pub", "secret"),
    ("a/secrets.d/x.py", None), ("x/vendorx/a.go", None), ("src/vendor/a.go", "vendored"),
    ("src/pip/_vendor/rich/style.py", "vendored"),
    ("web/api.generated.ts", "generated"), ("pb/msg_pb2_grpc.py", "generated"), ("src/app.py", None),
])
def test_name_rules_decide_skips_by_path(path, reason):
    assert _skip_reason_by_name(path) == reason


@pytest.mark.parametrize("terminal", [True, False])
def test_indexing_progress_is_drawn_on_a_terminal_only(make_repo, tmp_path, terminal):
    import io

    from rich.console import Console

    from r1agent.progress_bar import progress_bar

    repo = make_repo({f"pkg/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(40)})
    out = io.StringIO()
    with progress_bar(Console(file=out, force_terminal=terminal, width=100)) as on_event:
        update_index(repo, Settings(cache_dir=tmp_path / "cache"), workers=2, on_event=on_event)
    assert ("indexing" in out.getvalue() and "40/40" in out.getvalue()) if terminal else out.getvalue() == ""


def test_index_command_reports_counts_and_lists_skips_with_reasons(make_repo, tmp_path):
    import json
    import sys

    repo = make_repo({"src/a.py": "def a(:\n", "src/b.py": "def b():\n    return 1\n",
                      "src/_vendor/c.py": "def c():\n    pass\n", ".env": "TOKEN=1\n"})
    env = {**os.environ, "R1AGENT_CACHE_DIR": str(tmp_path / "cache")}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "r1agent", "-C", str(repo), "index", *args],
                              capture_output=True, text=True, env=env)

    first = cli("--skipped")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("2 files indexed (2 parsed now, 0 removed, 1 with syntax errors)")
    assert "skipped: secret 1, vendored 1" in first.stdout
    assert "  secret     .env\n" in first.stdout and "  vendored   src/_vendor/c.py\n" in first.stdout
    again = json.loads(cli("--json").stdout)
    assert again["parsed"] == [] and again["files"] == 2
    assert {"path": ".env", "reason": "secret"} in again["skipped"]
    outside = subprocess.run([sys.executable, "-m", "r1agent", "-C", str(tmp_path), "index"],
                             capture_output=True, text=True, env=env)
    assert outside.returncode == 2 and outside.stderr.count("\n") == 1
