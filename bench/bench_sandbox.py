"""Sandbox speed, each number a ratio against a baseline measured in the same run.

1. Container ready with a 1,000-file repo copied in, vs `docker run` of the bare image.
2. Per-exec overhead, vs the same trivial command on the host (target: under 100 ms).
3. Four candidates (run the tests) in parallel, vs the same four in sequence.

Run: .venv/bin/python bench/bench_sandbox.py   (needs a Docker engine; builds images on first use)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from r1agent.sandbox.docker_backend import DockerBackend
from r1agent.sandbox.pool import run_parallel
from r1agent.settings import Settings

REPEAT = 5


def _median(fn, n: int = REPEAT) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _make_repo(root: Path, n_files: int) -> Path:
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for i in range(n_files):
        pkg = root / f"pkg{i // 100}"
        pkg.mkdir(exist_ok=True)
        (pkg / f"mod{i}.py").write_text(f"def f{i}(x):\n    return x + {i}\n" * 5)
    (root / "tests").mkdir()
    (root / "tests" / "test_some.py").write_text(
        "import time\n\n" + "".join(f"def test_{i}():\n    time.sleep(0.05)\n\n" for i in range(20))
    )
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "x"], check=True)
    return root


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        repo = _make_repo(Path(tmp) / "bigrepo", 1000)
        backend = DockerBackend(Settings(), repo)
        image = backend.ensure_image()
        client = backend.client

        def bare_run() -> None:  # `docker run --rm IMAGE true`, step by step
            container = client.containers.create(image, ["true"], network_mode="none")
            container.start()
            container.wait()
            container.remove(force=True)

        bare = _median(bare_run)

        def ready() -> None:
            with backend.create("bench-ready") as sb:
                assert sb.read_file("pkg0/mod0.py")

        backend.snapshot()  # taken once per backend, as in a run with several candidates
        with_repo = _median(ready)
        print(f"container ready with 1,000-file repo: {with_repo * 1000:7.0f} ms   "
              f"bare `docker run true`: {bare * 1000:7.0f} ms   ratio {with_repo / bare:5.2f}x")

        host = _median(lambda: subprocess.run(["true"], check=True), 20)
        with backend.create("bench-exec") as sb:
            sb.exec(["true"])
            in_box = _median(lambda: sb.exec(["true"]), 20)
            plain = _median(lambda: sb.container.exec_run(["true"]), 20)  # the engine's own floor
        overhead = in_box - host
        verdict = "meets" if overhead < 0.1 else "misses"
        print(f"exec `true`: sandbox {in_box * 1000:6.1f} ms   host {host * 1000:6.1f} ms   "
              f"overhead {overhead * 1000:6.1f} ms ({verdict} the 100 ms target)   ratio {in_box / host:5.1f}x")
        print(f"  of which the engine's plain exec_run costs {plain * 1000:6.1f} ms "
              f"(sandbox / plain exec_run: {in_box / plain:4.2f}x)")

        def candidate(_: int) -> None:
            with backend.create("bench-par") as sb:
                assert sb.run_tests().summary["passed"] == 20

        t = time.perf_counter()
        for i in range(4):
            candidate(i)
        sequential = time.perf_counter() - t
        t = time.perf_counter()
        run_parallel(candidate, range(4), max_workers=4)
        parallel = time.perf_counter() - t
        print(f"4 candidates: parallel {parallel:6.2f} s   sequential {sequential:6.2f} s   "
              f"speed-up {sequential / parallel:4.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
