"""Localization eval on real bug-fix commits of public projects, against plain BM25 over files.

    .venv/bin/python bench/eval_localize.py --build heldout   # pick cases from the fetched mirrors -> bench/data/
    .venv/bin/python bench/eval_localize.py [--set tuning|heldout]   # check out each fix's parent, rank, score

Three sets: "tuning" (the projects the ranking weights were tuned on), "heldout" (five other projects,
picked after the weights were frozen and never used to change them), so the held-out figures say
how the ranking does on code it has not seen, and "large" (five of SWE-bench's repos, with their
large files, from before their first SWE-bench Lite instance: a tuning set that looks like lite).

A case is a commit whose message describes a bug fix, paired with the non-test source files it
modified (its gold files). The issue text given to both rankers is the commit message. Mirrors are
read from /work/.mirror/<owner>+<name>/repo (override with R1AGENT_MIRRORS); their code is not committed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from r1agent.settings import Settings
from r1agent.tools.index import load_snapshot, update_index
from r1agent.tools.localize import rank_files

HERE = Path(__file__).parent
MIRRORS = Path(os.environ.get("R1AGENT_MIRRORS", "/work/.mirror"))
SETS = {  # name: (cases file, projects, cases a project gives)
    "tuning": (HERE / "data" / "localize_cases.json", [
        "pallets/click", "psf/requests", "marshmallow-code/marshmallow", "encode/httpx",
        "python-attrs/attrs", "pallets/jinja",
    ], 30),
    "heldout": (HERE / "data" / "localize_heldout.json", [
        "pallets/flask", "pallets/werkzeug", "Textualize/rich", "encode/starlette", "benoitc/gunicorn",
    ], 30),
    # Large files, as SWE-bench's repos have: fixes made before each project's first SWE-bench Lite
    # instance (BEFORE), so that no case is one of the fixes lite-dev scores.
    "large": (HERE / "data" / "localize_large.json", [
        "sympy/sympy", "sphinx-doc/sphinx", "pytest-dev/pytest", "pydata/xarray", "astropy/astropy",
    ], 20),
}
BEFORE = {"sympy/sympy": "2016-06-01", "sphinx-doc/sphinx": "2020-04-01", "pytest-dev/pytest": "2019-03-01",
          "pydata/xarray": "2019-09-01", "astropy/astropy": "2017-11-01"}
_FIX = re.compile(r"\b(fix|fixes|fixed|fixing|bug|bugfix)\b", re.I)
_NOT_A_BUG = re.compile(r"\b(typo|typos|docs?|documentation|changelog|lint|flake8|mypy|pre-commit|ci|test suite|tests?)\b", re.I)
_TRAILER = re.compile(r"^(signed-off-by|co-authored-by|reviewed-by|cherry picked)", re.I)


def plain_words(text: str) -> list[str]:
    """Lowercase words with no identifier splitting: what a plain BM25 baseline sees."""
    return [w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True,
                          errors="replace").stdout


def _is_source(path: str) -> bool:
    parts = path.split("/")
    return path.endswith(".py") and not any(p in {"tests", "test", "docs", "examples", "scripts", "benchmarks"} for p in parts[:-1]) \
        and not parts[-1].startswith(("test_", "conftest")) and parts[-1] != "setup.py"


def pick_cases(project: str, per_project: int) -> list[dict]:
    mirror = MIRRORS / project.replace("/", "+") / "repo"
    before = [f"--before={BEFORE[project]}"] if project in BEFORE else []
    log = git(mirror, "log", *before, "--no-merges", "--format=%x1e%H %P%x1f%B%x1f", "--name-status", "HEAD")
    found = []
    for entry in log.split("\x1e")[1:]:
        head, body, files = entry.split("\x1f")
        shas = head.split()
        if len(shas) != 2:
            continue
        message = "\n".join(line for line in body.strip().splitlines() if not _TRAILER.match(line)).strip()
        subject = message.splitlines()[0] if message else ""
        if not _FIX.search(subject) or _NOT_A_BUG.search(subject) or len(message) < 40:
            continue
        changes = [line.split("\t") for line in files.strip().splitlines() if "\t" in line]
        gold = sorted(c[1] for c in changes if c[0] == "M" and _is_source(c[1]))
        if not 1 <= len(gold) <= 3 or any(c[0] != "M" and _is_source(c[-1]) for c in changes):
            continue
        found.append({"repo": project, "commit": shas[0], "parent": shas[1], "message": message, "gold": gold})
    found.reverse()  # oldest first; then an even spread over the project's history
    step = max(1, len(found) // per_project)
    return found[::step][:per_project]


def bm25_files(root: Path, paths: list[str], issue: str) -> list[str]:
    """The baseline: BM25 over each file's plain lowercase words, nothing else."""
    docs = [plain_words((root / p).read_text("utf-8", "replace")) for p in paths]
    scores = BM25Okapi(docs).get_scores(plain_words(issue))
    return [paths[i] for i in np.argsort(-scores, kind="stable")]


