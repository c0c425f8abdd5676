"""The models `r1agent serve` knows how to size: R1 (FP8, AWQ) and the six distills.

Sizes come from each model's config.json: parameter count, attention layout (for the KV cache
per token) and native context. KV-cache bytes assume vLLM's default 16-bit cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from r1agent.profiles import PROFILES
from r1agent.serve.errors import ServeError

KV_DTYPE_BYTES = 2


def _gqa_kv_bytes(layers: int, kv_heads: int, head_dim: int = 128) -> int:
    """K and V for every layer: grouped-query attention shards these heads across TP ranks."""
    return 2 * layers * kv_heads * head_dim * KV_DTYPE_BYTES


def _mla_kv_bytes(layers: int, latent: int = 512 + 64) -> int:
    """DeepSeek's multi-head latent attention caches one compressed latent (+ RoPE part) per layer."""
    return layers * latent * KV_DTYPE_BYTES


@dataclass(frozen=True)
class ServingProfile:
    """How to size and launch one model on vLLM."""

    key: str
    hf_id: str
    title: str
    params_b: float  # billions of parameters
    bytes_per_param: float  # weights as stored: FP8 1, BF16 2, AWQ 4-bit about 0.53 with scales
    kv_bytes_per_token: int  # whole model, all layers
    kv_shards: int  # most TP ranks the KV cache splits over (KV heads; 1 for MLA, replicated)
    attention_heads: int  # TP must divide this
    layers: int
    recommended_tp: int
    expert_parallel: bool
    context_length: int  # the model's native limit
    agent_profile: str  # key of r1agent.profiles.PROFILES
    tool_call_parser: str | None = None
    extra_args: tuple[str, ...] = ()

    @property
    def weight_bytes(self) -> float:
        return self.params_b * 1e9 * self.bytes_per_param

    @property
    def system_prompt(self) -> bool:
        """Whether the model accepts a system prompt: the agent profile's rule, kept in one place."""
        return PROFILES[self.agent_profile].system_prompt

    @property
    def default_max_model_len(self) -> int:
        """The context the agent profile plans for, never past the model's own limit."""
        return min(PROFILES[self.agent_profile].context_length, self.context_length)


def _r1(key: str, hf_id: str, title: str, **overrides) -> ServingProfile:
    base = dict(
        params_b=671.0, bytes_per_param=1.0, kv_bytes_per_token=_mla_kv_bytes(61), kv_shards=1,
        attention_heads=128, layers=61, recommended_tp=8, expert_parallel=True, context_length=163840,
        agent_profile="r1",
    )
    base.update(overrides)
    return ServingProfile(key=key, hf_id=hf_id, title=title, **base)


def _distill(key: str, hf_id: str, params_b: float, layers: int, heads: int, kv_heads: int, tp: int) -> ServingProfile:
    return ServingProfile(
        key=key, hf_id=hf_id, title=hf_id.split("/")[-1], params_b=params_b, bytes_per_param=2.0,
        kv_bytes_per_token=_gqa_kv_bytes(layers, kv_heads), kv_shards=kv_heads, attention_heads=heads,
        layers=layers, recommended_tp=tp, expert_parallel=False, context_length=131072, agent_profile="distill",
    )


CATALOG: dict[str, ServingProfile] = {
    p.key: p
    for p in (
        _r1("r1", "deepseek-ai/DeepSeek-R1", "DeepSeek-R1 (FP8)"),
        _r1("r1-0528", "deepseek-ai/DeepSeek-R1-0528", "DeepSeek-R1-0528 (FP8)", agent_profile="r1-0528",
            tool_call_parser="deepseek_v3"),
        # Community AWQ quantization; its card asks for float16 activations and remote code.
        _r1("r1-awq", "cognitivecomputations/DeepSeek-R1-AWQ", "DeepSeek-R1 (AWQ 4-bit)", bytes_per_param=0.53,
            expert_parallel=False, extra_args=("--dtype", "float16", "--trust-remote-code")),
        _distill("distill-qwen-1.5b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", 1.78, 28, 12, 2, 1),
        _distill("distill-qwen-7b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 7.62, 28, 28, 4, 1),
        _distill("distill-llama-8b", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B", 8.03, 32, 32, 8, 1),
        _distill("distill-qwen-14b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", 14.8, 48, 40, 8, 1),
        _distill("distill-qwen-32b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", 32.8, 64, 40, 8, 2),
        _distill("distill-llama-70b", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", 70.6, 80, 64, 8, 4),
    )
}


@dataclass(frozen=True)
class ModelChoice:
    """What the user asked to serve: a catalog profile and the weights to load (HF id or path)."""

    profile: ServingProfile
    source: str  # passed to `vllm serve`
    served_name: str  # the id clients ask for


def resolve_model(spec: str, like: str | None = None) -> ModelChoice:
    """Find the profile for a catalog key, a known HF id, or a local copy named like one.

    ``like`` sizes an unknown model as a catalog profile (a fine-tune, a renamed copy).
    """
    if like is not None and like not in CATALOG:
        raise ServeError(f"--like {like!r}: not a serving profile; choose one of {', '.join(CATALOG)}")
    if spec in CATALOG:
        profile = CATALOG[spec]
        return ModelChoice(profile, profile.hf_id, profile.hf_id)
    path = Path(spec).expanduser()
    is_path = spec.startswith((".", "/", "~")) or path.is_dir()
    if is_path and not path.is_dir():
        raise ServeError(f"--model {spec}: no such directory")
    name = path.name if is_path else spec
    if like is not None:
        match: ServingProfile | None = CATALOG[like]
    else:
        match = next((p for p in CATALOG.values()
                      if p.hf_id.lower() == spec.lower() or p.hf_id.split("/")[-1].lower() == name.lower()), None)
    if match is None:
        raise ServeError(f"--model {spec}: unknown model; name a profile ({', '.join(CATALOG)}), "
                         "or add --like PROFILE to size it like one")
    source = str(path.resolve()) if is_path else spec
    return ModelChoice(match, source, name if is_path else spec)
