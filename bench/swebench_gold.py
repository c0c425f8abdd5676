"""Environments on real repos: SWE-bench Lite's dev split with each instance's gold patch as the
prediction, graded in the sandbox. SWE-bench's own harness resolves every instance of its validated
set, so the figure printed is the share of that (1.00 = as good as the harness).

    .venv/bin/python bench/swebench_gold.py --mirrors ~/mirrors --out /tmp/gold [--ids a,b]   # runs the batch
    .venv/bin/python bench/swebench_gold.py --out /tmp/gold --report                          # only summarises

The batch is resumable: rerun the same command and finished instances are kept.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

LITE = Path(__file__).resolve().parent.parent.parent / "shared" / "swebench" / "lite-dev.jsonl"


def summarise(out: Path) -> None:
    per_repo: dict[str, list[dict]] = defaultdict(list)
    for line in (out / "records.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            per_repo[record["repo"]].append(record)
    total = resolved = 0
    print(f"{'repo':<22} {'resolved':>9} {'wall s':>8}  unresolved (cause)")
    for repo, records in sorted(per_repo.items()):
        ok = [r for r in records if (r.get("evaluation") or {}).get("resolved")]
        wall = sum(r.get("duration_s", 0) + ((r.get("evaluation") or {}).get("duration_s") or 0) for r in records)
        bad = []
        for r in records:
            ev = r.get("evaluation") or {}
            if not ev.get("resolved"):
                why = ev.get("error") or r.get("error") or \
                    f"{len(ev.get('still_failing') or [])} F2P failing, {len(ev.get('pass_to_fail') or [])} P2P failing"
                bad.append(f"{r['instance_id'].split('__')[1]} ({why[:90]})")
        total, resolved = total + len(records), resolved + len(ok)
        print(f"{repo:<22} {len(ok):>4}/{len(records):<4} {wall:>8.0f}  {'; '.join(bad)}")
    print(f"resolved {resolved}/{total} = {resolved / max(total, 1):.2f} of what SWE-bench's harness resolves (1.00)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--mirrors", type=Path)
    ap.add_argument("--ids", default="", help="comma-separated instance ids (default: all 72)")
    ap.add_argument("--report", action="store_true", help="only summarise an existing run")
    args = ap.parse_args()
    if not args.report:
        if args.mirrors is None:
            ap.error("--mirrors is required to run the batch")
        wanted = {i for i in args.ids.split(",") if i}
        lines = [ln for ln in LITE.read_text().splitlines()
                 if ln.strip() and (not wanted or json.loads(ln)["instance_id"] in wanted)]
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run([sys.executable, "-m", "r1agent", "batch", "run", f.name, "--out", str(args.out), "--gold",
                        "--evaluate", "--mirrors", str(args.mirrors.expanduser()), "--timeout", "1800", "--json"],
                       check=False, stdout=subprocess.DEVNULL)
    summarise(args.out)


if __name__ == "__main__":
    main()
