"""The pre-commit retry: `r1agent refactor --staged` on unchanged staged content, cold versus answered from cache.

Prints both wall times (the CLI as pre-commit starts it, a subprocess) and the speed-up ratio, measured in the
same run against a scripted R1 endpoint. `--backend local` skips Docker. Needs the sandbox image (built on first use).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from r1agent.scripted import ScriptedEndpoint, ScriptedTurn

R1AGENT = Path(sys.executable).parent / "r1agent"
CODE = "def total(prices):\n    result = 0\n    for p in prices:\n        result = result + p\n    return result\n"
TESTS = "from calc import total\n\n\ndef test_total():\n    assert total([1, 2, 3]) == 6\n"
ANSWER = """Suggestion: Use the built-in sum
calc.py
```python
<<<<<<< SEARCH
    result = 0
    for p in prices:
        result = result + p
    return result
=======
    return sum(prices)
>>>>>>> REPLACE
```
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args], cwd=repo,
                   check=True, capture_output=True)


def timed_run(repo: Path, env: dict[str, str], backend: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([str(R1AGENT), "--set", f"sandbox.backend={backend}", "refactor", "--staged"], cwd=repo,
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"r1agent refactor failed: {done.stderr.strip()[-500:]}")
    return elapsed, (done.stdout or done.stderr).strip().splitlines()[-1 if not done.stdout else 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("docker", "local"), default="docker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-refactor-") as tmp:
        repo = Path(tmp) / "benchshop"
        repo.mkdir()
        git(repo, "init", "-q")
        (repo / "calc.py").write_text(CODE)
        (repo / "test_calc.py").write_text(TESTS)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "initial")
        (repo / "calc.py").write_text(CODE + "\n\ndef count(prices):\n    return len(prices)\n")
        git(repo, "add", "calc.py")
        env = {**os.environ, "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        turn = ScriptedTurn(reasoning="sum() says it.", answer=ANSWER)
        with ScriptedEndpoint([turn, turn]) as r1:  # the warm-up and the cold run each take one
            env["R1AGENT_ENDPOINT__BASE_URL"] = r1.base_url
            timed_run(repo, {**env, "XDG_CACHE_HOME": str(Path(tmp) / "warmup")}, args.backend)  # builds images
            cold, cold_line = timed_run(repo, env, args.backend)
            warm, warm_line = timed_run(repo, env, args.backend)
            requests = len(r1.requests)
    if "cached" not in warm_line or "verified" not in cold_line:
        sys.exit(f"unexpected output: {cold_line!r} / {warm_line!r}")
    print(f"cold run:   {cold:6.2f}s  {cold_line}")
    print(f"cached run: {warm:6.2f}s  {warm_line}")
    print(f"model requests over both runs: {requests - 1}")  # minus the warm-up's one
    print(f"ratio cold/cached: {cold / warm:.1f}x")


if __name__ == "__main__":
    main()
