"""Prompt assembly from the template files, in an order that keeps vLLM's prefix cache warm.

The first user turn is stable for the whole run (instructions, repo map, files, issue); every
later round only appends turns, and earlier text is never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


_OUTPUT_BLOCK = re.compile(r"Test output \(tail\):\n```\n.*?\n```\n?", re.S)
TRIMMED = "Test output: trimmed (an earlier round's; see the latest round's)\n"
DROPPED_ANSWER = "(An earlier answer, left out to fit the context: it did not fix the issue.)"


def fit_messages(messages: Sequence, budget: int, count) -> list:
    """The conversation within ``budget`` tokens (``count`` estimates a text's). First the test output
    of older feedback turns goes, oldest first; then older answers (each answer holds a complete fix,
    so the latest one stands for them). The first user turn (the context pack) and the latest round are
    never cut. Raises PromptTooLongError when even that does not fit."""
    from r1agent.errors import PromptTooLongError

    out = list(messages)
    total = sum(count(m.content) for m in out)
    first_user = next((i for i, m in enumerate(out) if m.role == "user"), 0)
    older = range(first_user + 1, len(out) - 2)  # the last answer and its feedback stay whole
    for role, cut in (("user", lambda text: _OUTPUT_BLOCK.sub(TRIMMED, text)), ("assistant", lambda _: DROPPED_ANSWER)):
        for i in older:
            if total <= budget:
                break
            m = out[i]
            if m.role == role and count(new := cut(m.content)) < count(m.content):
                total += count(new) - count(m.content)
                out[i] = type(m)(role=m.role, content=new)
    if total > budget:
        raise PromptTooLongError(
            f"the prompt needs about {total} tokens, more than the {budget} the model's context leaves "
            "after the completion cap; lower context.file_tokens or context.map_tokens, or budget.rounds"
        )
    return out
