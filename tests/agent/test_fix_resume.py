"""A run killed with SIGKILL mid-way resumes from its checkpoint and leaves no containers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import docker
import pytest
from agent_world import GOOD, turn

pytestmark = pytest.mark.docker


def r1agent_containers(client, run_id):
    """Names of r1agent's containers for this run (a sparse listing: no per-container inspect)."""
    found = client.api.containers(all=True, filters={"label": "r1agent=1"})
    names = [n for c in found for n in c["Names"] + list(c["Labels"].values())]
    return sorted({n for n in names if run_id in n})


def test_killed_run_resumes_and_leaves_no_containers(bug_repo, endpoint, isolated_home):
    slow = bug_repo / "tests" / "test_slow.py"
    slow.write_text("import time\n\n\ndef test_slow():\n    time.sleep(8)\n")
    subprocess.run(["git", "add", "-A"], cwd=bug_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "slow test"], cwd=bug_repo, check=True)
    ep = endpoint([turn(GOOD), turn(GOOD)])
    cmd = [sys.executable, "-m", "r1agent", "-C", str(bug_repo), "fix", "mean is wrong",
           "--test", "tests/test_core.py::test_mean", "--candidates", "1", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    client = docker.from_env()
    runs_root = isolated_home / "xdg_state_home" / "r1agent" / "runs"
    deadline = time.time() + 600
    run_id = None
    while time.time() < deadline and proc.poll() is None:
        if ep.requests and runs_root.exists():
            run_id = next(iter(os.listdir(runs_root)))
            if any("r1c0" in name for name in r1agent_containers(client, run_id)):
                break
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()[1].decode()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    result = subprocess.run([sys.executable, "-m", "r1agent", "-C", str(bug_repo), "fix", "--resume", run_id, "--json"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["verified"] and summary["run_id"] == run_id
    assert len(ep.requests) == 1  # the model answer was checkpointed before the kill
    assert "return sum(xs) / len(xs)" in (bug_repo / "stats/core.py").read_text()
    assert r1agent_containers(client, run_id) == []
