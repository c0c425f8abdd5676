"""R1's reasoning as it streams: a collapsible panel with a token counter and elapsed time.

The text goes into a Log, which appends in constant time however long the reasoning grows
(a Markdown document re-lays itself out on every append, which 10,000 tokens make slow). The
pump already hands it one batch per frame; a streaming word-wrapper keeps the lines readable."""

from __future__ import annotations

import re

from rich.cells import cell_len
from textual import events
from textual.widgets import Collapsible, Log

_PIECE = re.compile(r"\n|[^\S\n]+|[^\s]+")


def thinking_title(tokens: int, elapsed_s: float, done: bool, choices: int = 1) -> str:
    """The panel's one-line header, e.g. ``Thinking… 1,204 tokens · 12s``."""
    many = f" · {choices} choices" if choices > 1 else ""
    if done:
        return f"Thought for {elapsed_s:.0f}s · {tokens:,} tokens{many}"
    return f"Thinking… {tokens:,} tokens · {elapsed_s:.0f}s{many}"


class WordWrapper:
    """Wraps streamed text at ``width`` cells, one fragment at a time: a word that would cross
    the edge starts a new line. Fragments may split words; a split word is held back."""

    def __init__(self, width: int):
        self.width = max(10, width)
        self.column = 0
        self._held = ""  # the unfinished word at the end of the last fragment
        self._space = ""  # spaces after a word: written only if the next word fits on the line

    def feed(self, text: str, final: bool = False) -> str:
        text = self._held + text
        self._held = ""
        out: list[str] = []
        pieces = _PIECE.findall(text)
        if pieces and not final and not pieces[-1].isspace():
            self._held = pieces.pop()  # the word may go on in the next fragment
        for piece in pieces:
            if piece == "\n":
                out.append("\n")
                self.column, self._space = 0, ""
            elif piece.isspace():
                self._space = piece if self.column else ""
            else:
                out.append(self._word(piece))
        return "".join(out)

    def _word(self, word: str) -> str:
        size, space = cell_len(word), self._space
        self._space = ""
        if self.column and self.column + cell_len(space) + size > self.width:
            prefix, self.column = "\n", 0
        else:
            prefix, self.column = space, self.column + cell_len(space)
        while self.column + size > self.width:  # a word wider than the line is cut
            cut = self.width - self.column
            prefix += word[:cut] + "\n"
            word, size, self.column = word[cut:], cell_len(word[cut:]), 0
        self.column += size
        return prefix + word

    def flush(self) -> str:
        return self.feed("", final=True)


class ReasoningLog(Log):
    """A Log that re-wraps all of its text when its width changes."""

    def __init__(self, **kwargs):
        super().__init__(highlight=False, auto_scroll=True, **kwargs)
        self.parts: list[str] = []
        self.wrapper = WordWrapper(80)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.write(self.wrapper.feed(text))

    def finish(self) -> None:
        self.write(self.wrapper.flush())

    def on_resize(self, event: events.Resize) -> None:
        width = max(10, event.size.width - 1)  # one cell for the scrollbar
        if width != self.wrapper.width:
            self.wrapper = WordWrapper(width)
            self.clear()
            self.write(self.wrapper.feed("".join(self.parts)))


class ThinkingPanel(Collapsible):
    """One model call's reasoning. Only choice 0 is shown; every choice's tokens are counted."""

    DEFAULT_CLASSES = "thinking"

    def __init__(self, started: float, purpose: str = "", **kwargs):
        self._log = ReasoningLog(classes="thinking-log")
        super().__init__(self._log, title=thinking_title(0, 0, False), collapsed=False, **kwargs)
        self.started = started
        self.purpose = purpose
        self.tokens = 0
        self.choices: set[int] = set()
        self.done = False
        self.finished_at: float | None = None

    def add(self, text: str, pieces: int, index: int) -> None:
        """Count ``pieces`` tokens of choice ``index`` and show choice 0's text."""
        self.tokens += pieces
        self.choices.add(index)
        if index == 0 and text:
            self._log.add(text)

    def tick(self, now: float) -> None:
        """Refresh the header's clock and counter."""
        end = self.finished_at if self.finished_at is not None else now
        self.title = thinking_title(self.tokens, end - self.started, self.done, len(self.choices))

    def finish(self, now: float, reasoning_tokens: int | None = None, collapse: bool = True) -> None:
        """The call ended: settle the count on the server's figure and fold the panel away."""
        if self.done:
            return
        self._log.finish()
        if reasoning_tokens:
            self.tokens = reasoning_tokens
        self.done, self.finished_at = True, now
        self.tick(now)
        if collapse:
            self.collapsed = True

    @property
    def text(self) -> str:
        return "".join(self._log.parts)
