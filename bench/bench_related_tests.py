"""Related-test selection on real repos: the time a fix run spends in tests, selection against
full-suite-per-candidate, in the same run; and whether selection misses a regression that the full
suite finds in the changed modules' own tests.

For each SWE-bench instance given (its gold patch is the candidate):
- the full suite and the related selection (target tests + test files related to the changed files)
  are each run on the candidate;
- a fix run of R rounds x C candidates costs, full-suite-per-candidate: (1 + R*C) full runs (baseline and
  every candidate); with selection: (1 + R*C) selected runs plus one full confirmation (the baseline's
  and the winner's full suites run in parallel, so one full run of wall time);
- a broken candidate (the gold patch plus a ``raise`` atop each function it changes) is run both
  ways: every failure the full suite shows in the changed modules' tests (test files related to them, or
  named test_<module>.py) must also be in the selected run.

    .venv/bin/python bench/bench_related_tests.py --mirrors ~/mirrors [--rounds 3 --candidates 2] [IDS...]
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import tempfile
from pathlib import Path

from unidiff import PatchSet

from r1agent.agent.related import related_test_files, test_files
from r1agent.batch.instances import Instance
from r1agent.batch.materialize import materialize
from r1agent.diffs import kept_files
from r1agent.sandbox.docker_backend import DockerBackend
from r1agent.settings import load_settings
from r1agent.tools.index import load_snapshot, update_index

LITE = Path(__file__).resolve().parent.parent.parent / "shared" / "swebench" / "lite-dev.jsonl"
DEFAULT = ["pallets__flask-4045", "pytest-dev__pytest-5227", "pydata__xarray-4248"]


def failing(tests: dict[str, str]) -> set[str]:
    return {t for t, s in tests.items() if s in ("failed", "error")}


def _changed_functions_first_lines(text: str, lines: set[int]) -> list[tuple[int, int]]:
    """(line, column) of the first body statement of each innermost function holding a changed line."""
    found = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            span = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
            for line in lines & span:
                best = found.get(line)
                if best is None or node.lineno > best.lineno:
                    found[line] = node
    return sorted({(n.body[0].lineno, n.body[0].col_offset) for n in found.values()})


def mutant(inst: Instance, checkout: Path, code: list[str]) -> str:
    """The gold patch plus a ``raise`` at the top of every function it changes: a candidate that passes
    no test of those functions, while the modules still import."""
    subprocess.run(["git", "apply", "-"], input=inst.patch, text=True, cwd=checkout, check=True)
    try:
        for pf in PatchSet(inst.patch):
            if pf.path not in code:
                continue
            added = {ln.target_line_no for h in pf for ln in h if ln.is_added}
            path = checkout / pf.path
            text = path.read_text(encoding="utf-8").splitlines(keepends=True)
            for line, col in reversed(_changed_functions_first_lines("".join(text), added)):
                text.insert(line - 1, " " * col + "raise RuntimeError('bench: a broken candidate')\n")
            path.write_text("".join(text), encoding="utf-8")
        return subprocess.run(["git", "diff"], cwd=checkout, capture_output=True, text=True, check=True).stdout
    finally:
        subprocess.run(["git", "checkout", "--", "."], cwd=checkout, check=True)


def measure(inst: Instance, work: Path, mirrors: Path, rounds: int, candidates: int) -> dict:
    checkout = materialize(inst, work, mirrors).path
    settings = load_settings(repo=checkout, flags={"sandbox.dependency_date": "commit"},
                             repo_policy="ignore").settings
    code = [p for p in kept_files(inst.patch) if p.endswith(".py")]
    update_index(checkout, settings)
    graph = load_snapshot(checkout, settings).graph
    targets = sorted({t.split("::")[0] for t in inst.FAIL_TO_PASS if "::" in t})
    selection = list(dict.fromkeys([*targets, *related_test_files(code, checkout, graph,
                                                                     graph_limit=settings.tests.related_graph_files)]))
    backend = DockerBackend(settings, checkout)
    backend.ensure_image()
    broken = mutant(inst, checkout, code)
    runs = {}
    for name, patch in (("gold", inst.patch), ("broken", broken)):
        with backend.create(f"bench-{name}") as sb:
            if inst.test_patch.strip():
                sb.apply_patch(inst.test_patch)
            sb.apply_patch(patch)
            runs[name, "full"] = sb.run_tests(None)
            runs[name, "selected"] = sb.run_tests(selection)
    full_s, sel_s = runs["gold", "full"].duration_s, runs["gold", "selected"].duration_s
    per_run = 1 + rounds * candidates
    own = {t for t in failing(runs["broken", "full"].tests) - failing(runs["gold", "full"].tests)
           if t.split("::")[0] in selection or any(Path(t.split("::")[0]).name == f"test_{Path(c).name}" for c in code)}
    missed = sorted(own - failing(runs["broken", "selected"].tests))
    return {
        "instance": inst.instance_id, "test_files": len(test_files(checkout)), "selected": len(selection),
        "full_tests": len(runs["gold", "full"].tests), "selected_tests": len(runs["gold", "selected"].tests),
        "full_s": round(full_s, 1), "selected_s": round(sel_s, 1),
        "run_full_per_candidate_s": round(per_run * full_s, 1),
        "run_selected_s": round(per_run * sel_s + full_s, 1),
        "ratio": round(per_run * full_s / (per_run * sel_s + full_s), 2),
        "regressions_in_changed_modules_tests": len(own), "missed_by_selection": missed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*", default=DEFAULT)
    ap.add_argument("--mirrors", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--candidates", type=int, default=2)
    args = ap.parse_args()
    rows = {json.loads(line)["instance_id"]: json.loads(line) for line in LITE.read_text().splitlines() if line.strip()}
    with tempfile.TemporaryDirectory(prefix="bench-related-") as tmp:
        results = [measure(Instance.model_validate(rows[i]), Path(tmp), args.mirrors.expanduser(), args.rounds,
                           args.candidates) for i in args.ids]
    for r in results:
        print(json.dumps(r))
    total_full = sum(r["run_full_per_candidate_s"] for r in results)
    total_sel = sum(r["run_selected_s"] for r in results)
    missed = sum(len(r["missed_by_selection"]) for r in results)
    caught = sum(r["regressions_in_changed_modules_tests"] for r in results)
    print(f"test time of a {args.rounds}x{args.candidates} fix run: full suite per candidate {total_full:.0f} s, "
          f"related selection + one full confirmation {total_sel:.0f} s: {total_full / max(total_sel, 1e-9):.2f}x less")
    print(f"regressions in the changed modules' tests: {caught} found by the full suite, {missed} missed by selection")


if __name__ == "__main__":
    main()
