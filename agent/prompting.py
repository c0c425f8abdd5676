"""Prompt assembly from the template files, in an order that keeps vLLM's prefix cache warm.

The first user turn is stable for the whole run (instructions, repo map, files, issue); every
later round only appends turns, and earlier text is never rewritten.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import jinja2

PROMPTS = Path(__file__).parent / "prompts"
FEEDBACK_TAIL_CHARS = 1500


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(name: str, **values) -> str:
    return _env().get_template(name).render(**values).strip() + "\n"


_RULE = re.compile(r"([=_\-*#~.])\1{4,}")
_PROGRESS = re.compile(r"^[.FEsxX]+\s*\[\s*\d+%\]$")


def compact(output: str) -> str:
    """Test output without pytest's decoration: progress lines go, long rules shrink to three
    characters. Every token saved is a token R1 reads again in each later round."""
    lines = [_RULE.sub(r"\1\1\1", line.rstrip()) for line in output.splitlines()]
    return "\n".join(line for line in lines if not _PROGRESS.match(line.strip()))


def tail(text: str, limit: int = FEEDBACK_TAIL_CHARS) -> str:
    """The end of a long output, compacted and marked as cut, so feedback stays short."""
    text = compact(text).strip()
    return text if len(text) <= limit else "[…]" + text[-limit:]
