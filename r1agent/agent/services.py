"""The seams between the graph and the rest of r1agent: small protocols, injected as the
LangGraph runtime context, so that each node can be tested on its own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from r1agent.events import EventSink
from r1agent.settings import Settings


class ModelPort(Protocol):
    """What the graph needs from the R1 client (r1agent.llm.R1Client)."""

    def build_messages(self, instructions: str, prompt: str, history: Sequence[Any] = ()) -> list[Any]: ...

    def complete(
        self, messages: list[Any], *, n: int = 1, max_tokens: int | None = None,
        on_event: EventSink | None = None, cancel: threading.Event | None = None,
    ) -> Any: ...


class SandboxPort(Protocol):
    """What the graph needs from a sandbox backend (r1agent.sandbox.open_backend)."""

    def ensure_image(self) -> str: ...

    def create(self, label: str) -> AbstractContextManager[Any]: ...

    def snapshot(self) -> bytes:
        """The tar every sandbox of this run starts from (taken once, at the first call)."""
        ...

    def refresh_snapshot(self) -> None: ...


ContextBuilder = Callable[..., Any]
"""Signature of r1agent.tools.context.build_context_pack."""


@dataclass
class Services:
    """Everything a node may use besides the state. Passed as the graph's runtime context."""

    settings: Settings
    model: ModelPort
    sandbox: SandboxPort
    build_context: ContextBuilder
    run_dir: Path
    record: Callable[[str, dict], None] = lambda kind, data: None
    cancel: threading.Event = field(default_factory=threading.Event)
