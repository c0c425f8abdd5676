"""Events the agent streams while it works. The CLI prints them and the TUI renders them.

They travel through LangGraph's custom stream (``get_stream_writer()``) and through the
``on_event`` callbacks of the model client and the sandbox, always as these typed objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Phase:
    """A step of the run started (preparing, localizing, thinking, testing, ...)."""

    name: str
    detail: str = ""


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of R1's reasoning for choice ``index``."""

    index: int
    text: str


@dataclass(frozen=True)
class AnswerDelta:
    """A piece of R1's answer (the part after the reasoning) for choice ``index``."""

    index: int
    text: str


@dataclass(frozen=True)
class ModelCallDone:
    """One model request finished; token counts and timings."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    ttft_s: float | None
    duration_s: float


@dataclass(frozen=True)
class Progress:
    """Long work (an image build, indexing) moved on; ``total`` is None when unknown."""

    task: str
    done: int
    total: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class EditsParsed:
    """A candidate's answer was turned into edits (or refused, with feedback)."""

    candidate: int
    ok: bool
    files: tuple[str, ...] = ()
    feedback: str = ""


@dataclass(frozen=True)
class SandboxStarted:
    candidate: int
    container: str


@dataclass(frozen=True)
class TestProgress:
    """A candidate's test run started or ended (counts are filled in at the end)."""

    candidate: int
    stage: str  # "targeted" | "related" | "full" | "baseline"
    passed: int = 0
    failed: int = 0
    done: bool = False


@dataclass(frozen=True)
class CandidateVerdict:
    candidate: int
    status: str  # "verified" | "failed" | "malformed" | "regressed"
    fail_to_pass: tuple[str, ...] = ()
    pass_to_fail: tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Message:
    """A plain line for the person watching (warnings, notes)."""

    text: str
    level: str = "info"
    extra: dict = field(default_factory=dict, compare=False, hash=False)


Event = (
    Phase | ReasoningDelta | AnswerDelta | ModelCallDone | Progress | EditsParsed | SandboxStarted
    | TestProgress | CandidateVerdict | Message
)
EventSink = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """The default sink: drop events."""
