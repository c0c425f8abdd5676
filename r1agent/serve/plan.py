"""The launch plan: how to split a model over the GPUs so that weights and KV cache fit.

Pure arithmetic, per GPU: usable = memory × utilization; weights = model bytes / (TP × PP);
KV per token = model KV bytes / min(TP, KV shards) / PP; what is left after weights and a
runtime reserve must hold at least one sequence of max-model-len tokens. When nothing fits,
the refusal shows these numbers instead of letting vLLM crash an hour into loading.
"""

from __future__ import annotations

from dataclasses import dataclass

from r1agent.serve.catalog import ServingProfile
from r1agent.serve.errors import PlanRefused, ServeError
from r1agent.serve.gpus import GB, GpuInventory

RUNTIME_RESERVE_BYTES = 2 * GB  # activations, CUDA graphs, NCCL buffers: measured ~1-2 GB per rank
MIN_CONTEXT = 8192  # below this R1 cannot both think and answer about a repository
CONTEXT_STEP = 1024
DEFAULT_UTILIZATION = 0.90
_AUTO_TP = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class PlanRequest:
    """What the user fixed by flag; None leaves the choice to the planner."""

    tp: int | None = None
    pp: int | None = None
    nodes: int = 1
    max_model_len: int | None = None
    gpu_memory_utilization: float = DEFAULT_UTILIZATION


