"""Which GPUs this machine has, as torch sees them, or as the user says for another machine.

torch is asked in a child interpreter: importing it is slow, it may be absent (the serve extra
is optional), and a CUDA context held by this process would take memory vLLM plans to use.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import asdict, dataclass

from r1agent.serve.errors import ServeError

GB = 1e9  # GPU sizes are sold in decimal gigabytes (an "80 GB" H100 reports 85.0e9 bytes)

_PROBE = """
import json, torch
n = torch.cuda.device_count() if torch.cuda.is_available() else 0
props = [torch.cuda.get_device_properties(i) for i in range(n)]
print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda,
                  "gpus": [{"name": p.name, "memory": p.total_memory} for p in props]}))
"""


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_bytes: int


@dataclass(frozen=True)
class GpuInventory:
    """The GPUs of one node (all nodes are assumed alike) and where that knowledge came from."""

    gpus: tuple[Gpu, ...]
    source: str  # "torch" | "flags" | "none"
    note: str = ""  # why none were found, or the torch/CUDA versions
    cuda_build: bool = True  # False for a CPU-only torch: no GPU is expected here

    @property
    def count(self) -> int:
        return len(self.gpus)

    @property
    def memory_bytes(self) -> int:
        """The smallest card decides: vLLM gives every rank the same share."""
        return min((g.memory_bytes for g in self.gpus), default=0)

    def describe(self) -> str:
        if not self.gpus:
            return "no GPU"
        named = f" {self.gpus[0].name}" if self.source == "torch" else ""
        return f"{self.count}× {self.memory_bytes / GB:.0f} GB{named}"


def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def probe_torch(timeout_s: float = 120.0) -> GpuInventory:
    """Ask torch, in a child interpreter, for the CUDA devices and their memory."""
    if not torch_installed():
        return GpuInventory((), "none", "torch is not installed (pip install 'r1agent[serve]')")
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return GpuInventory((), "none", f"torch did not answer within {timeout_s:.0f}s")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return GpuInventory((), "none", f"torch failed: {last}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    gpus = tuple(Gpu(g["name"], int(g["memory"])) for g in data["gpus"])
    note = f"torch {data['torch']}, CUDA {data['cuda'] or 'none (CPU build)'}"
    if not gpus:
        note += ": CUDA sees no GPU"
    return GpuInventory(gpus, "torch", note, cuda_build=data["cuda"] is not None)


def inventory(gpus: int | None = None, gpu_memory_gb: float | None = None,
              detect=probe_torch) -> GpuInventory:
    """The GPUs to plan for: the flags where given, torch's answer for the rest."""
    if gpus is not None and gpus < 1:
        raise ServeError(f"--gpus {gpus}: expected at least 1")
    if gpu_memory_gb is not None and gpu_memory_gb <= 0:
        raise ServeError(f"--gpu-memory {gpu_memory_gb}: expected a size in GB above 0")
    if gpus is not None and gpu_memory_gb is not None:
        card = Gpu("given", int(gpu_memory_gb * GB))
        return GpuInventory((card,) * gpus, "flags")
    found = detect()
    if not found.gpus:
        missing = "--gpu-memory" if gpus is not None else "--gpus" if gpu_memory_gb is not None else "--gpus N --gpu-memory GB"
        raise ServeError(f"no GPU found ({found.note}); pass {missing} to plan for a machine that has them")
    if gpus is not None:
        if gpus > found.count:
            raise ServeError(f"--gpus {gpus}: this machine has {found.count}; add --gpu-memory GB to plan for another")
        return GpuInventory(found.gpus[:gpus], "torch", found.note)
    if gpu_memory_gb is not None:
        card = Gpu("given", int(gpu_memory_gb * GB))
        return GpuInventory((card,) * found.count, "flags", found.note)
    return found


if __name__ == "__main__":
    # `python -m r1agent.serve.gpus`: what the planner would see here.
    print(json.dumps(asdict(probe_torch()), indent=2))
