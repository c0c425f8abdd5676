"""r1agent's repo map and context pack against aider's RepoMap, same repos, same run; prints ratios.

    .venv/bin/python bench/bench_repomap.py [--budget 1024] [--runs 7] [--only small|large]

Setup (once): aider-chat in its own venv, ``python3 -m venv bench/.cache/aider-venv &&
bench/.cache/aider-venv/bin/pip install aider-chat``. The repos are copies of two installed packages'
source trees made into git repos under bench/.cache/repos: langsmith (~500 files) and openai (~2,000 files).
What a user waits for, each in a fresh process (medians of --runs):
- cold: empty cache to map printed, timed after imports on both sides (the drivers); target >= 5x aider;
- warm: the whole ``r1agent map`` and ``r1agent context`` commands, start to exit, on an unchanged repo
  (target <= 0.5 s each), against aider's warm RepoMap timed after its imports;
- one-file edit: the whole ``r1agent map`` after a function is appended to the median-sized file
  (target <= 0.8 s); that file, and only it, is parsed again.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
AIDER_PY = CACHE / "aider-venv" / "bin" / "python"
R1AGENT = Path(sys.executable).with_name("r1agent")
ISSUE = ("Retrying a request after a timeout ignores `max_retries`: the client keeps calling `_retry_request` "
         "and the `Timeout` error never reaches the caller.\n")


def _package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it: this process stays small, as Linux
    hands a parent's peak RSS down to its children (ru_maxrss survives fork and exec), and the drivers
    report theirs."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin, f"{name} is not installed"
    return Path(spec.origin).parent


REPOS = {"langsmith (~500 files)": _package_dir("langsmith"), "openai (~2,000 files)": _package_dir("openai")}


def make_repo(src: Path, name: str) -> Path:
    repo = CACHE / "repos" / name
    if not (repo / ".git").exists():
        shutil.rmtree(repo, ignore_errors=True)
        shutil.copytree(src, repo, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
        subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
        subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "snapshot"], cwd=repo, check=True)
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo, check=True)
    return repo


def run_json(cmd: list[str], env: dict | None = None) -> dict:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{cmd[1]} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def aider(repo: Path, budget: int) -> dict:
    return run_json([str(AIDER_PY), str(HERE / "aider_repomap_driver.py"), str(repo), str(budget)])


def ours(repo: Path, cache: Path, budget: int, python: str = sys.executable, env: dict | None = None) -> dict:
    """The map driver: timings after imports, what was parsed, peak memory."""
    return run_json([python, str(HERE / "r1agent_map_driver.py"), str(repo), str(cache), str(budget)], env)


def command_seconds(args: list[str], repo: Path, cache: Path) -> float:
    """Wall time of an ``r1agent`` command as a user runs it, start to exit."""
    env = {**os.environ, "R1AGENT_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    subprocess.run([str(R1AGENT), *args], cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench(label: str, repo: Path, budget: int, runs: int) -> None:
    files = len(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.split())
    cache = CACHE / "r1agent-cache" / repo.name
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(repo / ".aider.tags.cache.v4", ignore_errors=True)
    issue = CACHE / "issue.md"
    issue.write_text(ISSUE, encoding="utf-8")

    a_cold = aider(repo, budget)
    a_warm = statistics.median(aider(repo, budget)["seconds"] for _ in range(runs))
    o_cold = ours(repo, cache, budget)
    map_cmd = ["map", "--budget", str(budget)]
    warm_map = statistics.median(command_seconds(map_cmd, repo, cache) for _ in range(runs))
    warm_context = statistics.median(command_seconds(["context", "--issue-file", str(issue)], repo, cache)
                                     for _ in range(runs))
    by_size = sorted(o_cold["parsed"], key=lambda p: ((repo / p).stat().st_size, p))
    target = by_size[len(by_size) // 2]
    edits = []
    for k in range(runs):
        with open(repo / target, "a") as f:
            f.write(f"\n\ndef bench_added_function_{k}(x):\n    return x\n")
        edits.append(command_seconds(map_cmd, repo, cache))
        assert ours(repo, cache, budget)["parsed"] == [], "the edit was not indexed by the command"
    with open(repo / target, "a") as f:
        f.write("\n\ndef bench_added_function_last(x):\n    return x\n")
    parsed = ours(repo, cache, budget)["parsed"]
    subprocess.run(["git", "checkout", "-q", "--", target], cwd=repo, check=True)
    edit = statistics.median(edits)

    print(f"\n{label}: {files} files, budget {budget} tokens")
    print(f"  cold index + map    aider {a_cold['seconds']:6.2f}s  r1agent {o_cold['seconds']:6.2f}s  "
          f"{a_cold['seconds'] / o_cold['seconds']:5.1f}x faster (target >= 5x)")
    print(f"  warm `r1agent map`      {warm_map:.3f}s whole command (target <= 0.5 s); "
          f"{a_warm / warm_map:.1f}x faster than aider's warm RepoMap ({a_warm:.3f}s after its imports)")
    print(f"  warm `r1agent context`  {warm_context:.3f}s whole command (target <= 0.5 s); "
          f"{a_warm / warm_context:.1f}x faster than aider's warm RepoMap")
    print(f"  `r1agent map` after a one-file edit ({(repo / target).stat().st_size / 1024:.0f} KiB file): "
          f"{edit:.3f}s (target <= 0.8 s) = {edit / warm_map:.2f}x warm; re-parsed {parsed}")
    print(f"  peak RSS cold: aider {a_cold['peak_rss_mb']:.0f} MiB; r1agent {o_cold['peak_rss_mb']:.0f} MiB, "
          f"largest parse worker {o_cold['worker_peak_rss_mb']:.0f} MiB")
    print(f"  map size: aider {a_cold['chars']} chars, r1agent {o_cold['chars']} chars ({o_cold['tokens']} est. tokens)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--only", choices=["small", "large"], help="run one repo")
    args = ap.parse_args()
    if not AIDER_PY.exists():
        sys.exit(f"aider's venv is missing: python3 -m venv {CACHE / 'aider-venv'} && "
                 f"{CACHE / 'aider-venv/bin/pip'} install aider-chat")
    items = list(REPOS.items())
    if args.only:
        items = items[:1] if args.only == "small" else items[1:]
    for label, src in items:
        bench(label, make_repo(src, src.name), args.budget, args.runs)


if __name__ == "__main__":
    main()
