"""The whole agent path on real repos: SWE-bench Lite's dev split run through `r1agent batch
--no-reproduce --evaluate` against an endpoint that answers every instance with its own gold patch,
written as SEARCH/REPLACE blocks. The model's answer is right by construction, so what is measured is
everything around it: the edit matcher, the sandbox, the baseline, related-test selection, the
confirming full-suite run and the grading. Printed beside the `--gold` run of the same instances (which
skips the agent), run first in the same invocation unless --gold-out names a finished one.

    .venv/bin/python bench/swebench_agent_gold.py --mirrors ~/mirrors --out /tmp/agent-gold [--ids a,b]
    .venv/bin/python bench/swebench_agent_gold.py --mirrors ~/mirrors --out /tmp/agent-gold --gold-out /tmp/gold

Both batches are resumable: rerun the same command and finished instances are kept.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from unidiff import PatchSet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from swebench_gold import LITE, summarise  # noqa: E402

from r1agent.scripted import ScriptedEndpoint, ScriptedTurn  # noqa: E402

KEY_CHARS = 300  # of the whitespace-normalised issue: enough to tell the 72 apart


def normalised(text: str) -> str:
    return " ".join(text.split())


def base_file(mirror: Path, commit: str, path: str) -> list[str]:
    shown = subprocess.run(["git", "--git-dir", str(mirror), "show", f"{commit}:{path}"], capture_output=True,
                           text=True, check=True)
    # at newlines only: str.splitlines also splits at form feeds and separators that git does not
    return [line for line in re.split(r"(?<=\n)", shown.stdout) if line]


def _unique_span(lines: list[str], start: int, end: int) -> tuple[int, int]:
    """Grow [start, end) of the base file by neighbouring lines until its text occurs once."""
    def count(a: int, b: int) -> int:
        width, window = b - a, lines[a:b]
        return sum(lines[i:i + width] == window for i in range(len(lines) - width + 1))

    while count(start, end) > 1 and (start > 0 or end < len(lines)):
        start, end = max(0, start - 1), min(len(lines), end + 1)
    return start, end


def _hunk_start(lines: list[str], old: list[str], stated: int) -> int:
    """Where the hunk's old lines sit: patches may carry stale line numbers, which `git apply` forgives by
    searching; so do we, taking the place nearest the stated line."""
    width = len(old)
    places = [i for i in range(len(lines) - width + 1) if lines[i:i + width] == old]
    if not places:
        raise ValueError(f"a hunk's lines are not in the file near line {stated + 1}")
    return min(places, key=lambda i: abs(i - stated))


def gold_answer(patch: str, read: Callable[[str], list[str]]) -> str:
    """The gold patch as the blocks R1 would write: one per hunk, each SEARCH unique in its file."""
    parts = []
    for pf in PatchSet(patch):
        path = pf.path
        if pf.is_added_file:
            body = "".join(line.value for hunk in pf for line in hunk if line.is_added)
            parts.append(f"{path}\n```\n<<<<<<< SEARCH\n=======\n{body}>>>>>>> REPLACE\n```\n")
            continue
        lines = read(path)
        spans = []  # (start, end, replacement lines) over the base file, 0-based, end exclusive
        for hunk in pf:
            old = [line.value for line in hunk if not line.is_added]
            new = [line.value for line in hunk if not line.is_removed]
            start = _hunk_start(lines, old, hunk.source_start - 1 if hunk.source_length else hunk.source_start)
            a, b = _unique_span(lines, start, start + hunk.source_length)
            spans.append((a, b, lines[a:start] + new + lines[start + hunk.source_length:b]))
        merged: list[tuple[int, int, list[str]]] = []
        for a, b, new in spans:  # grown spans may now touch: one block for both, as the format asks
            if merged and a < merged[-1][1]:
                pa, pb, pnew = merged.pop()
                overlap = pb - a
                new = pnew + new[overlap:] if pnew[-overlap:] == new[:overlap] else None
                if new is None:
                    raise ValueError(f"{path}: hunks overlap after widening")
                a, b = pa, max(pb, b)
            merged.append((a, b, new))
        for a, b, new in merged:
            search, replace = "".join(lines[a:b]), "".join(new)
            parts.append(f"{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n")
    return "\n".join(parts) + "\nCommit: Fix the issue (the instance's gold patch)\n"


def responder_for(instances: list[dict], mirrors: Path):
    answers = {}
    for inst in instances:
        mirror = mirrors / f"{inst['repo'].replace('/', '__')}.git"
        key = normalised(inst["problem_statement"])[:KEY_CHARS]
        answers[key] = gold_answer(inst["patch"], lambda p, m=mirror, c=inst["base_commit"]: base_file(m, c, p))
    if len(answers) != len(instances):
        raise SystemExit("two instances share the first characters of their issue; raise KEY_CHARS")

    def respond(messages: list[dict]) -> ScriptedTurn | None:
        said = normalised(" ".join(str(m.get("content") or "") for m in messages if m.get("role") == "user"))
        for key, answer in answers.items():
            if key in said:
                return ScriptedTurn(reasoning="The issue's own fix.", answer=answer)
        return None

    return respond


def run_batch(lines: list[str], out: Path, mirrors: Path, *extra: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run([sys.executable, "-m", "r1agent", "batch", "run", f.name, "--out", str(out), "--evaluate",
                    "--mirrors", str(mirrors), "--timeout", "1800", "--json", *extra],
                   check=False, stdout=subprocess.DEVNULL)


def resolved_ids(out: Path) -> dict[str, dict]:
    records = [json.loads(ln) for ln in (out / "records.jsonl").read_text().splitlines() if ln.strip()]
    return {r["instance_id"]: r for r in records}


def compare(gold_out: Path, agent_out: Path) -> None:
    gold, agent = resolved_ids(gold_out), resolved_ids(agent_out)
    ok = lambda r: bool((r.get("evaluation") or {}).get("resolved"))  # noqa: E731
    both = sorted(set(gold) & set(agent))
    g, a = sum(ok(gold[i]) for i in both), sum(ok(agent[i]) for i in both)
    print(f"\nagent path resolves {a}/{len(both)}, --gold {g}/{len(both)}: ratio {a / max(g, 1):.2f}")
    for i in both:
        if ok(gold[i]) != ok(agent[i]):
            r = agent[i]
            ev = r.get("evaluation") or {}
            why = r.get("error") or ev.get("error") or f"status {r['status']}, stop {r.get('stop_reason')}, " \
                f"{len(ev.get('still_failing') or [])} F2P / {len(ev.get('pass_to_fail') or [])} P2P failing"
            print(f"  {i}: --gold {'resolved' if ok(gold[i]) else 'unresolved'}, agent path "
                  f"{'resolved' if ok(r) else 'unresolved'} ({why[:160]})")
    minutes = [r["duration_s"] / 60 for r in agent.values() if r.get("duration_s")]
    if minutes:
        minutes.sort()
        print(f"minutes per instance on the agent path: median {minutes[len(minutes) // 2]:.1f}, "
              f"max {minutes[-1]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--mirrors", type=Path, required=True)
    ap.add_argument("--gold-out", type=Path, help="a finished `--gold` run of the same instances to compare with")
    ap.add_argument("--ids", default="", help="comma-separated instance ids (default: all 72)")
    ap.add_argument("--workers", type=int, default=1, help="instances at once on the agent path")
    ap.add_argument("--no-gold", action="store_true", help="the agent path alone, without a --gold run to compare")
    args = ap.parse_args()
    mirrors = args.mirrors.expanduser()
    wanted = {i for i in args.ids.split(",") if i}
    lines = [ln for ln in LITE.read_text().splitlines()
             if ln.strip() and (not wanted or json.loads(ln)["instance_id"] in wanted)]
    gold_out = args.gold_out or args.out.with_name(args.out.name + "-gold")
    if args.gold_out is None and not args.no_gold:
        run_batch(lines, gold_out, mirrors, "--gold")
    with ScriptedEndpoint([], responder=responder_for([json.loads(ln) for ln in lines], mirrors)) as endpoint:
        run_batch(lines, args.out, mirrors, "--no-reproduce", "--endpoint", endpoint.base_url,
                  "--workers", str(args.workers))
    if not args.no_gold:
        print("--gold (the agent skipped):")
        summarise(gold_out)
    print("\nthe agent path, the gold patch as R1's answer:")
    summarise(args.out)
    if not args.no_gold:
        compare(gold_out, args.out)


if __name__ == "__main__":
    main()
