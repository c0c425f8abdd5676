"""`r1agent doctor`: every precondition of a run, checked, each with a fix when it fails.

Checks run in order and later ones skip when what they need failed (no model check without an
endpoint). Nothing here changes anything.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from pydantic import BaseModel, ValidationError

from r1agent.errors import EndpointError
from r1agent.serve import gpus as gpu_discovery
from r1agent.serve.metrics import metrics_url, parse
from r1agent.settings import Settings

Status = Literal["pass", "fail", "skip"]
MIN_FREE_BYTES = 5 * 10**9  # an environment image plus a few run records and sandboxes


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str = ""


class _Models(BaseModel):
    class _Entry(BaseModel):
        id: str

    data: list[_Entry]


class _ProbeMessage(BaseModel):
    content: str | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None


class _ProbeChoice(BaseModel):
    message: _ProbeMessage


class _ProbeReply(BaseModel):
    choices: list[_ProbeChoice]


@dataclass
class Doctor:
    """Runs the checks against one settings object; ``timeout_s`` bounds each network call."""

    settings: Settings
    timeout_s: float = 10.0
    probe_timeout_s: float = 120.0
    gpu_probe: Callable[[], gpu_discovery.GpuInventory] = gpu_discovery.probe_torch

    def run(self) -> list[CheckResult]:
        results = self._endpoint_checks()
        results += self._docker_checks()
        results += [self._disk(label, path) for label, path in
                    (("state dir", self.settings.state_dir), ("cache dir", self.settings.cache_dir))]
        results.append(self._gpus())
        return results

    # --- the endpoint -----------------------------------------------------------------------

    def _endpoint_checks(self) -> list[CheckResult]:
        base = self.settings.endpoint.base_url
        names = ("endpoint answers", "model listed", "reasoning parser", "prefix-cache metrics")
        try:
            response = httpx.get(f"{base}/models", timeout=self.timeout_s,
                                 headers={"Authorization": f"Bearer {self.settings.endpoint.api_key}"})
            served = [m.id for m in _Models.model_validate_json(response.content).data] \
                if response.status_code == 200 else None
        except httpx.HTTPError as e:
            first = CheckResult(names[0], "fail", f"{base}: {type(e).__name__}: {e}",
                                "start a server (r1agent serve) or set endpoint.base_url")
            return [first, *(CheckResult(n, "skip", "no endpoint") for n in names[1:])]
        except ValidationError:
            served = None
        if served is None:
            first = CheckResult(names[0], "fail", f"GET {base}/models answered HTTP {response.status_code} "
                                "without a model list", "point endpoint.base_url at an OpenAI-compatible /v1")
            return [first, *(CheckResult(n, "skip", "no endpoint") for n in names[1:])]
        results = [CheckResult(names[0], "pass", f"{base} answers")]
        wanted = self.settings.endpoint.model
        model = served[0] if wanted == "auto" and served else wanted
        if model in served:
            results.append(CheckResult(names[1], "pass", f"{model!r} among {len(served)} served"))
            results.append(self._reasoning_parser(base, model))
        else:
            listing = ", ".join(served) or "none"
            results.append(CheckResult(names[1], "fail", f"{wanted!r} not served (serves: {listing})",
                                       "set endpoint.model to a served id, or 'auto'"))
            results.append(CheckResult(names[2], "skip", "no model to ask"))
        results.append(self._prefix_metrics(base))
        return results

    def _reasoning_parser(self, base: str, model: str) -> CheckResult:
        """A tiny request: with the deepseek_r1 parser on, the thinking arrives in its own field."""
        name = "reasoning parser"
        fix = "restart vLLM with --reasoning-parser deepseek_r1 (r1agent serve does)"
        body = {"model": model, "max_tokens": 256, "temperature": 0.6,
                "messages": [{"role": "user", "content": "Reply with the single word: ok"}]}
        try:
            response = httpx.post(f"{base}/chat/completions", json=body, timeout=self.probe_timeout_s,
                                  headers={"Authorization": f"Bearer {self.settings.endpoint.api_key}"})
            message = _ProbeReply.model_validate_json(response.content).choices[0].message
        except httpx.HTTPError as e:
            return CheckResult(name, "fail", f"the probe request failed: {type(e).__name__}: {e}", fix)
        except (ValidationError, IndexError):
            return CheckResult(name, "fail", f"the probe got HTTP {response.status_code} without a message",
                               "check the server log")
        reasoning = message.reasoning or message.reasoning_content
        if reasoning and "</think>" not in (message.content or ""):
            field = "reasoning" if message.reasoning else "reasoning_content"
            return CheckResult(name, "pass", f"reasoning arrives in '{field}' ({len(reasoning)} chars)")
        if "</think>" in (message.content or ""):
            return CheckResult(name, "fail", "the reasoning came inline as <think>…</think> in the answer", fix)
        return CheckResult(name, "fail", "no reasoning field in the reply", fix)

    def _prefix_metrics(self, base: str) -> CheckResult:
        name = "prefix-cache metrics"
        url = metrics_url(base)
        try:
            response = httpx.get(url, timeout=self.timeout_s)
            exposed = response.status_code == 200 and parse(response.text).has_prefix_cache()
        except (httpx.HTTPError, EndpointError) as e:
            return CheckResult(name, "fail", f"{url}: {e}", "serve with vLLM ≥ 0.8 (r1agent serve)")
        if exposed:
            return CheckResult(name, "pass", f"{url} exposes vllm:prefix_cache_*")
        return CheckResult(name, "fail", f"{url} has no prefix-cache counters",
                           "start vLLM with --enable-prefix-caching and without --disable-log-stats")

    # --- the sandbox --------------------------------------------------------------------------

    def _docker_checks(self) -> list[CheckResult]:
        try:  # a dependency, but a GPU host may run doctor from a trimmed environment
            import docker
            from docker.errors import DockerException, ImageNotFound
        except ImportError:
            return [CheckResult("docker engine", "fail", "the docker Python SDK is not installed",
                                "pip install 'docker>=7.1,<8' (r1agent depends on it)"),
                    CheckResult("base image", "skip", "no Docker SDK")]
        from r1agent.sandbox.python_choice import SUITES, PythonChoice

        cfg = self.settings.sandbox
        wanted = [cfg.base_image] if cfg.base_image else \
            [PythonChoice(v, "").base_tag for v in SUITES if cfg.python in ("auto", v)]
        try:
            client = docker.from_env(timeout=self.timeout_s)
            client.ping()
            version = client.version().get("Version", "?")
        except (DockerException, OSError) as e:
            text = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            return [CheckResult("docker engine", "fail", text,
                                "start Docker (sudo systemctl start docker) or check DOCKER_HOST and your docker group"),
                    CheckResult("base image", "skip", "no Docker engine")]
        try:
            results = [CheckResult("docker engine", "pass", f"Docker {version} answers")]
            try:
                present = [t for t in wanted if _has_image(client, t, ImageNotFound)]
                if present:
                    results.append(CheckResult("base image", "pass", f"{', '.join(present)} present"))
                else:
                    results.append(CheckResult("base image", "fail", f"{' or '.join(wanted)} is not present",
                                               "run `r1agent sandbox build` once: it pulls or builds the base image"))
            except DockerException as e:
                results.append(CheckResult("base image", "fail", f"{wanted[0]}: {e}", "check the Docker engine's log"))
            return results
        finally:
            client.close()

    # --- the host -------------------------------------------------------------------------------

    def _disk(self, label: str, path: Path) -> CheckResult:
        existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
        free = shutil.disk_usage(existing).free
        detail = f"{free / 1e9:.1f} GB free at {existing}"
        if free >= MIN_FREE_BYTES:
            return CheckResult(f"disk ({label})", "pass", detail)
        return CheckResult(f"disk ({label})", "fail", detail + f", under {MIN_FREE_BYTES / 1e9:.0f} GB",
                           f"free space there, or move it: --set {label.replace(' ', '_')}=PATH")

    def _gpus(self) -> CheckResult:
        if not gpu_discovery.torch_installed():
            return CheckResult("GPUs", "skip", "torch is not installed (needed only where the model runs)")
        found = self.gpu_probe()
        if found.gpus:
            return CheckResult("GPUs", "pass", f"{found.describe()}; {found.note}")
        if found.source == "torch" and not found.cuda_build:
            return CheckResult("GPUs", "skip", f"{found.note} (GPUs are checked where the model runs)")
        return CheckResult("GPUs", "fail", found.note,
                           "check nvidia-smi, the driver, CUDA_VISIBLE_DEVICES, and that torch is a CUDA build")


def _has_image(client, tag: str, not_found: type[Exception]) -> bool:
    try:
        client.images.get(tag)
        return True
    except not_found:
        return False
