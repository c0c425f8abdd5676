"""Harness overhead of one fix round: everything except model time, against the time of the
test runs alone, measured in the same run.

A ~300-file repo with a ~30 s test suite and a bug; the scripted endpoint answers instantly
with the fix, so the wall time of the run is harness + tests. The ratio printed is
(run wall time - model time) / (time inside the sandbox test runs): 1.0 would mean the harness
adds nothing beyond the tests themselves.

    .venv/bin/python bench/bench_agent.py [--files 300] [--suite-seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "agent"))
from agent_world import GOOD, repo_files, turn  # noqa: E402 - the e2e tests' buggy repo and answers

from r1agent.agent.records import read_records  # noqa: E402
from r1agent.scripted import ScriptedEndpoint  # noqa: E402


def make_repo(root: Path, files: int, suite_seconds: float) -> Path:
    repo = root / "stats"
    layout = repo_files(filler=max(0, files - 4))
    per_test = suite_seconds / 30
    for i in range(30):
        layout[f"tests/test_busy_{i}.py"] = f"import time\n\n\ndef test_busy_{i}():\n    time.sleep({per_test:.3f})\n"
    for rel, text in layout.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "bench repo"], cwd=repo, check=True)
    return repo


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--suite-seconds", type=float, default=30.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="r1agent-bench-") as tmp:
        root = Path(tmp)
        repo = make_repo(root, args.files, args.suite_seconds)
        state = root / "state"
        with ScriptedEndpoint([turn(GOOD)]) as ep:
            env = {**os.environ, "R1AGENT_ENDPOINT__BASE_URL": ep.base_url, "R1AGENT_STATE_DIR": str(state)}
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "r1agent", "-C", str(repo), "fix", "mean() is wrong", "--json",
                 "--test", "tests/test_core.py::test_mean", "--candidates", "1", "--no-apply"],
                env=env, capture_output=True, text=True,
            )
            wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"fix failed ({done.returncode}): {done.stderr[-2000:]}")
        summary = json.loads(done.stdout)
        records = read_records(state, summary["run_id"])
        model_s = sum(r["usage"]["duration_s"] for r in records if r["kind"] == "model_call")
        tests_s = sum(r.get("duration_s", 0.0) for r in records if r["kind"] == "baseline")
        tests_s += sum(r.get("test_seconds", 0.0) for r in records if r["kind"] == "candidate")
        phases = [(r["t"], r["name"]) for r in records if r.get("type") == "Phase"]
        first = records[0]["t"]
    print("phase timeline (s from the run's first record):")
    for t, name in phases:
        print(f"  {t - first:7.2f}  {name}")
    harness = wall - model_s - tests_s
    print(f"repo: {args.files} files, suite ~{args.suite_seconds:.0f}s; one round, one candidate")
    print(f"wall {wall:.1f}s = model {model_s:.2f}s + test runs {tests_s:.1f}s + harness {harness:.1f}s")
    print(f"ratio (wall - model) / test runs: {(wall - model_s) / tests_s:.2f}x  "
          f"(harness adds {harness / tests_s:.0%} on top of the tests)")


if __name__ == "__main__":
    main()
