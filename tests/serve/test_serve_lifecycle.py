"""`r1agent serve` as a user runs it, with the scripted R1 endpoint standing in for vLLM: it
waits for readiness, records the endpoint, stops cleanly on Ctrl-C/SIGTERM, and reports a
crash with the tail of the server's log."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from r1agent.errors import ConfigError
from r1agent.llm import R1Client
from r1agent.scripted import ScriptedEndpoint, ScriptedTurn
from r1agent.serve.lifecycle import write_endpoint
from r1agent.settings import load_settings, user_config_path

MODEL = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
PLAN_FLAGS = ["--model", "distill-qwen-1.5b", "--gpus", "1", "--gpu-memory", "24"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "script.jsonl"
    path.write_text(json.dumps({"reasoning": "The user wants ok.", "answer": "ok"}) + "\n", encoding="utf-8")
    return path


def stand_in(script: Path) -> str:
    """The launch command: the scripted endpoint in place of vLLM, on the planned port and model name."""
    return f"{shlex.quote(sys.executable)} -m r1agent scripted-endpoint --script {shlex.quote(str(script))} " \
           "--port {port} --model {model}"


def start_serve(tmp_path: Path, port: int, launch: str, *extra: str) -> tuple[subprocess.Popen, Path]:
    err = tmp_path / f"serve-{port}.err"
    proc = subprocess.Popen(
        [sys.executable, "-m", "r1agent", "serve", *PLAN_FLAGS, "--port", str(port), "--launch-command", launch,
         "--log", str(tmp_path / f"server-{port}.log"), *extra],
        stdout=subprocess.PIPE, stderr=err.open("wb"), text=True,
    )
    return proc, err


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def child_pid(err: Path) -> int:
    match = wait_for(lambda: re.search(r"pid (\d+):", err.read_text(errors="replace")))
    return int(match.group(1))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def endpoint_written() -> dict | None:
    path = user_config_path()
    data = tomllib.loads(path.read_text()) if path.is_file() else {}
    return data if data.get("endpoint", {}).get("base_url") else None


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ready_server_is_recorded_in_config_then_stopped_cleanly(tmp_path, script, stop_signal):
    config = user_config_path()
    config.parent.mkdir(parents=True)
    config.write_text('[budget]\nrounds = 5\n\n[endpoint]\napi_key = "secret"\n', encoding="utf-8")
    port = free_port()
    proc, err = start_serve(tmp_path, port, stand_in(script))
    try:
        pid = child_pid(err)
        written = wait_for(endpoint_written)
        assert written["endpoint"] == {"api_key": "secret", "base_url": f"http://127.0.0.1:{port}/v1",
                                       "model": MODEL, "profile": "distill"}
        assert written["budget"] == {"rounds": 5}
        # The agent now finds the server through its ordinary settings.
        client = R1Client(load_settings().settings.endpoint)
        assert client.check() == MODEL
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not alive(pid), "the server outlived r1agent serve"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert "stopped" in err.read_text()


def test_server_that_dies_while_starting_is_reported_with_its_log_tail(tmp_path):
    port = free_port()
    missing = tmp_path / "no-such-script.jsonl"
    proc, err = start_serve(tmp_path, port, stand_in(missing))
    assert proc.wait(timeout=60) == 2
    text = err.read_text()
    assert "stopped (exit code 2)" in text
    assert "last lines of the server log:" in text
    assert "cannot read script" in text  # the stand-in's own words, from its log
    assert not user_config_path().exists()


def test_server_that_dies_after_ready_is_reported_and_exits_2(tmp_path, script):
    port = free_port()
    proc, err = start_serve(tmp_path, port, stand_in(script))
    try:
        pid = child_pid(err)
        wait_for(endpoint_written)
        os.kill(pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == 2
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "stopped (signal 9)" in err.read_text()


def test_a_taken_port_is_refused_before_anything_starts(tmp_path, script):
    with ScriptedEndpoint([ScriptedTurn(reasoning="r", answer="a")]) as other:
        proc, err = start_serve(tmp_path, other.port, stand_in(script))
        assert proc.wait(timeout=60) == 2
    assert f"port {other.port} on 127.0.0.1 is taken" in err.read_text()
    assert not user_config_path().exists()


def test_dry_run_prints_the_exact_command_and_starts_nothing():
    done = subprocess.run([sys.executable, "-m", "r1agent", "serve", "--model", "r1-0528", "--gpus", "8",
                           "--gpu-memory", "141", "--tool-calls", "--dry-run"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "vllm serve deepseek-ai/DeepSeek-R1-0528 --served-model-name deepseek-ai/DeepSeek-R1-0528 --host 127.0.0.1 "
        "--port 8000 --tensor-parallel-size 8 --enable-expert-parallel --max-model-len 131072 "
        "--gpu-memory-utilization 0.90 --enable-prefix-caching --reasoning-parser deepseek_r1 "
        "--enable-auto-tool-choice --tool-call-parser deepseek_v3\n")
    assert "TP 8 × PP 1, max-model-len 131,072" in done.stderr
    as_json = subprocess.run([sys.executable, "-m", "r1agent", "serve", "--model", "distill-qwen-32b", "--gpus", "2",
                              "--gpu-memory", "80", "--dry-run", "--json"], capture_output=True, text=True)
    plan = json.loads(as_json.stdout)
    assert (plan["tp"], plan["max_model_len"], plan["argv"][:2]) == (2, 32768, ["vllm", "serve"])


def test_refusal_prints_the_arithmetic_and_exits_2():
    done = subprocess.run([sys.executable, "-m", "r1agent", "serve", "--model", "r1", "--gpus", "8",
                           "--gpu-memory", "80", "--dry-run"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "weights   671B params × 1 B = 671.0 GB / (TP 8 × PP 1) = 83.9 GB per GPU" in done.stderr
    assert "16× 80 GB GPUs would fit it (2 nodes of 8, --nodes 2)" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("r1agent: error: r1 (DeepSeek-R1 (FP8)) does not fit")


def test_no_gpu_and_no_flags_is_a_one_line_error():
    done = subprocess.run([sys.executable, "-m", "r1agent", "serve", "--dry-run"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "no GPU found" in done.stderr and "--gpus N --gpu-memory GB" in done.stderr


def test_endpoint_is_merged_into_config_and_bad_toml_is_left_alone(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[sandbox]\nmemory = "8g"\n', encoding="utf-8")
    write_endpoint("http://127.0.0.1:9000/v1", "m", "r1", path)
    assert tomllib.loads(path.read_text()) == {
        "sandbox": {"memory": "8g"}, "endpoint": {"base_url": "http://127.0.0.1:9000/v1", "model": "m", "profile": "r1"}}
    path.write_text("[endpoint\nbroken", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML, not changed"):
        write_endpoint("http://x/v1", "m", "r1", path)
    assert path.read_text() == "[endpoint\nbroken"


def test_missing_vllm_is_a_one_line_error_naming_the_extra(tmp_path):
    done = subprocess.run([sys.executable, "-m", "r1agent", "serve", *PLAN_FLAGS, "--port", str(free_port())],
                          capture_output=True, text=True, env={**os.environ, "PATH": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == \
        "r1agent: error: cannot start 'vllm': not found on PATH (pip install 'r1agent[serve]')"
