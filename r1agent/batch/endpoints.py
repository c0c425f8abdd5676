"""Choosing among several R1 endpoints (data-parallel vLLM replicas): the least loaded one, by
vLLM's own queue gauges plus the instances this batch has already sent it."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit, urlunsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families

_QUEUE_GAUGES = ("vllm:num_requests_running", "vllm:num_requests_waiting")


def metrics_url(base_url: str) -> str:
    """vLLM serves /metrics at the root, beside /v1."""
    parts = urlsplit(base_url.rstrip("/"))
    path = parts.path.removesuffix("/v1")
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/metrics", "", ""))


def queue_length(base_url: str, timeout: float = 2.0) -> float | None:
    """Requests running plus waiting on the endpoint, or None when it serves no readable metrics."""
    try:
        text = httpx.get(metrics_url(base_url), timeout=timeout).raise_for_status().text
        total = 0.0
        for family in text_string_to_metric_families(text):
            total += sum(s.value for s in family.samples if s.name in _QUEUE_GAUGES)
        return total
    except (httpx.HTTPError, ValueError):
        return None


class EndpointChooser:
    """Hands each instance one endpoint for its whole run (its prompts then share a prefix cache there)."""

    def __init__(self, endpoints: list[str]):
        self.endpoints = list(dict.fromkeys(endpoints))
        self._assigned = dict.fromkeys(self.endpoints, 0)
        self._lock = threading.Lock()

    def acquire(self) -> str:
        """The endpoint with the shortest queue, counting instances assigned here but not yet asking."""
        if len(self.endpoints) == 1:
            choice = self.endpoints[0]
        else:
            queues = {ep: queue_length(ep) for ep in self.endpoints}
            with self._lock:
                choice = min(self.endpoints, key=lambda ep: (queues[ep] or 0.0) + self._assigned[ep])
        with self._lock:
            self._assigned[choice] += 1
        return choice

    def release(self, endpoint: str) -> None:
        with self._lock:
            self._assigned[endpoint] = max(0, self._assigned.get(endpoint, 0) - 1)
