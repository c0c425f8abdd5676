"""`r1agent doctor` and `r1agent stats` against the scripted R1 endpoint's real HTTP server and
/metrics, a real Docker engine, and a dead port."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import uuid

import docker
import pytest

from r1agent.llm import R1Client
from r1agent.scripted import Fault, ScriptedEndpoint, ScriptedTurn, prompt_tokens
from r1agent.serve.doctor import Doctor
from r1agent.serve.metrics import compute, histogram_quantile, metrics_url, parse, scrape
from r1agent.settings import EndpointSettings, load_settings

MODEL = "deepseek-r1"
TURNS = [ScriptedTurn(reasoning="Think it through.", answer="ok")] * 6


@pytest.fixture(scope="module")
def endpoint():
    with ScriptedEndpoint(TURNS, model=MODEL) as ep:
        yield ep


@pytest.fixture(scope="module")
def inline_endpoint():
    """A server without the reasoning parser: R1's thinking comes inline in the answer."""
    with ScriptedEndpoint(TURNS, model=MODEL, reasoning_field="inline") as ep:
        yield ep


@pytest.fixture(scope="module")
def base_image():
    """A real (empty) image in the engine, imported from a tarball: nothing is pulled."""
    client = docker.from_env()
    tag = f"r1agent-test/doctor:{uuid.uuid4().hex[:8]}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("marker")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"ok"))
    repo, _, version = tag.partition(":")
    client.api.import_image_from_data(buffer.getvalue(), repository=repo, tag=version)
    yield tag
    client.images.remove(tag, force=True)
    client.close()


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    wide = {**os.environ, "COLUMNS": "250"}  # rich folds table cells to the width it is given
    return subprocess.run([sys.executable, "-m", "r1agent", *args], capture_output=True, text=True, timeout=120,
                          env=wide)


def statuses(results) -> dict[str, str]:
    return {r["name"] if isinstance(r, dict) else r.name: r["status"] if isinstance(r, dict) else r.status
            for r in results}


