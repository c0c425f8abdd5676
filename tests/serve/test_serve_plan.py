"""The planner over a table of GPU setups and every serving profile: the exact vLLM command, or a
refusal whose arithmetic says why."""

from __future__ import annotations

import pytest

from r1agent.serve.catalog import CATALOG, resolve_model
from r1agent.serve.command import build_launch, custom_argv
from r1agent.serve.errors import PlanRefused, ServeError
from r1agent.serve.gpus import GpuInventory, inventory
from r1agent.serve.plan import PlanRequest, plan

SETUPS = {  # name: (GPUs per node, GB each, nodes)
    "1x24": (1, 24, 1),
    "2x80": (2, 80, 1),
    "4x80": (4, 80, 1),
    "8x141": (8, 141, 1),
    "2nodes-8x80": (8, 80, 2),
}

TAIL = "--enable-prefix-caching --reasoning-parser deepseek_r1"
RAY = "--distributed-executor-backend ray"
AWQ = "--dtype float16 --trust-remote-code"


def _cmd(args: str) -> str:
    return args.replace("{tail}", TAIL).replace("{ray}", RAY).replace("{awq}", AWQ)


# (setup, profile) -> the command after "--port 8000", or "refuse: <text in the one-line message>"
EXPECTED = {
    ("1x24", "r1"): "refuse: needs 673.6 GB per GPU for 8,192 tokens of context, 21.6 GB usable",
    ("1x24", "r1-0528"): "refuse: needs 673.6 GB per GPU",
    ("1x24", "r1-awq"): "refuse: needs 358.2 GB per GPU",
    ("1x24", "distill-qwen-1.5b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("1x24", "distill-qwen-7b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    # 16.1 GB of weights leave room for 27,008 tokens of KV cache: the context is lowered to fit.
    ("1x24", "distill-llama-8b"): "--tensor-parallel-size 1 --max-model-len 26624 --gpu-memory-utilization 0.90 {tail}",
    ("1x24", "distill-qwen-14b"): "refuse: needs 33.2 GB per GPU for 8,192 tokens of context, 21.6 GB usable",
    ("1x24", "distill-qwen-32b"): "refuse: needs 69.7 GB per GPU",
    ("1x24", "distill-llama-70b"): "refuse: needs 145.9 GB per GPU",
    ("2x80", "r1"): "refuse: on 2× 80 GB with TP 2 × PP 1: needs 338.1 GB per GPU",
    ("2x80", "r1-0528"): "refuse: needs 338.1 GB per GPU",
    ("2x80", "r1-awq"): "refuse: needs 180.4 GB per GPU",
    ("2x80", "distill-qwen-1.5b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2x80", "distill-qwen-7b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2x80", "distill-llama-8b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2x80", "distill-qwen-14b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2x80", "distill-qwen-32b"): "--tensor-parallel-size 2 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2x80", "distill-llama-70b"): "refuse: needs 73.9 GB per GPU for 8,192 tokens of context, 72.0 GB usable",
    ("4x80", "r1"): "refuse: needs 170.3 GB per GPU",
    ("4x80", "r1-0528"): "refuse: needs 170.3 GB per GPU",
    ("4x80", "r1-awq"): "refuse: needs 91.5 GB per GPU",
    ("4x80", "distill-qwen-1.5b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("4x80", "distill-qwen-7b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("4x80", "distill-llama-8b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("4x80", "distill-qwen-14b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("4x80", "distill-qwen-32b"): "--tensor-parallel-size 2 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("4x80", "distill-llama-70b"): "--tensor-parallel-size 4 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("8x141", "r1"): "--tensor-parallel-size 8 --enable-expert-parallel --max-model-len 131072 "
                     "--gpu-memory-utilization 0.90 {tail}",
    ("8x141", "r1-0528"): "--tensor-parallel-size 8 --enable-expert-parallel --max-model-len 131072 "
                          "--gpu-memory-utilization 0.90 {tail}",
    ("8x141", "r1-awq"): "--tensor-parallel-size 8 --max-model-len 131072 --gpu-memory-utilization 0.90 {tail} {awq}",
    ("8x141", "distill-qwen-1.5b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("8x141", "distill-qwen-7b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("8x141", "distill-llama-8b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("8x141", "distill-qwen-14b"): "--tensor-parallel-size 1 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("8x141", "distill-qwen-32b"): "--tensor-parallel-size 2 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("8x141", "distill-llama-70b"): "--tensor-parallel-size 4 --max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2nodes-8x80", "r1"): "--tensor-parallel-size 8 --pipeline-parallel-size 2 {ray} --enable-expert-parallel "
                           "--max-model-len 131072 --gpu-memory-utilization 0.90 {tail}",
    ("2nodes-8x80", "r1-0528"): "--tensor-parallel-size 8 --pipeline-parallel-size 2 {ray} --enable-expert-parallel "
                                "--max-model-len 131072 --gpu-memory-utilization 0.90 {tail}",
    ("2nodes-8x80", "r1-awq"): "--tensor-parallel-size 8 --pipeline-parallel-size 2 {ray} --max-model-len 131072 "
                               "--gpu-memory-utilization 0.90 {tail} {awq}",
    # 12 and 28 attention heads: TP 8 cannot divide them, so TP 4 within each node.
    ("2nodes-8x80", "distill-qwen-1.5b"): "--tensor-parallel-size 4 --pipeline-parallel-size 2 {ray} "
                                          "--max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2nodes-8x80", "distill-qwen-7b"): "--tensor-parallel-size 4 --pipeline-parallel-size 2 {ray} "
                                        "--max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2nodes-8x80", "distill-llama-8b"): "--tensor-parallel-size 8 --pipeline-parallel-size 2 {ray} "
                                         "--max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2nodes-8x80", "distill-qwen-14b"): "--tensor-parallel-size 8 --pipeline-parallel-size 2 {ray} "
                                         "--max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2nodes-8x80", "distill-qwen-32b"): "--tensor-parallel-size 8 --pipeline-parallel-size 2 {ray} "
                                         "--max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
    ("2nodes-8x80", "distill-llama-70b"): "--tensor-parallel-size 8 --pipeline-parallel-size 2 {ray} "
                                          "--max-model-len 32768 --gpu-memory-utilization 0.90 {tail}",
}


