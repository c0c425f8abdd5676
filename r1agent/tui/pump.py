"""Carry events from the agent's worker thread to the UI in frame-sized batches, so a fast
token stream costs one screen update per frame instead of one per token."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from r1agent.events import AnswerDelta, Event, ReasoningDelta


@dataclass(frozen=True)
class TextBurst:
    """Consecutive reasoning or answer pieces of one choice, joined; ``pieces`` counts tokens."""

    kind: str  # "reasoning" | "answer"
    index: int
    text: str
    pieces: int
    first_stamp: float  # when the oldest piece was emitted (perf_counter), for latency figures


class EventPump:
    """Thread-safe inbox: the worker pushes events, the UI drains them all at once.

    ``wake`` is called once per batch (on the first push after a drain); the UI answers by
    draining on its next frame.
    """

    def __init__(self, wake: Callable[[], object]):
        self._wake = wake
        self._lock = threading.Lock()
        self._items: list[tuple[Event, float]] = []
        self._armed = False

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._items.append((event, time.perf_counter()))
            wake, self._armed = not self._armed, True
        if wake:
            self._wake()

    def drain(self) -> list[Event | TextBurst]:
        with self._lock:
            items, self._items, self._armed = self._items, [], False
        return coalesce(items)


def coalesce(items: list[tuple[Event, float]]) -> list[Event | TextBurst]:
    """Join runs of text deltas of the same kind and choice; every other event keeps its place."""
    out: list[Event | TextBurst] = []
    run: list[str] = []  # the pieces of the burst being built, joined once it ends
    key: tuple[str, int] | None = None
    stamp0 = 0.0

    def close_run() -> None:
        if key is not None:
            out.append(TextBurst(key[0], key[1], "".join(run), len(run), stamp0))

    for event, stamp in items:
        if isinstance(event, ReasoningDelta | AnswerDelta):
            this = ("reasoning" if isinstance(event, ReasoningDelta) else "answer", event.index)
            if this != key:
                close_run()
                key, run, stamp0 = this, [], stamp
            run.append(event.text)
        else:
            close_run()
            key, run = None, []
            out.append(event)
    close_run()
    return out
