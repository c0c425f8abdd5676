"""Layered, validated settings, each value remembering where it came from.

Precedence, lowest first: built-in defaults, the user file (~/.config/r1agent/config.toml),
the repo (.r1agent.toml, else [tool.r1agent] in pyproject.toml), R1AGENT_* environment
variables (R1AGENT_SECTION__KEY), then command-line flags.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from r1agent.errors import ConfigError
from r1agent.profiles import PROFILES, ModelProfile

ENV_PREFIX = "R1AGENT_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EndpointSettings(_Section):
    base_url: str = Field("http://127.0.0.1:8000/v1", description="OpenAI-compatible base URL, ending in /v1")
    api_key: str = Field("EMPTY", description="API key; vLLM accepts any value unless started with --api-key")
    model: str = Field("auto", description="served model name, or 'auto' to take the first from /v1/models")
    profile: Literal["r1", "r1-0528", "distill"] = Field("r1", description="model family: prompting rules")
    temperature: float | None = Field(None, ge=0, le=2, description="override the profile's temperature")
    top_p: float | None = Field(None, gt=0, le=1, description="override the profile's top_p")
    max_tokens: int | None = Field(None, gt=0, description="override the profile's completion cap")
    connect_timeout: float = Field(10.0, gt=0, description="seconds to open a connection")
    idle_timeout: float = Field(300.0, gt=0, description="seconds allowed between two streamed chunks")
    max_retries: int = Field(3, ge=0, le=20, description="retries on connect errors and 5xx")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return v.rstrip("/")


class SandboxSettings(_Section):
    backend: Literal["docker", "local"] = Field("docker", description="docker (default) or local (weaker)")
    python: Literal["auto", "3.9", "3.11", "3.13"] = Field(
        "auto", description="the sandbox's Python; auto reads the repo's declarations, then its commit date")
    base_image: str | None = Field(
        None, description="tag of the base image; unset: r1agent/base:<Debian suite of the chosen Python>")
    dependency_date: str = Field(
        "today", description="resolve dependencies as of: today, commit (the snapshot's commit date) or YYYY-MM-DD")
    setup: str | None = Field(None, description="command installing the repo's dependencies; overrides detection")
    memory: str = Field("4g", description="memory limit per container")
    cpus: float = Field(2.0, gt=0, description="CPU limit per container")
    pids_limit: int = Field(512, gt=0, description="process limit per container")
    timeout: float = Field(900.0, gt=0, description="wall-clock seconds per command")
    parallel: int = Field(4, ge=1, le=64, description="containers at once")
    output_cap: int = Field(200_000, ge=1000, description="bytes of output kept per stream")
    ca_bundle: str | None = Field(None, description="CA bundle trusted while installing dependencies")


    @field_validator("dependency_date")
    @classmethod
    def _date_or_word(cls, v: str) -> str:
        if v not in ("today", "commit"):
            from datetime import date

            try:
                date.fromisoformat(v)
            except ValueError:
                raise ValueError("expected today, commit or a date YYYY-MM-DD") from None
        return v


class BudgetSettings(_Section):
    rounds: int = Field(3, ge=1, le=20, description="propose/test/reflect rounds")
    candidates: int = Field(2, ge=1, le=16, description="candidates drawn per round (n=)")
    tokens: int = Field(400_000, gt=0, description="total completion+prompt tokens for a run")
    wall_seconds: float = Field(3600.0, gt=0, description="wall-clock limit for a run")


class TestSettings(_Section):
    command: str | None = Field(None, description="test command; detected (pytest) when unset")
    timeout: float = Field(900.0, gt=0, description="seconds for one test run")
    scope: Literal["related", "full"] = Field(
        "related", description="what a candidate runs: the target tests and the tests related to its changes, "
                               "or the full suite")
    related_graph_files: int = Field(
        16, ge=0, description="with scope=related, at most this many test files linked to a change only by the "
                              "names it uses, strongest link first (test files importing a changed module all run)")
    related_seconds: float = Field(
        300.0, ge=0, description="with scope=related, the baseline runs the related test files, closest first, "
                                 "until this many seconds are spent; the rest are left out, and named (0: no limit)")
    confirm_seconds: float = Field(
        900.0, ge=0, description="with scope=related, the full suite confirms the chosen candidate when it "
                                 "finishes within this many seconds (0: never)")


class ContextSettings(_Section):
    map_tokens: int = Field(2048, ge=0, description="tokens of repository map in the first prompt")
    file_tokens: int = Field(13500, ge=500, description="tokens of code (whole files and excerpts) in the first prompt")
    whole_file_tokens: int = Field(6000, ge=100, description="a file costing more is shown as excerpts, not whole")
    feedback_reserve: int = Field(6000, ge=0, description="tokens kept free in the context for later rounds")


class Settings(_Section):
    endpoint: EndpointSettings = Field(default_factory=EndpointSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    tests: TestSettings = Field(default_factory=TestSettings)
    context: ContextSettings = Field(default_factory=ContextSettings)
    state_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_state_dir("r1agent")))
    cache_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir("r1agent")))

    @property
    def profile(self) -> ModelProfile:
        return PROFILES[self.endpoint.profile]


@dataclass
class LoadedSettings:
    """The validated settings plus, for each dotted key, the layer that set it."""

    settings: Settings
    sources: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # repository keys left out under repo_policy="ignore"

    def rows(self) -> list[tuple[str, Any, str]]:
        flat = _flatten(self.settings.model_dump(mode="json"))
        return [(k, v, self.sources.get(k, "default")) for k, v in sorted(flat.items())]


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "r1agent" / "config.toml"


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{key}: '{p}' is a value, not a table")
        node[leaf] = v
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None


# What a repository's own file may set: matters of the project itself. Everything else (the endpoint and
# its key, the sandbox backend and its limits, CA bundles, cache and state dirs) moves data off the machine,
# weakens isolation or points r1agent at files, so it comes only from the user's layers.
REPO_KEYS = ("tests.command", "tests.timeout", "sandbox.setup", "budget.", "context.")


def repo_may_set(key: str) -> bool:
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in REPO_KEYS)


def _repo_layer(repo: Path | None) -> tuple[str, dict[str, Any]] | None:
    if repo is None:
        return None
    dedicated = repo / ".r1agent.toml"
    if dedicated.is_file():
        return str(dedicated), _read_toml(dedicated)
    pyproject = repo / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("r1agent")
        if isinstance(table, dict):
            return f"{pyproject} [tool.r1agent]", table
    return None


def _parse_scalar(text: str) -> Any:
    """Read an env or flag value as a TOML scalar (numbers, booleans), else keep the string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and name != "R1AGENT_CONFIG":
            key = name[len(ENV_PREFIX):].lower().replace("__", ".")
            flat[key] = _parse_scalar(value)
    return flat


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """Turn KEY=VALUE strings from --set into a flat layer."""
    flat: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, for example endpoint.model=r1")
        flat[key.strip()] = _parse_scalar(value.strip())
    return flat