def score(ranked: list[str], gold: list[str]) -> tuple[int, int, int]:
    top5 = set(ranked[:5])
    return int(bool(ranked) and ranked[0] in gold), int(bool(top5 & set(gold))), int(set(gold) <= top5)


def run(cases: list[dict], work: Path) -> None:
    settings = Settings(cache_dir=work / "cache")
    totals = {"r1agent": np.zeros(3), "bm25": np.zeros(3)}
    per_project: dict[str, dict[str, np.ndarray]] = {}
    used = 0
    t_ours = 0.0
    for case in sorted(cases, key=lambda c: (c["repo"], cases.index(c))):
        checkout = work / case["repo"].replace("/", "+")
        if not checkout.exists():
            subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout",
                            str(MIRRORS / case["repo"].replace("/", "+") / "repo"), str(checkout)], check=True)
        subprocess.run(["git", "-C", str(checkout), "checkout", "-q", "-f", case["parent"]], check=True)
        subprocess.run(["git", "-C", str(checkout), "clean", "-q", "-fdx"], check=True)
        t = time.perf_counter()
        update_index(checkout, settings)
        snap = load_snapshot(checkout, settings)
        records = list(snap.records.values())
        loc = rank_files(snap, case["message"], top_k=10)
        ours = [h.path for h in loc.files]
        t_ours += time.perf_counter() - t
        paths = [r.path for r in records]
        if not set(case["gold"]) <= set(paths):
            continue
        used += 1
        base = bm25_files(checkout, paths, case["message"])
        proj = per_project.setdefault(case["repo"], {"r1agent": np.zeros(3), "bm25": np.zeros(3), "n": np.zeros(1)})
        for name, ranked in (("r1agent", ours), ("bm25", base)):
            s = np.asarray(score(ranked, case["gold"]))
            totals[name] += s
            proj[name] += s
        proj["n"] += 1
    print(f"{used} cases from {len(per_project)} projects (r1agent: {t_ours:.1f}s incl. incremental indexing)")
    print(f"{'project':34} {'n':>4}  {'hit@1':>13} {'hit@5':>13} {'all-gold@5':>13}   (r1agent / bm25)")
    for proj, m in sorted(per_project.items()):
        n = m["n"][0]
        cells = "  ".join(f"{m['r1agent'][k] / n:5.2f} / {m['bm25'][k] / n:4.2f}" for k in range(3))
        print(f"{proj:34} {int(n):>4}  {cells}")
    print()
    for k, name in enumerate(("hit@1", "hit@5", "all-gold@5")):
        a, b = totals["r1agent"][k] / used, totals["bm25"][k] / used
        print(f"{name:11} r1agent {a:6.1%}   bm25-files {b:6.1%}   delta {100 * (a - b):+5.1f} points")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", choices=sorted(SETS), help="pick this set's cases from the mirrors and write them")
    ap.add_argument("--set", choices=sorted(SETS), action="append", help="evaluate this set (default: all)")
    ap.add_argument("--work", type=Path, help="keep checkouts and index here (default: a temp dir)")
    args = ap.parse_args()
    if args.build:
        path, projects, per_project = SETS[args.build]
        cases = [c for p in projects for c in pick_cases(p, per_project)]
        path.write_text(json.dumps(cases, indent=1) + "\n")
        print(f"wrote {len(cases)} cases to {path}")
        return
    for name in args.set or sorted(SETS, reverse=True):
        cases = json.loads(SETS[name][0].read_text())
        missing = sorted({c["repo"] for c in cases if not (MIRRORS / c["repo"].replace("/", "+") / "repo").exists()})
        if missing:
            sys.exit(f"missing mirrors (fetch them first): {', '.join(missing)}")
        print(f"\n== {name} set ==")
        if args.work:
            args.work.mkdir(parents=True, exist_ok=True)
            run(cases, args.work / name)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                run(cases, Path(tmp))


if __name__ == "__main__":
    main()
