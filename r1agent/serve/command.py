"""The exact `vllm serve` command line for a plan.

Flag names follow vLLM's engine arguments (0.8 and later): reasoning is always split by the
deepseek_r1 parser, so clients get it in its own field; prefix caching stays on because the
agent's prompts share long prefixes.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from r1agent.serve.catalog import ModelChoice
from r1agent.serve.errors import ServeError
from r1agent.serve.plan import Plan


@dataclass(frozen=True)
class Launch:
    """What to run and where clients will find it."""

    argv: tuple[str, ...]
    host: str
    port: int
    served_name: str
    agent_profile: str

    @property
    def base_url(self) -> str:
        # A server bound to every interface is still reached locally through loopback.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}/v1"

    def shell(self) -> str:
        return shlex.join(self.argv)


def vllm_argv(plan: Plan, model: ModelChoice, *, host: str = "127.0.0.1", port: int = 8000,
              tool_calls: bool = False, chat_template: str | None = None) -> tuple[str, ...]:
    """The `vllm serve` argv for ``plan``; tool-call parsing only where the model supports it."""
    profile = plan.profile
    argv = [
        "vllm", "serve", model.source,
        "--served-model-name", model.served_name,
        "--host", host,
        "--port", str(port),
        "--tensor-parallel-size", str(plan.tp),
    ]
    if plan.pp > 1:
        argv += ["--pipeline-parallel-size", str(plan.pp)]
    if plan.nodes > 1:
        argv += ["--distributed-executor-backend", "ray"]
    if profile.expert_parallel:
        argv.append("--enable-expert-parallel")
    argv += [
        "--max-model-len", str(plan.max_model_len),
        "--gpu-memory-utilization", f"{plan.gpu_memory_utilization:.2f}",
        "--enable-prefix-caching",
        "--reasoning-parser", "deepseek_r1",
    ]
    if tool_calls:
        if profile.tool_call_parser is None:
            raise ServeError(f"--tool-calls: {profile.key} was not trained for tool calls (R1-0528 was)")
        argv += ["--enable-auto-tool-choice", "--tool-call-parser", profile.tool_call_parser]
    if chat_template:
        argv += ["--chat-template", chat_template]
    argv += list(profile.extra_args)
    return tuple(argv)


def custom_argv(template: str, *, host: str, port: int, served_name: str) -> tuple[str, ...]:
    """A user's launch command (a container wrapper, a stand-in server) with {host} {port} {model} filled."""
    try:
        words = shlex.split(template)
        argv = tuple(w.format(host=host, port=port, model=served_name) for w in words)
    except (ValueError, KeyError, IndexError) as e:
        raise ServeError(f"--launch-command: cannot use {template!r}: {e} "
                         "(placeholders: {host}, {port}, {model})") from None
    if not argv:
        raise ServeError("--launch-command: empty command")
    return argv


def build_launch(plan: Plan, model: ModelChoice, *, host: str = "127.0.0.1", port: int = 8000,
                 tool_calls: bool = False, chat_template: str | None = None,
                 launch_command: str | None = None) -> Launch:
    if launch_command:
        argv = custom_argv(launch_command, host=host, port=port, served_name=model.served_name)
    else:
        argv = vllm_argv(plan, model, host=host, port=port, tool_calls=tool_calls, chat_template=chat_template)
    return Launch(argv=argv, host=host, port=port, served_name=model.served_name,
                  agent_profile=plan.profile.agent_profile)