def _inventory(setup: str) -> tuple[GpuInventory, int]:
    count, gb, nodes = SETUPS[setup]
    return inventory(gpus=count, gpu_memory_gb=gb), nodes


def test_the_table_covers_every_setup_and_profile():
    assert set(EXPECTED) == {(s, p) for s in SETUPS for p in CATALOG}


@pytest.mark.parametrize(("setup", "key"), sorted(EXPECTED))
def test_plan_gives_the_expected_command_or_refusal(setup, key):
    inv, nodes = _inventory(setup)
    expected = EXPECTED[(setup, key)]
    choice = resolve_model(key)
    if expected.startswith("refuse: "):
        with pytest.raises(PlanRefused) as refused:
            plan(choice.profile, inv, PlanRequest(nodes=nodes))
        assert expected.removeprefix("refuse: ") in str(refused.value)
        assert "\n" not in str(refused.value)
        for line in ("weights", "runtime", "KV cache", "needed", "have"):
            assert f"\n{line} " in "\n" + refused.value.detail
        return
    launch = build_launch(plan(choice.profile, inv, PlanRequest(nodes=nodes)), choice)
    head = f"vllm serve {choice.profile.hf_id} --served-model-name {choice.profile.hf_id} --host 127.0.0.1 --port 8000 "
    assert launch.shell() == head + _cmd(expected)


def test_refusal_names_the_smallest_setup_that_would_fit():
    inv, _ = _inventory("1x24")
    with pytest.raises(PlanRefused) as refused:
        plan(CATALOG["distill-qwen-14b"], inv)
    assert refused.value.detail.splitlines()[-1] == "2× 24 GB GPUs would fit it (--tp 2)"


def test_lowered_context_and_idle_gpus_are_explained():
    inv, _ = _inventory("1x24")
    p = plan(CATALOG["distill-llama-8b"], inv)
    assert any("lowered from 32,768 to 26,624" in n for n in p.notes)
    p = plan(CATALOG["distill-qwen-14b"], inventory(gpus=8, gpu_memory_gb=141))
    assert any("uses 1 of 8 GPUs" in n for n in p.notes)


