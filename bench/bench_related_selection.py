"""Which test files a candidate runs, on real repos, with the graph-linked files capped
(tests.related_graph_files) against uncapped, and in what order, in the same run; no Docker, no test
is run.

For each SWE-bench Lite dev instance: the checkout at its base commit is indexed, the gold patch's source
files are the change, and the related selection is taken three ways: capped and ordered by closeness
(link weight times its share of the file's links, the default), capped and ordered by weight alone,
and uncapped. Printed: how many test files each selects (the time a candidate and its baseline spend
in tests grows with them), in how many instances the selection holds every existing test file the
instance's own test patch edits (the tests its developers thought the change touches), and in how many
those are all among the first 4 and 8 files of the order (what the baseline runs first when
tests.related_seconds runs out).

    .venv/bin/python bench/bench_related_selection.py --mirrors ~/mirrors [--work DIR] [IDS...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

from unidiff import PatchSet

from r1agent.agent.related import related_test_files
from r1agent.settings import Settings
from r1agent.tools.index import load_snapshot, update_index

LITE = Path(__file__).resolve().parent.parent.parent / "shared" / "swebench" / "lite-dev.jsonl"
FIRST = (4, 8)


def checkout(work: Path, mirrors: Path, repo: str, commit: str) -> Path:
    """One clone per repo, moved to each instance's commit (indexing is then incremental)."""
    path = work / repo.replace("/", "__")
    if not path.exists():
        subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout",
                        str(mirrors / f"{repo.replace('/', '__')}.git"), str(path)], check=True)
    # A mirror may lack a large blob (astropy's IERS data): the rest of the tree is still checked out.
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "-f", commit], capture_output=True)
    subprocess.run(["git", "-C", str(path), "clean", "-q", "-fdx"], check=True)
    return path


def measure(row: dict, work: Path, mirrors: Path, settings: Settings) -> dict:
    repo = checkout(work, mirrors, row["repo"], row["base_commit"])
    update_index(repo, settings)
    graph = load_snapshot(repo, settings).graph
    code = [p.path for p in PatchSet(row["patch"]) if p.path.endswith(".py")]
    own = {p.path for p in PatchSet(row["test_patch"]) if p.path.endswith(".py") and not p.is_added_file}
    limit = settings.tests.related_graph_files
    uncapped = related_test_files(code, repo, graph)
    capped = related_test_files(code, repo, graph, graph_limit=limit)
    weighed = related_test_files(code, repo, graph, graph_limit=limit, focus=False)
    return {"instance": row["instance_id"], "uncapped": len(uncapped), "capped": len(capped),
            "own_in_uncapped": own <= set(uncapped), "own_in_capped": own <= set(capped),
            "own_in_weighed": own <= set(weighed),
            **{f"own_first_{k}": own <= set(capped[:k]) for k in FIRST},
            **{f"own_first_{k}_weighed": own <= set(weighed[:k]) for k in FIRST}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--mirrors", type=Path, required=True)
    ap.add_argument("--work", type=Path, help="keep the clones and indexes here (default: a temp dir)")
    args = ap.parse_args()
    rows = [json.loads(line) for line in LITE.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if not args.ids or r["instance_id"] in args.ids]
    with tempfile.TemporaryDirectory(prefix="bench-selection-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        settings = Settings(cache_dir=work / "cache")
        results = [measure(r, work, args.mirrors.expanduser(), settings) for r in rows]
    by_repo = defaultdict(list)
    for r in results:
        print(json.dumps(r))
        by_repo[r["instance"].rsplit("-", 1)[0]].append(r)
    print(f"\n{'repo':24} {'n':>3}  {'test files a change selects (mean)':>36}  {'own tests selected':>19}")
    for repo, rs in sorted(by_repo.items()):
        cap, unc = sum(r["capped"] for r in rs) / len(rs), sum(r["uncapped"] for r in rs) / len(rs)
        print(f"{repo:24} {len(rs):>3}  {f'capped {cap:5.1f}, uncapped {unc:5.1f}':>36}  "
              f"{sum(r['own_in_capped'] for r in rs):>8} / {sum(r['own_in_uncapped'] for r in rs):<8}")
    cap, unc = sum(r["capped"] for r in results), sum(r["uncapped"] for r in results)
    print(f"test files selected over {len(results)} instances: capped {cap}, uncapped {unc}: "
          f"{unc / max(cap, 1):.2f}x fewer")
    print(f"instances whose own test files are all selected: capped {sum(r['own_in_capped'] for r in results)}, "
          f"capped by weight alone {sum(r['own_in_weighed'] for r in results)}, "
          f"uncapped {sum(r['own_in_uncapped'] for r in results)}")
    for k in FIRST:
        new, old = (sum(r[f"own_first_{k}{how}"] for r in results) for how in ("", "_weighed"))
        print(f"... all among the first {k} files run: by closeness {new}, by weight alone {old} "
              f"({new / max(old, 1):.2f}x)")


if __name__ == "__main__":
    main()
