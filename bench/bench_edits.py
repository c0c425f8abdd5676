"""Apply the edit fixture corpus: share applied correctly, share refused for the right reason, time per answer.

Time is reported as a ratio against a baseline measured in the same run: a plain ``str.replace`` of the
same blocks (parsed by our parser, then what a naive harness does), also scored for correctness as a peer.
Run: .venv/bin/python bench/bench_edits.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tools"))

from edits_corpus import Case, build_repo, load_cases  # noqa: E402

from r1agent.tools.edits import apply_answer, parse_answer  # noqa: E402


def naive_apply(answer: str, root: Path) -> dict[str, str] | None:
    """The baseline: each block as one str.replace on the file text; None when a SEARCH is absent."""
    files: dict[str, str] = {}
    for block in parse_answer(answer).blocks:
        path = root / block.path
        if block.path not in files:
            try:
                files[block.path] = path.read_text(encoding="utf-8") if path.exists() else ""
            except (OSError, UnicodeDecodeError):
                return None
        text = files[block.path]
        if block.search and block.search not in text:
            return None
        files[block.path] = text.replace(block.search, block.replace, 1) if block.search else text + block.replace
    return files


def correct(case: Case, root: Path) -> bool:
    result = apply_answer(case.answer, root)
    if case.expect == "ok":
        return result.ok and result.files == case.results
    if case.expect == "already":
        return not result.ok and not result.failed
    return not result.ok and any(o.reason == case.reason and (case.block is None or o.index == case.block)
                                 for o in result.failed)


def naive_correct(case: Case, root: Path) -> bool:
    files = naive_apply(case.answer, root)
    if case.expect == "ok":
        return files is not None and {k: v for k, v in files.items() if k in case.results} == case.results
    return files is None  # a naive apply "refuses" only by not finding a SEARCH


def per_answer_seconds(fn, cases: list[tuple[Case, Path]], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for case, root in cases:
            fn(case.answer, root)
        samples.append((time.perf_counter() - start) / len(cases))
    return statistics.median(samples)


def large_file_seconds(tmp: Path, rounds: int) -> tuple[float, float]:
    """Per-answer time on a 5,000-line file (an exact, a typo'd and an unmatched SEARCH), ours and baseline."""
    root = tmp / "large"
    root.mkdir()
    lines = [f"    value_{i} = compute({i * 7 % 1000}, {i * 0.37:.2f})" for i in range(5000)]
    (root / "big.py").write_text("def f():\n" + "".join(x + "\n" for x in lines), encoding="utf-8")
    searches = [lines[2500:2506], [x.replace("compute", "compte", 1) if k == 2 else x
                                   for k, x in enumerate(lines[4000:4008])], ["    absent = 1", "    missing = 2"]]
    answers = ["big.py\n<<<<<<< SEARCH\n" + "".join(x + "\n" for x in s) + "=======\n    pass\n>>>>>>> REPLACE\n"
               for s in searches]
    cases = [(Case("large", "", "ok", None, None, a), root) for a in answers]
    return (per_answer_seconds(lambda a, r: apply_answer(a, r), cases, rounds),
            per_answer_seconds(naive_apply, cases, rounds))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    cases = load_cases()
    with tempfile.TemporaryDirectory() as tmp:
        outside = Path(tmp) / "outside"
        outside.mkdir()
        built = [(c, build_repo(c, Path(tmp) / c.name, outside)) for c in cases]
        well_formed = [(c, r) for c, r in built if c.expect in ("ok", "already")]
        refusals = [(c, r) for c, r in built if c.expect == "failed"]
        ok_cases = [(c, r) for c, r in built if c.expect == "ok"]
        applied = sum(correct(c, r) for c, r in well_formed)
        refused = sum(correct(c, r) for c, r in refusals)
        naive_applied = sum(naive_correct(c, r) for c, r in ok_cases)
        ours_on_ok = sum(correct(c, r) for c, r in ok_cases)
        ours = per_answer_seconds(lambda a, r: apply_answer(a, r), built, args.rounds)
        naive = per_answer_seconds(naive_apply, built, args.rounds)
        big_ours, big_naive = large_file_seconds(Path(tmp), max(1, args.rounds // 5))
    print(f"corpus: {len(cases)} answers ({len(well_formed)} to apply, {len(refusals)} to refuse)")
    print(f"applied correctly:             {applied}/{len(well_formed)} = {applied / len(well_formed):.3f}")
    print(f"refused with the right reason: {refused}/{len(refusals)} = {refused / len(refusals):.3f}")
    print(f"baseline str.replace applied correctly: {naive_applied}/{len(ok_cases)} = "
          f"{naive_applied / len(ok_cases):.3f} (ours on the same answers: {ours_on_ok}/{len(ok_cases)})")
    print(f"time per answer: {ours * 1e3:.2f} ms vs baseline {naive * 1e3:.3f} ms -> ratio {ours / naive:.1f}x")
    print(f"5,000-line file: {big_ours * 1e3:.1f} ms per answer vs baseline {big_naive * 1e3:.2f} ms "
          f"-> ratio {big_ours / big_naive:.0f}x (syntax check and fuzzy search included)")


if __name__ == "__main__":
    main()
