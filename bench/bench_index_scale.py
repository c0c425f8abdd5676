"""Indexing a repo of ~20,000 source files, against the engine of an earlier commit in the same run.

    .venv/bin/python bench/bench_index_scale.py [--baseline REF]

The big repo is real code: the .py/.pyi/.c/.h files of this venv's site-packages, of aider's venv
(bench/.cache/aider-venv, when present) and of Python's standard library, copied under neutral folder
names into one git repo in bench/.cache/repos/scale. The same map driver runs this checkout's code and
REF's (default 485b872, the engine before its storage layers were removed: a columnar snapshot file,
memory-mapped, packed strings, block re-parsing, a rendered-map cache), checked out in a worktree under
bench/.cache. Targets: cold index within 2x of REF's, peak memory <= 500 MiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

from bench_repomap import CACHE, HERE, ours

SOURCES = {
    "a": Path(sysconfig.get_paths()["purelib"]),
    "b": next((CACHE / "aider-venv" / "lib").glob("python3*/site-packages"), None),
    "c": Path(sysconfig.get_paths()["stdlib"]),
}
SUFFIXES = {".py", ".pyi", ".c", ".h"}


def make_scale_repo() -> Path:
    repo = CACHE / "repos" / "scale"
    if (repo / ".git").exists():
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo, check=True)
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    for name, src in SOURCES.items():
        if src is None or not src.is_dir():
            continue
        for path in src.rglob("*"):
            # Neutral names: "site-packages" or "venv" in a path would mark it vendored.
            if path.suffix in SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
                dest = repo / name / path.relative_to(src)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], cwd=repo, check=True)
    return repo


def baseline_tree(ref: str) -> Path:
    """A worktree of ``ref`` whose ``r1agent`` package the driver imports instead of this checkout's."""
    tree = CACHE / f"baseline-{ref}"
    if not (tree / "r1agent").is_dir():
        subprocess.run(["git", "worktree", "add", "-f", "--detach", str(tree), ref], cwd=HERE.parent, check=True,
                       capture_output=True)
    return tree


def measure(repo: Path, code: Path | None, budget: int = 1024) -> dict:
    """Cold, warm and one-file-change runs of the driver, importing r1agent from ``code`` (None: this checkout)."""
    env = {**os.environ, "PYTHONPATH": str(code)} if code else None
    cache = CACHE / "r1agent-cache" / f"{repo.name}-scale-{code.name if code else 'head'}"
    shutil.rmtree(cache, ignore_errors=True)
    cold = ours(repo, cache, budget, env=env)
    warm = ours(repo, cache, budget, env=env)
    target = sorted(cold["parsed"])[len(cold["parsed"]) // 2]
    with open(repo / target, "a") as f:
        f.write("\n\ndef bench_scale_added(x):\n    return x\n")
    change = ours(repo, cache, budget, env=env)
    subprocess.run(["git", "checkout", "-q", "--", target], cwd=repo, check=True)
    assert change["parsed"] == [target], change["parsed"]
    return {"parsed": len(cold["parsed"]), "cold": cold, "warm": warm, "change": change}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="485b872", help="the commit whose engine is the baseline")
    args = ap.parse_args()
    repo = make_scale_repo()
    files = len(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.split())
    old = measure(repo, baseline_tree(args.baseline))
    new = measure(repo, None)
    print(f"\n{files:,} files in git, {new['parsed']:,} parsed (the rest skipped with reasons); "
          f"this checkout against {args.baseline}")
    rows = [
        ("cold wall (s)", "cold", "seconds"), ("cold CPU incl. workers (s)", "cold", "cpu"),
        ("warm wall (s)", "warm", "seconds"), ("1-file change wall (s)", "change", "seconds"),
        ("peak RSS cold, main process (MiB)", "cold", "peak_rss_mb"),
        ("peak RSS cold, largest worker (MiB)", "cold", "worker_peak_rss_mb"),
        ("peak RSS warm, main process (MiB)", "warm", "peak_rss_mb"),
    ]
    print(f"  {'':38} {args.baseline:>10} {'now':>10} {'now/base':>9}")
    for label, run, key in rows:
        a, b = old[run][key], new[run][key]
        print(f"  {label:38} {a:10.3f} {b:10.3f} {b / a:8.2f}x")
    print(f"  targets: cold wall within 2x of {args.baseline}'s, peak RSS <= 500 MiB")


if __name__ == "__main__":
    main()
