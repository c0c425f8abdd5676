"""Edit protocol: turn R1's answer text into a patch, or into feedback precise enough for the next round.

``apply_answer`` is the one entry point; ``FORMAT_PROMPT`` is the text that teaches the model the format.
"""

from __future__ import annotations

from importlib.resources import files

from r1agent.tools.edits.apply import apply_answer
from r1agent.tools.edits.match import FUZZY_LINES_PER_DIFFERENCE, FUZZY_THRESHOLD
from r1agent.tools.edits.model import (
    BlockKind,
    BlockOutcome,
    EditBlock,
    EditResult,
    ParseProblem,
    Reason,
    Status,
)
from r1agent.tools.edits.parse import ParsedAnswer, parse_answer

FORMAT_PROMPT: str = files(__package__).joinpath("prompt.md").read_text(encoding="utf-8")

__all__ = [
    "FORMAT_PROMPT",
    "FUZZY_LINES_PER_DIFFERENCE",
    "FUZZY_THRESHOLD",
    "BlockKind",
    "BlockOutcome",
    "EditBlock",
    "EditResult",
    "ParseProblem",
    "ParsedAnswer",
    "Reason",
    "Status",
    "apply_answer",
    "parse_answer",
]
