"""r1agent's repo map against aider's RepoMap, same repos, same run; prints ratios.

    .venv/bin/python bench/bench_repomap.py [--budget 1024] [--warm-runs 15]

Setup (once): aider-chat in its own venv, ``python3 -m venv bench/.cache/aider-venv &&
bench/.cache/aider-venv/bin/pip install aider-chat``. The repos are copies of two installed packages'
source trees made into git repos under bench/.cache/repos: langsmith (~500 files) and openai (~2,000 files).
Each measurement is a fresh process timed from after its imports (see the two driver scripts).
Cold: empty cache to map printed. Warm: unchanged repo, cache kept (median of --warm-runs); r1agent
reprints the map it stored for the same request. One-file change: a function appended to one file
(median of --warm-runs edits), for the median-sized file and the 90th-percentile one (--sizes: the
75th to 95th percentiles too, to show how the cost grows with the edited file's size), and once more
for the median-sized file with a function that calls another file's function (so the def/ref graph
changes and file ranks cannot come from the memo); the edited file must be the only one re-parsed.
For scale, the change is also compared with a warm run that ranks and renders again (the stored map
not used, as for a new issue text on an unchanged repo).
Runs of a few milliseconds are noisy on a shared VM: a median of 9 still moves the change/warm ratio of
the small repo by about 0.2, so the default takes 15 of each.
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
SIZE_PERCENTILES = (75, 80, 85, 90, 95)  # edited files' sizes with --sizes (else only the 90th)


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


def run_json(cmd: list[str]) -> dict:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{cmd[1]} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def aider(repo: Path, budget: int) -> dict:
    return run_json([str(AIDER_PY), str(HERE / "aider_repomap_driver.py"), str(repo), str(budget)])


def ours(repo: Path, cache: Path, budget: int, *extra: str) -> dict:
    return run_json([sys.executable, str(HERE / "r1agent_map_driver.py"), str(repo), str(cache), str(budget), *extra])


def bench(label: str, repo: Path, budget: int, warm_runs: int, percentiles: tuple[int, ...]) -> None:
    files = len(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.split())
    cache = CACHE / "r1agent-cache" / repo.name
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(repo / ".aider.tags.cache.v4", ignore_errors=True)

    a_cold = aider(repo, budget)
    a_warm_runs = [aider(repo, budget) for _ in range(warm_runs)]
    o_cold = ours(repo, cache, budget)
    o_warm_runs = [ours(repo, cache, budget) for _ in range(warm_runs)]
    assert all(r["parsed"] == [] for r in o_warm_runs), "a warm run re-parsed files"

    o_rerank_runs = [ours(repo, cache, budget, "--rerank") for _ in range(warm_runs)]

    targets = change_targets(repo, cache, o_cold["parsed"], percentiles)
    o_change_runs = {what: change_runs(repo, cache, budget, warm_runs, target, call)
                     for what, (target, call) in targets.items()}
    print(f"\n{label}: {files} files, budget {budget} tokens; times are wall (CPU incl. parse workers)")
    for key in ("seconds", "cpu"):
        a_w, o_w = med(a_warm_runs, key), med(o_warm_runs, key)
        what = "wall" if key == "seconds" else "CPU "
        print(f"  {what} cold   aider {a_cold[key]:7.2f}s  r1agent {o_cold[key]:6.2f}s  "
              f"{a_cold[key] / o_cold[key]:6.1f}x faster  (target >= 5x)")
        print(f"  {what} warm   aider {a_w:7.2f}s  r1agent {o_w:6.3f}s  {a_w / o_w:6.1f}x faster  (target >= 20x)")
        for change, runs in o_change_runs.items():
            paired_warm = med([r["warm"] for r in runs], key)
            print(f"  {what} 1-file change, {change}: r1agent {med(runs, key):.3f}s = "
                  f"{med(runs, key) / paired_warm:.2f}x its warm time ({paired_warm:.3f}s, timed between the "
                  f"edits; target <= 2x); "
                  f"{med(runs, key) / med(o_rerank_runs, key):.2f}x a warm run that re-ranks "
                  f"({med(o_rerank_runs, key):.3f}s); {a_w / med(runs, key):.1f}x faster than aider warm")
    for change, runs in o_change_runs.items():
        print(f"  re-parsed after each change ({change}): {runs[0]['parsed']}")
    median_file = next(iter(targets.values()))[0]
    command_warm, command_change = whole_command(repo, budget, warm_runs, median_file)
    print(f"  whole `r1agent map` command, start to exit (imports included): warm {command_warm:.3f}s, "
          f"after a change of the median-sized file {command_change:.3f}s = {command_change / command_warm:.2f}x")
    print(f"  peak RSS cold: aider {a_cold['peak_rss_mb']:.0f} MiB; r1agent main {o_cold['peak_rss_mb']:.0f} MiB, "
          f"largest parse worker {o_cold['worker_peak_rss_mb']:.0f} MiB")
    print(f"  map size: aider {a_cold['chars']} chars, r1agent {o_cold['chars']} chars ({o_cold['tokens']} est. tokens)")


def change_targets(
    repo: Path, cache: Path, parsed: list[str], percentiles: tuple[int, ...],
) -> dict[str, tuple[str, str]]:
    """The edits of the change runs, as (file, function it calls or ""): the median-sized parsed file
    (a typical edit), once more with a call added, and the files at ``percentiles`` by size on disk."""
    by_size = sorted(parsed, key=lambda p: ((repo / p).stat().st_size, p))

    def at(pct: int) -> tuple[str, str]:
        path = by_size[len(by_size) * pct // 100]
        return path, f"{(repo / path).stat().st_size / 1024:.0f} KiB"

    median, size = at(50)
    targets = {f"median-sized ({size})": (median, ""),
               f"median-sized ({size}), a call added": (median, called_function(repo, cache, median))}
    for pct in percentiles:
        path, size = at(pct)
        targets[f"{pct}th-percentile-sized ({size})"] = (path, "")
    return targets


_CALLED = """
import sys
from pathlib import Path
from r1agent.settings import Settings
from r1agent.tools.index import load_snapshot
repo, cache, target = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
records = load_snapshot(repo, Settings(cache_dir=cache)).records
print(next(d.name for path, r in records.items() if path != target for d in r.definitions
           if d.kind == "function" and not d.name.startswith("_") and d.name not in records[target].references))
