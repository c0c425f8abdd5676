"""Indexing a repo of ~20,000 source files: it finishes, and memory stays bounded; prints ratios.

    .venv/bin/python bench/bench_index_scale.py

The big repo is real code: the .py/.pyi/.c/.h files of this venv's site-packages, of aider's venv
(bench/.cache/aider-venv, when present) and of Python's standard library, copied under neutral folder
names into one git repo in bench/.cache/repos/scale. The baseline is the ~2,000-file openai repo of
bench_repomap.py, built in the same run by the same driver: the ratios say how time and peak memory
grow against the number of files (time should grow about linearly, memory far less than that).
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

from bench_repomap import CACHE, REPOS, make_repo, ours

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


def measure(repo: Path, budget: int = 1024) -> dict:
    cache = CACHE / "r1agent-cache" / f"{repo.name}-scale"
    shutil.rmtree(cache, ignore_errors=True)
    files = len(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.split())
    cold = ours(repo, cache, budget)
    warm = ours(repo, cache, budget)
    target = sorted(cold["parsed"])[len(cold["parsed"]) // 2]
    with open(repo / target, "a") as f:
        f.write("\n\ndef bench_scale_added(x):\n    return x\n")
    change = ours(repo, cache, budget)
    subprocess.run(["git", "checkout", "-q", "--", target], cwd=repo, check=True)
    assert change["parsed"] == [target], change["parsed"]
    size = sum((repo / p).stat().st_size for p in cold["parsed"]) / 2**20
    return {"files": files, "parsed": len(cold["parsed"]), "mib": size, "cold": cold, "warm": warm, "change": change}


def main() -> None:
    base_label, base_src = list(REPOS.items())[-1]
    base = measure(make_repo(base_src, base_src.name))
    big = measure(make_scale_repo())
    print(f"\nbaseline: {base_label}; big: {big['files']:,} files in git, {big['parsed']:,} parsed "
          f"(the rest skipped with reasons)")
    grow = big["parsed"] / base["parsed"]
    rows = [
        ("cold wall (s)", base["cold"]["seconds"], big["cold"]["seconds"]),
        ("cold CPU incl. workers (s)", base["cold"]["cpu"], big["cold"]["cpu"]),
        ("warm wall (s)", base["warm"]["seconds"], big["warm"]["seconds"]),
        ("1-file change wall (s)", base["change"]["seconds"], big["change"]["seconds"]),
        ("peak RSS, main process (MiB)", base["cold"]["peak_rss_mb"], big["cold"]["peak_rss_mb"]),
        ("peak RSS, largest parse worker (MiB)", base["cold"]["worker_peak_rss_mb"], big["cold"]["worker_peak_rss_mb"]),
    ]
    print(f"  {'':38} {'baseline':>10} {'big':>10} {'big/baseline':>13}   (files x{grow:.1f})")
    for label, a, b in rows:
        print(f"  {label:38} {a:10.3f} {b:10.3f} {b / a:12.1f}x")
    print(f"  source parsed: {base['mib']:.0f} MiB baseline, {big['mib']:.0f} MiB big (x{big['mib'] / base['mib']:.1f}); "
          f"cold CPU per MiB: {base['cold']['cpu'] / base['mib']:.2f}s baseline, {big['cold']['cpu'] / big['mib']:.2f}s big")


if __name__ == "__main__":
    main()
