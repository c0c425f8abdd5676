"""The messages sent to R1, and where the instructions go in them. Kept apart from the client, so
what only builds a prompt (the agent's state, ``r1agent context``) does not load the OpenAI SDK."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from r1agent.profiles import ModelProfile


class ChatMessage(BaseModel, frozen=True):
    """One message as sent to R1; the agent's conversation is a list of these. Reasoning never appears here."""

    role: Literal["system", "user", "assistant"]
    content: str


def build_messages(
    profile: ModelProfile, instructions: str, prompt: str, history: Sequence[ChatMessage] = ()
) -> list[ChatMessage]:
    """Instructions as a system prompt if the profile takes one, else in the first user turn.

    ``history`` holds the earlier user/assistant turns without instructions; an assistant turn is
    its answer alone, sent as it is, so a follow-up only appends to the earlier prompt.
    """
    turns = list(history)
    for m in turns:
        if m.role not in ("user", "assistant"):
            raise ValueError(f"history holds a {m.role!r} turn; only user and assistant turns belong there")
    turns.append(ChatMessage(role="user", content=prompt))
    if not instructions:
        return turns
    if profile.system_prompt:
        return [ChatMessage(role="system", content=instructions), *turns]
    first = next(i for i, m in enumerate(turns) if m.role == "user")
    turns[first] = ChatMessage(role="user", content=f"{instructions}\n\n{turns[first].content}")
    return turns
