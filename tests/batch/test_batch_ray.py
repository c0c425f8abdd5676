"""`r1agent batch --ray`: a real two-node Ray cluster on loopback (the head plus a worker node),
the scripted R1 endpoint and the real Docker engine. The worker node is killed mid-batch; its
instance is re-queued, completes on the head, and the summary says so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from batch_world import batch_args, read_jsonl, scripted_turns

from r1agent.scripted import ScriptedEndpoint

pytest.importorskip("ray", reason="Ray is in the cluster extra: pip install -e '.[cluster]'")
pytestmark = pytest.mark.docker
HERE = Path(__file__).parent


@pytest.fixture
def ray_cluster():
    """(address, control): the cluster helper's head address and its stdin/stdout process."""
    tmp = tempfile.mkdtemp(prefix="r1ray", dir="/tmp")  # short: Ray's unix sockets live here
    # The driver, too, must keep 127.0.0.1 as it is (see ray_cluster.py).
    env = dict(os.environ, RAY_TMPDIR=tmp, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    proc = subprocess.Popen([sys.executable, str(HERE / "ray_cluster.py")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ADDRESS 127.0.0.1:"), f"the cluster did not start: {line!r}"
        yield line.split()[1], proc, env
    finally:
        if proc.poll() is None:
            proc.stdin.write("stop\n")
            proc.stdin.flush()
            proc.wait(timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


def test_lost_worker_node_requeues_its_instance_which_completes_on_the_head(world, tmp_path, ray_cluster):
    address, control, env = ray_cluster
    out = tmp_path / "out"
    with ScriptedEndpoint(scripted_turns(), token_delay=0.1) as ep:
        cmd = [sys.executable, "-m", "r1agent", *batch_args(world, out, ep, "--ray", address, "--json")]
        err = tmp_path / "batch.err"
        with open(err, "w") as err_file:
            batch = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file, text=True, env=env)
        try:
            # One CPU per node and one instance per CPU: two requests in flight means both nodes work.
            deadline = time.time() + 300
            while len(ep.requests) < 2 and time.time() < deadline and batch.poll() is None:
                time.sleep(0.2)
            assert len(ep.requests) >= 2, f"the two nodes never worked at once: {err.read_text()[-2000:]}"
            control.stdin.write("kill-worker\n")
            control.stdin.flush()
            assert control.stdout.readline().strip() == "KILLED"
            stdout, _ = batch.communicate(timeout=600)
        finally:
            if batch.poll() is None:
                batch.kill()
                batch.wait()
    assert batch.returncode == 0, err.read_text()[-2000:]
    summary = json.loads(stdout)
    records = {r["instance_id"]: r for r in read_jsonl(out / "records.jsonl")}
    preds = read_jsonl(out / "predictions.jsonl")
    assert sorted(records) == sorted(world.ids) and sorted(p["instance_id"] for p in preds) == sorted(world.ids)
    assert {r["status"] for r in records.values()} == {"verified"}, [r["error"] for r in records.values()]
    [requeued] = summary["requeued"]
    assert len(summary["requeued"][requeued]) == 2  # started on two nodes
    assert records[requeued]["attempts"] == 2
    assert all(r["attempts"] == 1 for i, r in records.items() if i != requeued)
    assert "re-queued" in (out / "report.html").read_text()
