"""The repo map: ranked by the def/ref graph, personalised, within budget, byte-identical across runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from testkit import write_repo

from r1agent.settings import Settings
from r1agent.tools import index
from r1agent.tools.columns import Columns
from r1agent.tools.graph import DAMPING, boost, link, pagerank, rank_definitions
from r1agent.tools.index import FileRecord, load_snapshot, update_index
from r1agent.tools.repomap import build_repo_map
from r1agent.tools.symbols import Definition
from r1agent.tools.tokens import estimate_tokens


def records_of(repo, settings):
    """Every parsed file of the index, by path."""
    return list(load_snapshot(repo, settings).records.values())


def _project() -> dict[str, str]:
    """A package where every module uses ``core.Registry`` and a few neighbours: core is central."""
    files = {"pkg/core.py": "class Registry:\n    def register(self, name, factory):\n        return name\n\n"
                            "    def lookup(self, name):\n        return name\n"}
    for i in range(60):
        body = [f"from pkg.core import Registry\nfrom pkg import mod{(i + 1) % 60}\n\n"]
        for j in range(4):
            body.append(
                f"def handler_{i}_{j}(request, retries: int = {j}) -> dict:\n"
                f"    Registry().register('h{i}{j}', mod{(i + 1) % 60}.handler_{(i + 1) % 60}_{j}(request))\n"
                f"    return Registry().lookup(request)\n\n"
            )
        files[f"pkg/mod{i}.py"] = "".join(body)
    files["pkg/billing.py"] = "class InvoiceRenderer:\n    def render_invoice(self, invoice_id):\n        return invoice_id\n"
    return files


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, Settings]:
    repo = write_repo(tmp_path_factory.mktemp("project"), _project())
    return repo, Settings(cache_dir=tmp_path_factory.mktemp("cache"))


def test_central_definitions_come_first(project):
    repo, settings = project
    result = build_repo_map(repo, settings, budget=200)
    assert result.text.startswith("pkg/core.py:\n")
    assert "class Registry" in result.text and "def lookup(self, name)" in result.text


@pytest.mark.parametrize("budget", [128, 512, 2048])
def test_map_fits_the_budget_within_a_few_percent(project, budget):
    repo, settings = project
    result = build_repo_map(repo, settings, budget=budget)
    assert result.tokens == estimate_tokens(result.text)
    assert 0.95 * budget <= result.tokens <= budget


def test_same_inputs_give_byte_identical_maps(project, tmp_path):
    repo, settings = project
    first = build_repo_map(repo, settings, budget=700, issue_text="render_invoice is slow").text
    again = build_repo_map(repo, settings, budget=700, issue_text="render_invoice is slow").text
    fresh_cache = build_repo_map(repo, Settings(cache_dir=tmp_path / "c"), budget=700, issue_text="render_invoice is slow").text
    assert first == again == fresh_cache


def test_focus_and_issue_identifiers_pull_their_files_up(project):
    repo, settings = project
    plain = build_repo_map(repo, settings, budget=300)
    assert "pkg/billing.py" not in plain.files
    by_issue = build_repo_map(repo, settings, budget=300, issue_text="`InvoiceRenderer.render_invoice` drops the id")
    assert by_issue.files[0] == "pkg/billing.py"
    by_focus = build_repo_map(repo, settings, budget=300, focus=["pkg/mod42.py"])
    assert by_focus.files[0] == "pkg/mod42.py"
    assert "pkg/mod43.py" in by_focus.files  # what the focus file uses comes along
    assert "pkg/mod43.py" not in plain.files


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "r1agent", *args], capture_output=True, text=True, cwd=cwd)


def test_map_command_prints_the_map_of_the_global_repo(project):
    repo, _ = project
    proc = _cli("-C", str(repo), "map", "--budget", "150", "--focus", "pkg/billing.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("pkg/billing.py:\n")


def test_map_command_on_a_repo_without_source_says_so(tmp_path):
    repo = write_repo(tmp_path / "docs-only", {"README.md": "# notes\n"})
    proc = _cli("-C", str(repo), "map")
    assert proc.returncode == 0 and proc.stdout == ""
    assert "nothing to map" in proc.stderr


def test_map_command_outside_a_git_repo_exits_2_with_one_line(tmp_path):
    proc = _cli("-C", str(tmp_path), "map")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "not a git repository" in proc.stderr


def test_one_file_change_reparses_that_file_and_maps_as_a_fresh_build(make_repo, tmp_path):
    repo = make_repo(_project())
    settings = Settings(cache_dir=tmp_path / "cache")
    build_repo_map(repo, settings, budget=500)
    edits = [
        ("pkg/billing.py", "\n\ndef settle_invoice(invoice_id):\n    return InvoiceRenderer().render_invoice(invoice_id)\n"),
        ("pkg/mod7.py", "\n\ndef handler_7_extra(request):\n    return Registry().lookup(request)\n"),
        ("pkg/billing.py", "\n\nclass Refund:\n    def issue(self):\n        return settle_invoice(1)\n"),
    ]
    for step, (rel, addition) in enumerate(edits):
        with open(repo / rel, "a") as f:
            f.write(addition)
        report = update_index(repo, settings)
        assert report.parsed == [rel]
        kept = build_repo_map(repo, settings, budget=500, issue_text="settle_invoice fails")
        fresh = build_repo_map(repo, Settings(cache_dir=tmp_path / f"fresh{step}"), budget=500,
                               issue_text="settle_invoice fails")
        assert kept == fresh
        assert records_of(repo, settings) == records_of(repo, Settings(cache_dir=tmp_path / f"fresh{step}"))
    (repo / "pkg/mod7.py").unlink()
    assert update_index(repo, settings).removed == 1
    assert "pkg/mod7.py" not in {r.path for r in records_of(repo, settings)}
    assert build_repo_map(repo, settings, budget=500) == build_repo_map(repo, Settings(cache_dir=tmp_path / "gone"), budget=500)


@pytest.mark.parametrize("personal", [None, {"pkg/billing.py": 1.0, "pkg/mod3.py": 2.0}])
def test_pagerank_is_the_walks_stationary_rank_to_within_its_tolerance(project, personal):
    # Solved exactly: x = d (M x + (dangling . x) r) + (1 - d) r, where M moves a file's rank along its
    # out-edges by weight, and a file without out-edges (billing, core) restarts its walkers at r.
    repo, settings = project
    update_index(repo, settings)
    graph = index.load_snapshot(repo, settings).graph
    n = len(graph.paths)
    out = np.bincount(graph.src, weights=graph.weight, minlength=n)
    moves = np.zeros((n, n))
    np.add.at(moves, (graph.dst, graph.src), graph.weight / out[graph.src])
    restart = np.ones(n) if personal is None else np.asarray([personal.get(p, 0.0) for p in graph.paths])
    restart /= restart.sum()
    dangling = (out == 0).astype(float)
    assert dangling.sum() >= 2
    d = DAMPING
    exact = np.linalg.solve(np.eye(n) - d * moves - d * np.outer(restart, dangling), (1 - d) * restart)
    ranks = pagerank(graph, personal)
    assert ranks.sum() == pytest.approx(1.0, abs=1e-9)
    # Steps shrink by at most d each, so the walk stops within TOLERANCE * d / (1 - d) of the limit:
    # 6e-6, where maps first changed at ~1e-4 (see graph.TOLERANCE).
    assert np.abs(ranks - exact).sum() < 1e-5
    first, second = np.argsort(-exact)[:2]
    assert exact[first] > exact[second] + 1e-3 and int(np.argmax(ranks)) == first


@pytest.mark.parametrize("budget", [12, 40, 90, 250, 1000])
def test_the_token_count_is_the_estimate_of_the_printed_map_in_every_language(tmp_path, budget):
    samples = Path(__file__).parents[1] / "fixtures" / "tags"
    repo = write_repo(tmp_path / "polyglot", {p.name: p.read_text() for p in samples.iterdir()})
    for issue in ("", "Engine tick and HttpClient send fail"):
        result = build_repo_map(repo, Settings(cache_dir=tmp_path / "cache"), budget=budget, issue_text=issue)
        assert result.tokens == estimate_tokens(result.text) <= budget
        assert result.text


def test_references_link_only_to_definers_in_their_language_family():
    def record(path, lang, defines=(), uses=()):
        return FileRecord(path, lang, [Definition(n, "function", n, 1, 2, f"def {n}()") for n in defines],
                          dict.fromkeys(uses, 1), False)

    graph = link(Columns.from_records([
        record("a.py", "python", uses=["Engine", "helper"]), record("b.py", "python", defines=["helper"]),
        record("engine.cpp", "cpp", defines=["Engine"]), record("c.ts", "typescript", uses=["render"]),
        record("d.js", "javascript", defines=["render"]),
    ]))
    edges = {(graph.paths[s], graph.paths[d], graph.names[i])
             for s, d, i in zip(graph.src.tolist(), graph.dst.tolist(), graph.ident.tolist(), strict=True)}
    assert edges == {("a.py", "b.py", "helper"), ("c.ts", "d.js", "render")}


def test_each_definition_scores_the_rank_flowing_along_edges_named_after_it(tmp_path):
    # Every language's fixture twice (two definers of each name, in every family), boosted or not.
    samples = Path(__file__).parents[1] / "fixtures" / "tags"
    files = {f"{copy}/{p.name}": p.read_text() for p in samples.iterdir() for copy in ("a", "b")}
    settings = Settings(cache_dir=tmp_path / "cache")
    update_index(write_repo(tmp_path / "polyglot", files), settings)
    cols = index.load_snapshot(tmp_path / "polyglot", settings).columns
    for boosted in (frozenset(), frozenset(cols.names[::3])):
        graph = boost(link(cols), boosted)
        file_rank = pagerank(graph)
        out = np.bincount(graph.src, weights=graph.weight, minlength=len(graph.paths))
        expected = np.zeros(len(cols.def_name))
        for k, (f, name) in enumerate(zip(cols.def_file().tolist(), cols.def_name.tolist(), strict=True)):
            into = (graph.dst == f) & (graph.ident == name)
            expected[k] = (file_rank[graph.src[into]] * graph.weight[into] / out[graph.src[into]]).sum()
        scores = rank_definitions(graph, file_rank)
        assert (expected > 0).sum() > 20
        assert scores == pytest.approx(expected, rel=1e-12, abs=0)


def test_edges_weigh_the_root_of_the_reference_count_split_among_definers_and_less_for_generic_names():
    def record(path, defines=(), uses=None):
        return FileRecord(path, "python", [Definition(n, "function", n, 1, 2, f"def {n}()") for n in defines],
                          uses or {}, False)

    crowd = [record(f"c{i}.py", defines=["common"]) for i in range(6)]  # 6 definers: generic
    mob = [record(f"m{i:02}.py", defines=["everywhere"]) for i in range(33)]  # past 32: links nothing
    graph = link(Columns.from_records([
        record("a.py", defines=["own"], uses={"helper": 9, "shared": 4, "common": 1, "everywhere": 1, "own": 2,
                                               "get": 1}),
        record("b.py", defines=["helper", "shared", "get"]), record("d.py", defines=["shared"]), *crowd, *mob,
    ]))
    edges = {(graph.paths[s], graph.paths[d], graph.names[i]): w for s, d, i, w in
             zip(graph.src.tolist(), graph.dst.tolist(), graph.ident.tolist(), graph.weight.tolist(), strict=True)}
    expected = {("a.py", "b.py", "helper"): 3.0, ("a.py", "b.py", "shared"): 1.0, ("a.py", "d.py", "shared"): 1.0,
                ("a.py", "b.py", "get"): 0.1}  # "get" says little (graph.says_little)
    expected |= {("a.py", f"c{i}.py", "common"): 0.1 / 6 for i in range(6)}
    assert edges == pytest.approx(expected)


_REPORT_COLLECTOR = ("import atexit, gc, sys; from r1agent.cli import main; "
                     "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0, file=sys.stderr)); "
                     "sys.argv = ['r1agent', *sys.argv[1:]]; main()")


@pytest.mark.parametrize(("command", "frozen"), [(["map"], True), (["config", "show"], False)])
def test_only_an_index_reading_command_ends_without_the_collectors_last_pass(project, tmp_path, command, frozen):
    repo, _ = project
    env = {**os.environ, "R1AGENT_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", _REPORT_COLLECTOR, "-C", str(repo), *command],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"frozen {frozen}" in proc.stderr
    assert proc.stdout.startswith("pkg/core.py:\n") is frozen


def test_an_index_reading_command_in_process_leaves_the_collector_as_it_found_it(project, capsys):
    import gc

    from r1agent.cli import main

    repo, _ = project
    before = gc.get_freeze_count()
    with pytest.raises(SystemExit) as exit_info:
        main(["-C", str(repo), "map", "--budget", "150"])
    assert exit_info.value.code == 0 and "pkg/" in capsys.readouterr().out
    assert gc.isenabled() and gc.get_freeze_count() == before