def load_settings(
    repo: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    repo_policy: Literal["refuse", "ignore"] = "refuse",
) -> LoadedSettings:
    """Merge every layer, validate once, and name the layer of any bad value.

    A key the repository may not set (see REPO_KEYS) is refused with a ConfigError, or with
    ``repo_policy="ignore"`` (a batch over others' repositories) left out and noted in ``ignored``."""
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, dict[str, Any]]] = []
    user_file = Path(environ["R1AGENT_CONFIG"]) if environ.get("R1AGENT_CONFIG") else user_config_path()
    if user_file.is_file():
        layers.append((str(user_file), _flatten(_read_toml(user_file))))
    repo_layer = _repo_layer(repo)
    ignored: list[str] = []
    if repo_layer:
        source, flat = repo_layer[0], _flatten(repo_layer[1])
        for key in sorted(k for k in flat if not repo_may_set(k)):
            if repo_policy == "refuse":
                env = ENV_PREFIX + key.upper().replace(".", "__")
                raise ConfigError(
                    f"{source} sets {key}, which only you may set, never a repository: put it in {user_file}, "
                    f"in {env}, or in --set {key}=..., and remove it from the repository's file"
                )
            ignored.append(f"{source}: {key} ignored (only the user may set it)")
            del flat[key]
        layers.append((source, flat))
    layers.append(("environment", _env_layer(environ)))
    layers.append(("command line", dict(flags or {})))

    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, flat in layers:
        for key, value in flat.items():
            if value is None:
                continue
            merged[key] = value
            sources[key] = f"{source} ({ENV_PREFIX}{key.upper().replace('.', '__')})" if source == "environment" else source
    try:
        settings = Settings.model_validate(_nest(merged))
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        origin = sources.get(key) or next((s for k, s in sources.items() if k.startswith(key + ".")), "default")
        expected = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"{origin}: {key}: {expected} (got {err.get('input')!r})") from None
    return LoadedSettings(settings=settings, sources=sources, ignored=ignored)
