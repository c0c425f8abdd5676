"""Build r1agent's repo map in a fresh process and print JSON timings (used by bench_repomap.py).

The clock starts after imports, as in aider_repomap_driver.py, so both sides time the same work:
list files, bring the cache up to date, rank, and render the map.
"""

import json
import resource
import sys
import time
from pathlib import Path

from r1agent.settings import Settings
from r1agent.tools import repomap
from r1agent.tools.index import load_snapshot, update_index


def cpu_seconds():
    """CPU time of this process and its finished children (parse workers): fair under a loaded machine."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


root, cache, budget = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
cpu_start = cpu_seconds()
settings = Settings(cache_dir=cache)
# build_repo_map's two steps, so the report of what was re-parsed is at hand.
report = update_index(root, settings)
if hasattr(repomap, "map_of_index"):  # an earlier commit's engine, run as bench_index_scale's baseline
    result = repomap.map_of_index(root, settings, budget=budget)
else:
    result = repomap.render_map(load_snapshot(root, settings), budget=budget)
seconds = time.perf_counter() - start
cpu = cpu_seconds() - cpu_start
print(json.dumps({
    "seconds": seconds, "cpu": cpu, "parsed": report.parsed, "tokens": result.tokens, "chars": len(result.text),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