@dataclass(frozen=True)
class Fit:
    """The per-GPU memory budget of one (TP, PP) split."""

    tp: int
    pp: int
    usable: float
    weights: float
    kv_per_token: float

    @property
    def kv_budget(self) -> float:
        return self.usable - self.weights - RUNTIME_RESERVE_BYTES

    @property
    def max_tokens(self) -> int:
        """Tokens of KV cache that fit on each GPU (all sequences together)."""
        return max(0, int(self.kv_budget // self.kv_per_token))

    def needed(self, context: int) -> float:
        return self.weights + RUNTIME_RESERVE_BYTES + context * self.kv_per_token


@dataclass(frozen=True)
class Plan:
    profile: ServingProfile
    gpus: GpuInventory
    nodes: int
    tp: int
    pp: int
    max_model_len: int
    gpu_memory_utilization: float
    fit: Fit
    notes: tuple[str, ...] = ()

    @property
    def gpus_used(self) -> int:
        return self.tp * self.pp

    def arithmetic(self) -> str:
        return _arithmetic(self.profile, self.gpus, self.fit, self.max_model_len, self.gpu_memory_utilization)


def _fit(profile: ServingProfile, inv: GpuInventory, tp: int, pp: int, utilization: float) -> Fit:
    return Fit(
        tp=tp, pp=pp, usable=inv.memory_bytes * utilization,
        weights=profile.weight_bytes / (tp * pp),
        kv_per_token=profile.kv_bytes_per_token / min(tp, profile.kv_shards) / pp,
    )


def _arithmetic(profile: ServingProfile, inv: GpuInventory, fit: Fit, context: int, utilization: float) -> str:
    gb = lambda b: f"{b / GB:.1f} GB"  # noqa: E731 - a local formatter
    shards = min(fit.tp, profile.kv_shards)
    lines = [
        f"weights   {profile.params_b:g}B params × {profile.bytes_per_param:g} B = {gb(profile.weight_bytes)}"
        f" / (TP {fit.tp} × PP {fit.pp}) = {gb(fit.weights)} per GPU",
        f"runtime   {gb(RUNTIME_RESERVE_BYTES)} per GPU (activations, CUDA graphs)",
        f"KV cache  {context:,} tokens × {profile.kv_bytes_per_token:,} B/token / (split {shards} × PP {fit.pp})"
        f" = {gb(context * fit.kv_per_token)} per GPU",
        f"needed    {gb(fit.needed(context))} per GPU",
        f"have      {inv.memory_bytes / GB:.1f} GB × {utilization:.2f} = {gb(fit.usable)} per GPU",
    ]
    return "\n".join(lines)


def _valid_tp(profile: ServingProfile, tp: int) -> bool:
    return tp >= 1 and profile.attention_heads % tp == 0


def _auto_tps(profile: ServingProfile, limit: int) -> list[int]:
    return [t for t in _AUTO_TP if t <= limit and _valid_tp(profile, t)]


def _smallest_fitting_setup(profile: ServingProfile, inv: GpuInventory, utilization: float, context: int) -> str:
    """A hint for the refusal: how many cards of this size would do."""
    for pp in (1, 2, 4):
        for tp in _auto_tps(profile, 8):
            fit = _fit(profile, inv, tp, pp, utilization)
            if fit.max_tokens >= context:
                nodes = f" ({pp} nodes of {tp}, --nodes {pp})" if pp > 1 else f" (--tp {tp})"
                return f"{tp * pp}× {inv.memory_bytes / GB:.0f} GB GPUs would fit it{nodes}"
    return f"no setup of up to 4 nodes × 8 of these {inv.memory_bytes / GB:.0f} GB GPUs fits it"


def _refuse(profile: ServingProfile, inv: GpuInventory, nodes: int, fit: Fit, context: int, utilization: float) -> PlanRefused:
    where = f"{nodes} nodes × {inv.describe()}" if nodes > 1 else inv.describe()
    message = (f"{profile.key} ({profile.title}) does not fit on {where} with TP {fit.tp} × PP {fit.pp}: "
               f"needs {fit.needed(context) / GB:.1f} GB per GPU for {context:,} tokens of context, "
               f"{fit.usable / GB:.1f} GB usable")
    detail = _arithmetic(profile, inv, fit, context, utilization)
    detail += "\n" + _smallest_fitting_setup(profile, inv, utilization, context)
    return PlanRefused(message, detail)


def _choose_split(profile: ServingProfile, inv: GpuInventory, req: PlanRequest) -> list[tuple[int, int]]:
    """The (TP, PP) splits to try, most preferred first."""
    if req.tp is not None and not _valid_tp(profile, req.tp):
        raise ServeError(f"--tp {req.tp}: {profile.key} has {profile.attention_heads} attention heads; "
                         "TP must divide that number")
    if req.pp is not None and not 1 <= req.pp <= profile.layers:
        raise ServeError(f"--pp {req.pp}: expected 1 to {profile.layers} (the model's layers)")
    if req.nodes > 1:
        # Across nodes: TP inside each node (fast links), pipeline stages across them.
        pp = req.pp or req.nodes
        tps = [req.tp] if req.tp else _auto_tps(profile, inv.count)[-1:]
        return [(t, pp) for t in tps]
    pp = req.pp or 1
    if req.tp is not None:
        return [(req.tp, pp)]
    tps = _auto_tps(profile, max(1, inv.count // pp))
    start = max([t for t in tps if t <= profile.recommended_tp] or tps[:1])
    return [(t, pp) for t in tps if t >= start]


def plan(profile: ServingProfile, inv: GpuInventory, req: PlanRequest = PlanRequest()) -> Plan:
    """Choose TP/PP and the context for ``profile`` on ``inv``; PlanRefused when it cannot fit."""
    if not 0.1 <= req.gpu_memory_utilization <= 0.98:
        raise ServeError(f"--gpu-memory-utilization {req.gpu_memory_utilization}: expected 0.1 to 0.98")
    if req.nodes < 1:
        raise ServeError(f"--nodes {req.nodes}: expected at least 1")
    if req.max_model_len is not None and not MIN_CONTEXT // 8 <= req.max_model_len <= profile.context_length:
        raise ServeError(f"--max-model-len {req.max_model_len}: {profile.key} takes {MIN_CONTEXT // 8:,} "
                         f"to {profile.context_length:,} tokens")
    if inv.count < 1:
        raise ServeError("no GPU to plan for; pass --gpus N --gpu-memory GB")
    splits = _choose_split(profile, inv, req)
    if not splits:
        raise ServeError(f"{profile.key}: no tensor-parallel size fits {inv.count} GPUs and "
                         f"{profile.attention_heads} attention heads; pass --tp")
    total = inv.count * req.nodes
    for tp, pp in splits:
        if tp * pp > total or (req.nodes == 1 and tp * pp > inv.count):
            where = f"{req.nodes} nodes × {inv.count}" if req.nodes > 1 else f"{inv.count}"
            raise ServeError(f"TP {tp} × PP {pp} needs {tp * pp} GPUs; there are {where}")
    util = req.gpu_memory_utilization
    fits = [_fit(profile, inv, tp, pp, util) for tp, pp in splits]
    wanted = req.max_model_len or profile.default_max_model_len
    floor = req.max_model_len or MIN_CONTEXT
    full = next((f for f in fits if f.max_tokens >= wanted), None)
    notes: list[str] = []
    if full is not None:
        chosen, context = full, wanted
    else:
        roomiest = fits[-1]  # most GPUs: the most KV room
        if roomiest.max_tokens < floor:
            raise _refuse(profile, inv, req.nodes, roomiest, floor, util)
        chosen = roomiest
        context = roomiest.max_tokens // CONTEXT_STEP * CONTEXT_STEP
        notes.append(f"max-model-len lowered from {wanted:,} to {context:,} so one full sequence fits the KV cache; "
                     "more GPUs (--tp) or a smaller model would restore it")
    used = chosen.tp * chosen.pp
    if req.nodes == 1 and used < inv.count:
        notes.append(f"uses {used} of {inv.count} GPUs; pass --tp to use more")
    sequences = chosen.max_tokens / context
    notes.append(f"KV cache holds about {chosen.max_tokens:,} tokens: {sequences:.1f} full-length sequences at once")
    if req.nodes > 1:
        single = [_fit(profile, inv, t, 1, util) for t in _auto_tps(profile, inv.count)]
        if any(f.max_tokens >= wanted for f in single):
            notes.append("this model fits on one node: --nodes 1 avoids cross-node traffic")
        notes.append("start the Ray cluster first: `ray start --head` here, `ray start --address=HEAD_IP:6379` "
                     "on every other node")
    return Plan(profile=profile, gpus=inv, nodes=req.nodes, tp=chosen.tp, pp=chosen.pp, max_model_len=context,
                gpu_memory_utilization=util, fit=chosen, notes=tuple(notes))
