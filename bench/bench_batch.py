"""Batch throughput: instances per hour with 1 local worker (the baseline), with N local workers,
and with 2 Ray worker nodes on loopback, each as a speed-up against 1 worker, with the scaling
efficiency (speed-up / workers). The scripted R1 endpoint stands in for the model, with a per-token
delay so that each answer takes seconds, as R1's do; the sandbox is the real Docker engine.

    .venv/bin/python bench/bench_batch.py [--instances 6] [--workers 2] [--token-delay 0.05] [--no-ray]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from r1agent.scripted import ScriptedEndpoint, ScriptedTurn

ROOT = Path(__file__).resolve().parent.parent
RAY_CLUSTER = ROOT / "tests" / "batch" / "ray_cluster.py"
SRC = 'def shout(s):\n    return s.lower() + "!"\n'
TESTS = 'from text import shout\n\n\ndef test_shout():\n    assert shout("hi") == "HI!"\n'
PYPROJECT = '[project]\nname = "text"\nversion = "0.1.0"\n\n[tool.pytest.ini_options]\npythonpath = ["."]\n'
FIX = ('text.py\n```python\n<<<<<<< SEARCH\n    return s.lower() + "!"\n=======\n    return s.upper() + "!"\n'
       '>>>>>>> REPLACE\n```\n\nCommit: Shout in upper case\n')
SETTINGS = ["--set", "budget.candidates=1", "--set", "budget.rounds=1"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


def make_world(root: Path, count: int) -> tuple[Path, Path]:
    """``count`` instances of one small repo (as SWE-bench has many per repo), served from a bare mirror."""
    mirrors = root / "mirrors"
    mirrors.mkdir(parents=True)
    repo = root / "src" / "text"
    (repo / "tests").mkdir(parents=True)
    for rel, text in {"pyproject.toml": PYPROJECT, "text.py": SRC, "tests/test_text.py": TESTS}.items():
        (repo / rel).write_text(text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "text helpers")
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(mirrors / "acme__text.git")], check=True)
    rows = [{"instance_id": f"acme__text-{i}", "repo": "acme/text", "base_commit": sha,
             "problem_statement": f"ISSUE-SHOUT {i}: shout('hi') gives 'hi!'; it should shout."} for i in range(count)]
    instances = root / "instances.jsonl"
    instances.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return instances, mirrors


def run_batch(instances: Path, mirrors: Path, out: Path, endpoint: str, extra: list[str], env: dict) -> float:
    cmd = [sys.executable, "-m", "r1agent", *SETTINGS, "batch", str(instances), "--out", str(out), "--mirrors",
           str(mirrors), "--endpoint", endpoint, "--no-reproduce", "--json", *extra]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"batch failed ({' '.join(extra)}): {result.stderr[-2000:]}")
    summary = json.loads(result.stdout)
    if summary["verified"] != summary["total"]:
        sys.exit(f"not every instance was verified ({' '.join(extra)}): {summary}")
    return wall


class RayCluster:
    """The tests' two-node loopback cluster (head + one worker node, 1 CPU each)."""

    def __enter__(self) -> RayCluster:
        self.tmp = tempfile.mkdtemp(prefix="r1ray", dir="/tmp")
        self.env = dict(os.environ, RAY_TMPDIR=self.tmp, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
        self.proc = subprocess.Popen([sys.executable, str(RAY_CLUSTER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=self.env)
        line = self.proc.stdout.readline()
        if not line.startswith("ADDRESS "):
            sys.exit(f"the Ray cluster did not start: {line!r}")
        self.address = line.split()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=120)
        shutil.rmtree(self.tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--token-delay", type=float, default=0.05, help="seconds per streamed token")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    env = dict(os.environ)
    try:
        instances, mirrors = make_world(root, args.instances)
        turn = ScriptedTurn(reasoning="shout() lowercases instead of uppercasing. " * 8, answer=FIX, match="ISSUE-SHOUT")
        with ScriptedEndpoint([turn], token_delay=args.token_delay) as ep:
            warm = root / "warm.jsonl"
            warm.write_text(instances.read_text().splitlines()[0] + "\n")
            run_batch(warm, mirrors, root / "out-warm", ep.base_url, [], env)  # images built, caches warm
            rows = [("1 local worker", 1, run_batch(instances, mirrors, root / "out-1", ep.base_url, [], env))]
            n = args.workers
            rows.append((f"{n} local workers", n, run_batch(instances, mirrors, root / f"out-{n}", ep.base_url,
                                                            ["--workers", str(n)], env)))
            if not args.no_ray:
                with RayCluster() as cluster:
                    rows.append(("2 Ray workers (loopback)", 2, run_batch(instances, mirrors, root / "out-ray", ep.base_url,
                                                                          ["--ray", cluster.address], cluster.env)))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base = rows[0][2]
    print(f"{args.instances} instances, scripted R1 at {args.token_delay:g} s/token, {os.cpu_count()} CPU cores")
    print(f"{'configuration':<28}{'wall s':>8}{'inst/hour':>11}{'speed-up':>10}{'efficiency':>12}")
    for name, workers, wall in rows:
        speedup = base / wall
        print(f"{name:<28}{wall:>8.1f}{args.instances / wall * 3600:>11.0f}{speedup:>9.2f}x{speedup / workers:>11.0%}")


if __name__ == "__main__":
    main()
