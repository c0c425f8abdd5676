"""Model profiles: how each R1 family member wants to be prompted and sampled.

Values follow DeepSeek's usage guidance: temperature 0.6, top_p 0.95, and for the original
R1 (and its distills) every instruction in the user turn, with no system prompt.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ModelProfile(BaseModel):
    """Prompting and sampling behaviour of one model family."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    system_prompt: bool
    temperature: float = 0.6
    top_p: float = 0.95
    context_length: int
    max_tokens: int = 32768


PROFILES: dict[str, ModelProfile] = {
    p.name: p
    for p in (
        ModelProfile(
            name="r1",
            description="DeepSeek-R1 (original): instructions in the user turn only",
            system_prompt=False,
            context_length=131072,
        ),
        ModelProfile(
            name="r1-0528",
            description="DeepSeek-R1-0528: accepts a system prompt",
            system_prompt=True,
            context_length=131072,
        ),
        ModelProfile(
            name="distill",
            description="DeepSeek-R1-Distill (Qwen/Llama): like R1, shorter context",
            system_prompt=False,
            context_length=32768,
            max_tokens=16384,
        ),
    )
}


def get_profile(name: str) -> ModelProfile:
    return PROFILES[name]