@pytest.mark.docker
def test_doctor_passes_against_a_healthy_setup(endpoint, base_image):
    done = run_cli("--set", f"endpoint.base_url={endpoint.base_url}", "--set", f"sandbox.base_image={base_image}",
                   "doctor", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(done.stdout)
    assert statuses(results) == {
        "endpoint answers": "pass", "model listed": "pass", "reasoning parser": "pass",
        "prefix-cache metrics": "pass", "docker engine": "pass", "base image": "pass",
        "disk (state dir)": "pass", "disk (cache dir)": "pass", "GPUs": "skip",
    }
    parser = next(r for r in results if r["name"] == "reasoning parser")
    assert parser["detail"].startswith("reasoning arrives in 'reasoning'")


@pytest.mark.docker
def test_doctor_against_a_dead_port_fails_with_fixes_and_exit_2():
    port = dead_port()
    done = run_cli("--set", f"endpoint.base_url=http://127.0.0.1:{port}/v1",
                   "--set", f"sandbox.base_image=r1agent-test/absent:{uuid.uuid4().hex[:8]}", "doctor")
    assert done.returncode == 2
    out = done.stdout
    assert "FAIL" in out and "start a server (r1agent serve) or set endpoint.base_url" in out
    assert "no endpoint" in out  # the checks that need it are skipped, not failed
    assert "it pulls or builds the base image" in out
    assert done.stderr.strip().startswith("r1agent: error: 2 check(s) failed: endpoint answers, base image")


def test_doctor_sees_a_server_without_the_reasoning_parser(inline_endpoint):
    settings = load_settings(flags={"endpoint.base_url": inline_endpoint.base_url}).settings
    results = {r.name: r for r in Doctor(settings)._endpoint_checks()}
    assert results["reasoning parser"].status == "fail"
    assert "inline as <think>" in results["reasoning parser"].detail
    assert "--reasoning-parser deepseek_r1" in results["reasoning parser"].fix


def test_doctor_reports_a_model_that_is_not_served(endpoint):
    settings = load_settings(flags={"endpoint.base_url": endpoint.base_url, "endpoint.model": "r1-70b"}).settings
    results = {r.name: r for r in Doctor(settings)._endpoint_checks()}
    assert (results["model listed"].status, results["reasoning parser"].status) == ("fail", "skip")
    assert f"serves: {MODEL}" in results["model listed"].detail


def test_stats_between_two_scrapes_match_the_traffic_sent():
    with ScriptedEndpoint(TURNS, model=MODEL) as endpoint:
        _check_stats_match_traffic(endpoint)


def _check_stats_match_traffic(endpoint: ScriptedEndpoint) -> None:
    client = R1Client(EndpointSettings(base_url=endpoint.base_url, model=MODEL))
    first = client.build_messages("You fix bugs. Here is the repository map: " + "module " * 50, "Fix issue 1.")
    second = client.build_messages("You fix bugs. Here is the repository map: " + "module " * 50, "Fix issue 2.")
    url = metrics_url(endpoint.base_url)
    before = scrape(url)
    client.complete(first)
    endpoint.inject(Fault("slow_first_token", seconds=0.3))
    client.complete(second)
    after = scrape(url)

    wire = [[{"role": m.role, "content": m.content} for m in msgs] for msgs in (first, second)]
    tokens = [prompt_tokens(w) for w in wire]
    hits = len(os.path.commonprefix(tokens))
    stats = compute(before, after)
    assert stats.scope == "interval"
    # The first request had nothing to hit; the second hits the instructions both share.
    assert hits > 50
    assert stats.prefix_cache_hit_rate == pytest.approx(hits / (len(tokens[0]) + len(tokens[1])))
    assert stats.prompt_tokens_per_s == pytest.approx((len(tokens[0]) + len(tokens[1])) / (after.at - before.at))
    assert stats.generation_tokens_per_s > 0
    assert stats.ttft_p50_s is not None and stats.ttft_p50_s < 0.25
    assert 0.25 < stats.ttft_p95_s <= 0.5  # the slow request's bucket
    assert stats.kv_cache_usage is not None and 0 < stats.kv_cache_usage < 1
    assert (stats.running, stats.waiting) == (0, 0)


def test_stats_command_prints_json_and_a_table(endpoint):
    done = run_cli("stats", "--url", endpoint.base_url, "--interval", "0", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["url"] == metrics_url(endpoint.base_url)
    assert figures["scope"] == "since start"
    assert figures["prefix_cache_exposed"] is True
    assert set(figures) >= {"prefix_cache_hit_rate", "prompt_tokens_per_s", "generation_tokens_per_s",
                            "ttft_p50_s", "ttft_p95_s", "kv_cache_usage", "running", "waiting"}
    table = run_cli("--set", f"endpoint.base_url={endpoint.base_url}", "stats", "--interval", "0.2")
    assert table.returncode == 0, table.stderr
    for row in ("prefix-cache hit rate", "TTFT p95", "KV-cache usage", "requests waiting"):
        assert row in table.stdout


def test_stats_against_a_dead_port_is_a_one_line_error():
    done = run_cli("stats", "--url", f"http://127.0.0.1:{dead_port()}/v1", "--interval", "0")
    assert done.returncode == 2
    assert done.stderr.startswith("r1agent: error: cannot read http://127.0.0.1:")
    assert len(done.stderr.strip().splitlines()) == 1


def test_older_vllm_metric_names_are_read_too():
    text = (  # as vLLM's V0 engine wrote them, one TYPE line naming the counter in full, one not
        "# TYPE vllm:gpu_prefix_cache_queries_total counter\n"
        'vllm:gpu_prefix_cache_queries_total{model_name="r1"} 200.0\n'
        "# TYPE vllm:gpu_prefix_cache_hits counter\nvllm:gpu_prefix_cache_hits_total 150.0\n"
        "# TYPE vllm:gpu_cache_usage_perc gauge\nvllm:gpu_cache_usage_perc 0.25\n"
    )
    stats = compute(parse(text, at=0.0), parse(text, at=0.0))
    assert (stats.prefix_cache_hit_rate, stats.kv_cache_usage, stats.scope) == (0.75, 0.25, "since start")


def test_histogram_quantile_interpolates_inside_the_bucket():
    buckets = ((0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (float("inf"), 100.0))
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert histogram_quantile(0.7, buckets) == pytest.approx(0.3)
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.75)
    assert histogram_quantile(0.5, ((1.0, 0.0), (float("inf"), 0.0))) is None
