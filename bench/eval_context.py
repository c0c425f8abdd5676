"""Does the context pack show R1 the code it must change? Scored against real fixes, old pack vs new.

    .venv/bin/python bench/eval_context.py                 # SWE-bench Lite dev split + the localization sets
    .venv/bin/python bench/eval_context.py --set lite --limit 20

For each case the repo is checked out at the fix's parent, the pack is built as the agent builds it
(``build_context_pack`` at the default settings), and the fix's diff is read with unidiff:
- lines visible: the share of the lines the fix removes or changes (for a pure insertion, the line it
  follows) that the pack shows verbatim;
- definitions shown: the share of cases where, for every hunk, each function or method enclosing a
  changed line is shown whole (a line outside any function counts as itself);
- tokens: the pack's size (map plus code), median and maximum.
The old pack (whole files in rank order within 12k tokens, as before excerpts existed) is scored in the
same run, and so is the ceiling that the localizer leaves any packer: every candidate file shown whole,
whatever it costs. What the ceiling misses, only better ranking can show. The gold diffs only score
packs; nothing here tunes what the agent sends.
Sets: "lite" is ../shared/swebench/lite-dev.jsonl (mirrors under R1AGENT_SWEBENCH_MIRRORS, default
~/mirrors, as owner__name.git); the others are eval_localize.py's sets, bench/data's localization cases
(commit messages as issues; mirrors under R1AGENT_MIRRORS, default /work/.mirror/<owner>+<name>/repo).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from eval_localize import SETS
from unidiff import PatchSet

from r1agent.settings import Settings
from r1agent.tools.context import CANDIDATE_FILES, build_context_pack
from r1agent.tools.index import load_snapshot
from r1agent.tools.localize import rank_files
from r1agent.tools.repomap import render_map
from r1agent.tools.tokens import estimate_tokens

HERE = Path(__file__).parent
LITE = HERE.parent.parent / "shared" / "swebench" / "lite-dev.jsonl"
SWEBENCH_MIRRORS = Path(os.environ.get("R1AGENT_SWEBENCH_MIRRORS", Path.home() / "mirrors"))
MIRRORS = Path(os.environ.get("R1AGENT_MIRRORS", "/work/.mirror"))
_CONTAINERS = {"class", "struct", "interface", "trait", "enum", "impl", "module"}


@dataclass
class Case:
    name: str
    repo: str
    mirror: Path
    commit: str
    issue: str
    diff: str


def lite_cases() -> list[Case]:
    rows = [json.loads(line) for line in LITE.read_text().splitlines() if line.strip()]
    rows.sort(key=lambda r: (r["repo"], r["created_at"]))
    return [Case(r["instance_id"], r["repo"], SWEBENCH_MIRRORS / (r["repo"].replace("/", "__") + ".git"),
                 r["base_commit"], r["problem_statement"], r["patch"]) for r in rows]


def localization_cases(which: str) -> list[Case]:
    out = []
    for c in json.loads(SETS[which][0].read_text()):
        mirror = MIRRORS / c["repo"].replace("/", "+") / "repo"
        diff = subprocess.run(["git", "--git-dir", str(mirror), "diff", c["parent"], c["commit"], "--", *c["gold"]],
                              capture_output=True, text=True, errors="replace").stdout if mirror.exists() else ""
        out.append(Case(f"{c['repo']}@{c['commit'][:8]}", c["repo"], mirror, c["parent"], c["message"], diff))
    return out


def checkout(case: Case, work: Path) -> Path:
    dest = work / case.repo.replace("/", "+")
    if not dest.exists():
        subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(case.mirror), str(dest)], check=True)
    if subprocess.run(["git", "-C", str(dest), "checkout", "-q", "-f", case.commit], capture_output=True).returncode:
        # A mirror may lack its largest blobs (data files): check out everything else.
        tree = subprocess.run(["git", "-C", str(dest), "ls-tree", "-r", case.commit], capture_output=True,
                              text=True, check=True).stdout.splitlines()
        objs = "\n".join(t.split()[2] for t in tree) + "\n"
        have = subprocess.run(["git", "-C", str(dest), "cat-file", "--batch-check"], input=objs, capture_output=True,
                              text=True).stdout.splitlines()
        missing = [t.split("\t", 1)[1] for t, h in zip(tree, have, strict=True) if h.endswith(" missing")]
        subprocess.run(["git", "-C", str(dest), "sparse-checkout", "set", "--no-cone", "/*",
                        *(f"!/{p}" for p in missing)], check=True)
        subprocess.run(["git", "-C", str(dest), "checkout", "-q", "-f", case.commit], check=True)
    subprocess.run(["git", "-C", str(dest), "clean", "-q", "-fdx"], check=True)
    return dest


def targets(diff: str, defs_of) -> dict[str, list[tuple[list[int], list[tuple[int, int]]]]]:
    """For each modified file: per hunk, the old lines it changes and the spans that must be shown."""
    out: dict[str, list] = {}
    for pf in PatchSet(diff):
        if pf.is_added_file or pf.is_removed_file or not pf.path.endswith(".py"):
            continue
        defs = defs_of(pf.path)
        hunks = []
        for h in pf:
            lines: list[int] = []
            last_old = h.source_start - 1
            for ln in h:
                if ln.is_removed:
                    lines.append(ln.source_line_no)
                elif ln.is_added and (not lines or lines[-1] != max(last_old, 1)):
                    lines.append(max(last_old, 1))
                if ln.source_line_no is not None:
                    last_old = ln.source_line_no
            lines = sorted(set(lines))
            need = set()
            for line in lines:
                around = [d for d in defs if d.start_line <= line <= d.end_line and not (
                    d.kind in _CONTAINERS and any(d.start_line < o.start_line <= d.end_line for o in defs))]
                inner = min(around, key=lambda d: d.end_line - d.start_line, default=None)
                need.add((inner.start_line, inner.end_line) if inner else (line, line))
            hunks.append((lines, sorted(need)))
        out[pf.path] = hunks
    return out


def visible_sets(files) -> dict[str, list[tuple[int, int]]]:
    return {f.path: [(s.start, s.end) for s in f.spans] for f in files}


def seen(vis: dict[str, list[tuple[int, int]]], path: str, a: int, b: int) -> bool:
    return any(s <= a and b <= e for s, e in vis.get(path, ()))


@dataclass
class OldFile:
    path: str
    spans: list


class _S:
    def __init__(self, start, end):
        self.start, self.end = start, end


def old_pack(root: Path, settings: Settings, issue: str) -> tuple[list[OldFile], int]:
    """The pack as it was before excerpts: whole files in rank order while they fit 12k tokens, a 2k map."""
    snap = load_snapshot(root, settings)
    loc = rank_files(snap, issue, top_k=10)
    used, files = 0, []
    for h in loc.files:
        try:
            text = (root / h.path).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        cost = estimate_tokens(text)
        if used + cost > 12000:
            continue
        used += cost
        files.append(OldFile(h.path, [_S(1, text.count("\n") + 1)]))
    shown = [f.path for f in files]
    repo_map = render_map(snap, budget=2048, focus=shown, issue_text=issue, exclude=shown).text
    return files, used + estimate_tokens(repo_map)


def run(name: str, cases: list[Case], work: Path, limit: int | None) -> None:
    settings = Settings(cache_dir=work / "cache")
    if limit:
        cases = cases[:limit]
    per_repo: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    t0 = time.perf_counter()
    for case in cases:
        if not case.mirror.exists() or not case.diff:
            print(f"  skip {case.name}: no mirror or no diff", file=sys.stderr)
            continue
        root = checkout(case, work)
        t = time.perf_counter()
        pack = build_context_pack(root, case.issue, settings)
        t_pack = time.perf_counter() - t
        records = load_snapshot(root, settings).records
        tg = targets(case.diff, lambda p, records=records: records[p].definitions if p in records else [])
        if not tg:
            continue
        old_files, old_tokens = old_pack(root, settings, case.issue)
        every = [OldFile(h.path, [_S(1, 10**9)]) for h in pack.localization.files[:CANDIDATE_FILES]]
        for label, files, tokens in (("new", pack.files, pack.tokens), ("old", old_files, old_tokens),
                                     ("ceiling", every, 0)):
            vis = visible_sets(files)
            lines = [seen(vis, p, ln, ln) for p, hunks in tg.items() for ls, _ in hunks for ln in ls]
            defs_ok = all(seen(vis, p, a, b) for p, hunks in tg.items() for _, need in hunks for a, b in need)
            m = per_repo[case.repo]
            m[f"{label}_lines"].append(sum(lines) / max(1, len(lines)))
            m[f"{label}_line_n"].append((sum(lines), len(lines)))
            m[f"{label}_defs"].append(defs_ok)
            m[f"{label}_tokens"].append(tokens)
        ranked = {h.path for h in pack.localization.files}
        packed = {f.path: f.whole for f in pack.files}
        vis = visible_sets(pack.files)
        for p, hunks in tg.items():
            for _, need in hunks:
                for a, b in need:
                    if not seen(vis, p, a, b):
                        why = ("not ranked" if p not in ranked else "ranked, no room" if p not in packed
                               else "excerpted, not chosen")
                        per_repo[case.repo]["misses"].append(why)
        per_repo[case.repo]["seconds"].append(t_pack)
    elapsed = time.perf_counter() - t0
    n = sum(len(m["new_defs"]) for m in per_repo.values())
    if not n:
        print(f"== {name}: no cases scored")
        return
    print(f"\n== {name}: {n} cases, {elapsed:.0f} s (checkouts and indexing included)")
    print(f"{'repo':26} {'n':>3}  {'lines visible':>15}  {'defs shown':>13}  {'median tokens':>15}   (new / old)")

    def agg(ms, label):
        got = sum(a for m in ms for a, _ in m[f"{label}_line_n"])
        total = sum(b for m in ms for _, b in m[f"{label}_line_n"])
        defs = [d for m in ms for d in m[f"{label}_defs"]]
        toks = [t for m in ms for t in m[f"{label}_tokens"]]
        return got / max(1, total), sum(defs) / max(1, len(defs)), statistics.median(toks), max(toks)

    for repo, m in sorted(per_repo.items()):
        nl, nd, nt, _ = agg([m], "new")
        ol, od, ot, _ = agg([m], "old")
        print(f"{repo:26} {len(m['new_defs']):>3}  {nl:6.2f} / {ol:4.2f}  {nd:5.2f} / {od:4.2f}  {nt:7.0f} / {ot:5.0f}")
    nl, nd, nt, nmax = agg(per_repo.values(), "new")
    ol, od, ot, omax = agg(per_repo.values(), "old")
    print(f"{'all':26} {n:>3}  {nl:6.2f} / {ol:4.2f}  {nd:5.2f} / {od:4.2f}  {nt:7.0f} / {ot:5.0f}")
    print(f"lines visible: new {nl:.3f}, old {ol:.3f} ({nl / max(ol, 1e-9):.2f}x)")
    print(f"every hunk's definition shown: new {nd:.3f}, old {od:.3f}")
    cl, cd, _, _ = agg(per_repo.values(), "ceiling")
    print(f"ceiling (all {CANDIDATE_FILES} candidate files whole): lines visible {cl:.3f}, every hunk's definition "
          f"{cd:.3f}; the new pack reaches {nl / max(cl, 1e-9):.0%} and {nd / max(cd, 1e-9):.0%} of it")
    print(f"pack tokens: new median {nt:.0f}, max {nmax}; old median {ot:.0f}, max {omax}")
    misses = [w for m in per_repo.values() for w in m["misses"]]
    print("definitions not shown, by cause: " + ", ".join(
        f"{w} {misses.count(w)}" for w in ("not ranked", "ranked, no room", "excerpted, not chosen")))
    secs = [s for m in per_repo.values() for s in m["seconds"]]
    print(f"build_context_pack: median {statistics.median(secs):.2f} s a case (incremental indexing included)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["lite", *SETS], action="append")
    ap.add_argument("--limit", type=int, help="score only the first N cases of each set")
    ap.add_argument("--work", type=Path, help="keep checkouts and indexes here (default: a temp dir)")
    args = ap.parse_args()
    for which in args.set or ["lite", *SETS]:
        cases = lite_cases() if which == "lite" else localization_cases(which)
        if args.work:
            args.work.mkdir(parents=True, exist_ok=True)
            run(which, cases, args.work / which, args.limit)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                run(which, cases, Path(tmp), args.limit)


if __name__ == "__main__":
    main()
