"""vLLM's /metrics, read as the agent's prompt design is judged: prefix-cache hit rate, token
throughput, time to first token, KV-cache pressure and queueing.

Counters are compared between two scrapes; with no traffic in between, ratios and percentiles
fall back to the whole life of the server (``scope`` says which).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from r1agent.errors import EndpointError

# Each figure under the names vLLM has used for it (V1 first, then V0's).
PREFIX_QUERIES = ("vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries")
PREFIX_HITS = ("vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits")
PROMPT_TOKENS = ("vllm:prompt_tokens",)
GENERATION_TOKENS = ("vllm:generation_tokens",)
KV_USAGE = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")
RUNNING = ("vllm:num_requests_running",)
WAITING = ("vllm:num_requests_waiting",)
TTFT = "vllm:time_to_first_token_seconds"


@dataclass(frozen=True)
class Scrape:
    """One reading of /metrics, summed over models and engines."""

    at: float
    values: dict[str, float]  # family name -> value (counters: their _total)
    ttft_buckets: tuple[tuple[float, float], ...] = ()  # (upper bound, cumulative count)
    ttft_count: float = 0.0

    def first(self, names: tuple[str, ...]) -> float | None:
        return next((self.values[n] for n in names if n in self.values), None)

    def has_prefix_cache(self) -> bool:
        return self.first(PREFIX_QUERIES) is not None


def parse(text: str, at: float | None = None) -> Scrape:
    """Read Prometheus text exposition; unknown families are ignored."""
    values: dict[str, float] = {}
    buckets: dict[float, float] = {}
    count = 0.0
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as e:
        raise EndpointError(f"/metrics is not Prometheus text: {e}") from None
    for family in families:
        if family.name == TTFT:
            for s in family.samples:
                if s.name.endswith("_bucket"):
                    le = float(s.labels["le"])
                    buckets[le] = buckets.get(le, 0.0) + s.value
                elif s.name.endswith("_count"):
                    count += s.value
            continue
        # A counter's family drops "_total" when its TYPE line names the counter in full; not always.
        name = family.name.removesuffix("_total")
        for s in family.samples:
            if s.name in (name, name + "_total"):
                values[name] = values.get(name, 0.0) + s.value
    return Scrape(time.monotonic() if at is None else at, values, tuple(sorted(buckets.items())), count)


def scrape(metrics_url: str, timeout_s: float = 5.0) -> Scrape:
    try:
        response = httpx.get(metrics_url, timeout=timeout_s)
    except httpx.HTTPError as e:
        raise EndpointError(f"cannot read {metrics_url}: {e}") from None
    if response.status_code != 200:
        raise EndpointError(f"{metrics_url} answered HTTP {response.status_code}; is this a vLLM server?")
    return parse(response.text)


def metrics_url(base_url: str) -> str:
    """/metrics lives at the server root, beside /v1."""
    root = base_url.rstrip("/")
    return (root[: -len("/v1")] if root.endswith("/v1") else root) + "/metrics"


def histogram_quantile(q: float, buckets: tuple[tuple[float, float], ...]) -> float | None:
    """Prometheus' estimate: linear inside the bucket holding the q-th observation."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(bound):
                return lower_bound  # beyond the last finite edge: the best we can say
            inside = cumulative - lower_count
            share = (rank - lower_count) / inside if inside else 1.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, cumulative
    return lower_bound


@dataclass(frozen=True)
class ServingStats:
    interval_s: float
    scope: str  # "interval" or "since start": what the ratios and percentiles cover
    prefix_cache_hit_rate: float | None
    prompt_tokens_per_s: float
    generation_tokens_per_s: float
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    kv_cache_usage: float | None
    running: int
    waiting: int
    prefix_cache_exposed: bool
    totals: dict[str, float] = field(default_factory=dict)


def _delta(after: Scrape, before: Scrape, names: tuple[str, ...]) -> float:
    return max(0.0, (after.first(names) or 0.0) - (before.first(names) or 0.0))


def compute(before: Scrape, after: Scrape) -> ServingStats:
    """The figures between two scrapes of the same server."""
    interval = max(0.0, after.at - before.at)
    queries = _delta(after, before, PREFIX_QUERIES)
    busy = queries > 0 or after.ttft_count > before.ttft_count
    if busy:
        hits = _delta(after, before, PREFIX_HITS)
        buckets = tuple((b, c - dict(before.ttft_buckets).get(b, 0.0)) for b, c in after.ttft_buckets)
    else:
        queries, hits, buckets = after.first(PREFIX_QUERIES) or 0.0, after.first(PREFIX_HITS) or 0.0, after.ttft_buckets
    rate = lambda names: _delta(after, before, names) / interval if interval > 0 else 0.0  # noqa: E731
    return ServingStats(
        interval_s=interval,
        scope="interval" if busy else "since start",
        prefix_cache_hit_rate=hits / queries if queries > 0 else None,
        prompt_tokens_per_s=rate(PROMPT_TOKENS),
        generation_tokens_per_s=rate(GENERATION_TOKENS),
        ttft_p50_s=histogram_quantile(0.5, buckets),
        ttft_p95_s=histogram_quantile(0.95, buckets),
        kv_cache_usage=after.first(KV_USAGE),
        running=int(after.first(RUNNING) or 0),
        waiting=int(after.first(WAITING) or 0),
        prefix_cache_exposed=after.has_prefix_cache(),
        totals={"prompt_tokens": after.first(PROMPT_TOKENS) or 0.0,
                "generation_tokens": after.first(GENERATION_TOKENS) or 0.0,
                "prefix_cache_queries": after.first(PREFIX_QUERIES) or 0.0,
                "prefix_cache_hits": after.first(PREFIX_HITS) or 0.0,
                "requests_with_first_token": after.ttft_count},
    )