"""


def called_function(repo: Path, cache: Path, target: str) -> str:
    """A public function another file defines and ``target`` does not use: calling it adds an edge.
    Asked of a child process, so this one stays small (see _package_dir)."""
    return subprocess.run([sys.executable, "-c", _CALLED, str(repo), str(cache), target],
                          capture_output=True, text=True, check=True).stdout.strip()


def change_runs(repo: Path, cache: Path, budget: int, warm_runs: int, target: str, call: str) -> list[dict]:
    """Each run follows a new edit of ``target`` (a function appended, calling ``call`` if given); only it
    may be re-parsed. Before each edit a warm run is timed too (kept under "warm"), so each change
    is compared with warm runs of the same minutes: this machine's speed drifts between minutes."""
    runs = []
    for k in range(warm_runs):
        warm = ours(repo, cache, budget)
        assert warm["parsed"] == [], warm["parsed"]
        with open(repo / target, "a") as f:
            f.write(f"\n\ndef bench_added_function_{k}(x):\n    return {call + '(x)' if call else 'x'}\n")
        runs.append({**ours(repo, cache, budget), "warm": warm})
    subprocess.run(["git", "checkout", "-q", "--", target], cwd=repo, check=True)
    ours(repo, cache, budget)  # back to the committed state for the next measurement
    assert all(r["parsed"] == [target] for r in runs), [r["parsed"] for r in runs]
    return runs


def whole_command(repo: Path, budget: int, warm_runs: int, target: str) -> tuple[float, float]:
    """Median wall time of the CLI itself, as a user runs it: warm, then after each edit of ``target``."""
    env = {**os.environ, "R1AGENT_CACHE_DIR": str(CACHE / "r1agent-cache" / f"{repo.name}-cli")}
    cmd = [str(Path(sys.executable).with_name("r1agent")), "map", "--budget", str(budget)]

    def timed() -> float:
        start = time.perf_counter()
        subprocess.run(cmd, cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    timed()  # cold
    warm = statistics.median(timed() for _ in range(warm_runs))
    changed = []
    for k in range(warm_runs):
        with open(repo / target, "a") as f:
            f.write(f"\n\ndef bench_cli_function_{k}(x):\n    return x\n")
        changed.append(timed())
    subprocess.run(["git", "checkout", "-q", "--", target], cwd=repo, check=True)
    return warm, statistics.median(changed)


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=1024)
    ap.add_argument("--warm-runs", type=int, default=15)
    ap.add_argument("--only", choices=["small", "large"], help="run one repo")
    ap.add_argument("--sizes", action="store_true",
                    help=f"time changes of files at the {SIZE_PERCENTILES} size percentiles too")
    args = ap.parse_args()
    if not AIDER_PY.exists():
        sys.exit(f"aider's venv is missing: python3 -m venv {CACHE / 'aider-venv'} && "
                 f"{CACHE / 'aider-venv/bin/pip'} install aider-chat")
    items = list(REPOS.items())
    if args.only:
        items = items[:1] if args.only == "small" else items[1:]
    for label, src in items:
        bench(label, make_repo(src, src.name), args.budget, args.warm_runs, SIZE_PERCENTILES if args.sizes else (90,))


if __name__ == "__main__":
    main()