def test_multi_node_plan_says_how_to_start_ray_and_when_one_node_would_do():
    inv = inventory(gpus=8, gpu_memory_gb=80)
    r1 = plan(CATALOG["r1"], inv, PlanRequest(nodes=2))
    assert any("ray start --head" in n and "ray start --address=HEAD_IP:6379" in n for n in r1.notes)
    assert not any("fits on one node" in n for n in r1.notes)
    small = plan(CATALOG["distill-qwen-32b"], inv, PlanRequest(nodes=2))
    assert any("fits on one node" in n for n in small.notes)


def test_explicit_flags_are_kept_or_refused():
    inv = inventory(gpus=8, gpu_memory_gb=141)
    p = plan(CATALOG["distill-llama-70b"], inv, PlanRequest(tp=8, max_model_len=65536))
    assert (p.tp, p.pp, p.max_model_len) == (8, 1, 65536)
    with pytest.raises(ServeError, match="40 attention heads"):
        plan(CATALOG["distill-qwen-32b"], inv, PlanRequest(tp=16))
    with pytest.raises(ServeError, match="needs 16 GPUs; there are 8"):
        plan(CATALOG["r1"], inv, PlanRequest(tp=8, pp=2))
    with pytest.raises(ServeError, match="--max-model-len 200000"):
        plan(CATALOG["r1"], inv, PlanRequest(max_model_len=200000))
    one = inventory(gpus=1, gpu_memory_gb=24)
    with pytest.raises(PlanRefused, match="for 32,768 tokens of context"):
        plan(CATALOG["distill-llama-8b"], one, PlanRequest(max_model_len=32768))


def test_tool_calls_only_for_r1_0528():
    inv = inventory(gpus=8, gpu_memory_gb=141)
    choice = resolve_model("r1-0528")
    argv = build_launch(plan(choice.profile, inv), choice, tool_calls=True).argv
    assert argv[-3:] == ("--enable-auto-tool-choice", "--tool-call-parser", "deepseek_v3")
    r1 = resolve_model("r1")
    with pytest.raises(ServeError, match="not trained for tool calls"):
        build_launch(plan(r1.profile, inv), r1, tool_calls=True)


def test_models_resolve_by_key_hf_id_local_copy_or_like(tmp_path):
    assert resolve_model("deepseek-ai/DeepSeek-R1-0528").profile.key == "r1-0528"
    local = tmp_path / "DeepSeek-R1-Distill-Qwen-7B"
    local.mkdir()
    choice = resolve_model(str(local))
    assert (choice.profile.key, choice.source, choice.served_name) == ("distill-qwen-7b", str(local), local.name)
    tuned = tmp_path / "my-finetune"
    tuned.mkdir()
    with pytest.raises(ServeError, match="unknown model; name a profile"):
        resolve_model(str(tuned))
    assert resolve_model(str(tuned), like="distill-qwen-14b").profile.key == "distill-qwen-14b"
    with pytest.raises(ServeError, match="no such directory"):
        resolve_model(str(tmp_path / "missing"))


def test_profiles_map_to_agent_profiles_and_their_system_prompt_rule():
    assert CATALOG["r1"].system_prompt is False
    assert CATALOG["r1-0528"].system_prompt is True
    assert {p.agent_profile for p in CATALOG.values()} == {"r1", "r1-0528", "distill"}
    assert CATALOG["distill-qwen-7b"].default_max_model_len == 32768


def test_launch_command_template_is_filled_and_checked():
    argv = custom_argv("python -m srv --port {port} --model {model}", host="127.0.0.1", port=9001, served_name="m")
    assert argv == ("python", "-m", "srv", "--port", "9001", "--model", "m")
    with pytest.raises(ServeError, match="placeholders"):
        custom_argv("srv --gpu {gpu}", host="h", port=1, served_name="m")


def test_gpu_flags_override_detection_and_absence_is_explained():
    nothing = lambda: GpuInventory((), "none", "torch is not installed")  # noqa: E731 - a machine without GPUs
    with pytest.raises(ServeError, match=r"no GPU found \(torch is not installed\); pass --gpus N --gpu-memory GB"):
        inventory(detect=nothing)
    with pytest.raises(ServeError, match="pass --gpu-memory"):
        inventory(gpus=2, detect=nothing)
    assert inventory(gpus=2, gpu_memory_gb=80, detect=nothing).describe() == "2× 80 GB"
    with pytest.raises(ServeError, match="--gpus 0"):
        inventory(gpus=0, gpu_memory_gb=80)
