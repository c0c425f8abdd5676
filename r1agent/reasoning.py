"""Split R1's output into (reasoning, answer), whichever of the three wire forms carries it.

Forms: a separate ``reasoning`` or ``reasoning_content`` field (vLLM's reasoning parser, the
DeepSeek API), or inline ``<think>…</think>`` in the content, whose opening tag may be missing
because the chat template already emitted it. Streamed and whole texts go through the same
state machine, so every form gives the same split.

Content that carries neither tag nor a reasoning field is undecided: it is held back until a
``</think>`` shows it was reasoning, or the end shows it was all answer. (With the opening tag
missing, the reasoning therefore appears when ``</think>`` arrives, not token by token.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"
# Where an endpoint may put the reasoning: a field (new vLLM; old vLLM and the DeepSeek API) or inline.
WIRE_FORMS: tuple[str, ...] = ("reasoning", "reasoning_content", "inline")

Kind = Literal["reasoning", "answer"]


@dataclass(frozen=True)
class Piece:
    """A run of text now known to be reasoning or answer."""

    kind: Kind
    text: str


def _partial_tag_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that could be the start of ``tag`` split off by chunking."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


@dataclass
class ReasoningSplitter:
    """Incremental splitter for one choice. Feed pieces as they arrive, then call ``finish``."""

    _mode: Literal["undecided", "think", "answer", "field"] = "undecided"
    _pending: str = ""
    _reasoning: list[str] = field(default_factory=list)
    _answer: list[str] = field(default_factory=list)

    def feed_reasoning(self, text: str) -> list[Piece]:
        """Text from a ``reasoning``/``reasoning_content`` field: reasoning, and the content is answer."""
        if not text:
            return []
        out: list[Piece] = []
        if self._mode == "undecided":
            self._mode = "field"
            if self._pending.strip():
                out += self._emit("answer", self._pending)
            self._pending = ""
        return out + self._emit("reasoning", text)

    def feed_content(self, text: str) -> list[Piece]:
        """Text from the ``content`` field."""
        if not text:
            return []
        if self._mode in ("answer", "field"):
            return self._emit("answer", text)
        buf = self._pending + text
        self._pending = ""
        out: list[Piece] = []
        while buf:
            if self._mode == "undecided":
                head = buf.lstrip()
                if head.startswith(OPEN_TAG):
                    self._mode, buf = "think", head[len(OPEN_TAG):]
                    continue
                if OPEN_TAG.startswith(head):  # maybe the opening tag, cut by the chunking
                    self._pending = buf
                    break
                end = buf.find(CLOSE_TAG)
                if end < 0:  # no tag yet: reasoning with its opener missing, or a plain answer
                    self._pending = buf
                    break
                out += self._emit("reasoning", buf[:end])
                self._mode, buf = "answer", buf[end + len(CLOSE_TAG):]
            elif self._mode == "think":
                end = buf.find(CLOSE_TAG)
                if end < 0:
                    keep = _partial_tag_suffix(buf, CLOSE_TAG)
                    out += self._emit("reasoning", buf[: len(buf) - keep])
                    self._pending = buf[len(buf) - keep:]
                    break
                out += self._emit("reasoning", buf[:end])
                self._mode, buf = "answer", buf[end + len(CLOSE_TAG):]
            else:
                out += self._emit("answer", buf)
                break
        return out

    def finish(self) -> list[Piece]:
        """End of the stream: decide what is still held back."""
        pending, self._pending = self._pending, ""
        if self._mode == "think":  # unterminated <think>: cut off while still reasoning
            return self._emit("reasoning", pending)
        return self._emit("answer", pending)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning).strip()

    @property
    def answer(self) -> str:
        return "".join(self._answer).strip()

    def _emit(self, kind: Kind, text: str) -> list[Piece]:
        parts = self._reasoning if kind == "reasoning" else self._answer
        if not parts:  # the newline after <think> or </think> is layout, not content
            text = text.lstrip()
        if not text:
            return []
        parts.append(text)
        return [Piece(kind, text)]


def split_message(content: str | None, reasoning: str | None = None) -> tuple[str, str]:
    """Split a whole (non-streamed) message; ``reasoning`` is its reasoning field, if any."""
    splitter = ReasoningSplitter()
    splitter.feed_reasoning(reasoning or "")
    splitter.feed_content(content or "")
    splitter.finish()
    return splitter.reasoning, splitter.answer
