"""A two-node Ray cluster on 127.0.0.1 for the tests, in a process of its own so that pytest's
process never holds Ray state. Ray's own multi-node test harness (ray.cluster_utils.Cluster)
starts real GCS, raylet and worker processes per node.

Prints the head's address, then obeys lines on stdin: ``kill-worker`` (SIGKILL the second node),
``stop`` (shut everything down and exit)."""

from __future__ import annotations

import os
import sys

# Ray maps 127.0.0.1 to the host's outward address on Linux unless told it is a single machine;
# this keeps every node on loopback. Set before Ray is imported: it is read at import.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("RAY_agent_register_timeout_ms", "180000")  # 2 slow cores: agents start late

from ray.cluster_utils import Cluster  # noqa: E402

NODE = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}


def main() -> None:
    os.makedirs(os.path.join(os.environ["RAY_TMPDIR"], "ray"), exist_ok=True)
    cluster = Cluster(initialize_head=True, head_node_args={**NODE, "include_dashboard": False})
    worker = cluster.add_node(**NODE)
    print(f"ADDRESS {cluster.address}", flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "kill-worker":
                cluster.remove_node(worker, allow_graceful=False)
                print("KILLED", flush=True)
            elif line.strip() == "stop":
                break
    finally:
        cluster.shutdown()
        print("STOPPED", flush=True)


if __name__ == "__main__":
    main()
