"""The session's running story: what the person asked, the phases, R1's thinking and answer,
and how each step ended. It only appends; it never rewrites what it showed."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from .thinking import ThinkingPanel

LEVEL_CLASS = {"info": "note", "warning": "warning", "error": "error"}


class Transcript(VerticalScroll, can_focus=True):
    """Scrolls with the newest line in view until the person scrolls up."""

    DEFAULT_CLASSES = "transcript"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.thinking: ThinkingPanel | None = None
        self._answer: Markdown | None = None
        self._answer_stream: MarkdownStream | None = None

    def on_mount(self) -> None:
        self.anchor()

    def say(self, text: str | Text, kind: str = "note") -> Static:
        line = Static(text, classes=f"line {kind}", markup=False)
        self.mount(line)
        return line

    async def begin_call(self, started: float, purpose: str) -> ThinkingPanel:
        """A new model call: fold away the previous thinking, open a fresh panel."""
        if self.thinking is not None and not self.thinking.collapsed:
            self.thinking.collapsed = True
        self.thinking = ThinkingPanel(started, purpose)
        self._answer = self._answer_stream = None
        await self.mount(self.thinking)
        return self.thinking

    async def answer(self, text: str) -> None:
        if self._answer is None:
            self._answer = Markdown("", classes="answer")
            await self.mount(self._answer)
            self._answer_stream = Markdown.get_stream(self._answer)
        await self._answer_stream.write(text)

    async def end_call(self) -> None:
        if self._answer_stream is not None:
            await self._answer_stream.stop()
        self._answer_stream = None

    @property
    def answer_text(self) -> str:
        return self._answer.source if self._answer is not None else ""
