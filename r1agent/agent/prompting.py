"""Prompt assembly from the template files, in an order that keeps vLLM's prefix cache warm.

The first user turn is stable for the whole run (instructions, repo map, files, issue); every
later round only appends turns, and earlier text is never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from r1agent.errors import InputError
from r1agent.events import EventSink
from r1agent.settings import Settings
from r1agent.tools.tokens import estimate_tokens

PROMPTS = Path(__file__).parent / "prompts"
# The edit format's own text (r1agent.tools.edits.FORMAT_PROMPT), read as a file: importing the edits
# package would add ~40 ms to `r1agent context`, which applies no edit.
EDIT_FORMAT = Path(__file__).parents[1] / "tools" / "edits" / "prompt.md"
FEEDBACK_TAIL_CHARS = 1500
MIN_FILE_TOKENS = 500  # a first prompt with less room for code than this is refused


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


@dataclass
class FirstPrompt:
    """The first request's parts: what `r1agent context` prints and what the localize node sends."""

    instructions: str
    context: str  # repo map, code, issue, target tests
    request: str  # the context followed by the request to write edits
    pack: object  # r1agent.tools.context.ContextPack

    def parts(self) -> dict[str, int]:
        """Estimated tokens of each part of the prompt."""
        out = {"instructions": estimate_tokens(self.instructions), "map": estimate_tokens(self.pack.repo_map)}
        out |= {f"file {f.path}": f.tokens for f in self.pack.files}
        out["rest"] = estimate_tokens(self.request) - out["map"] - sum(f.tokens for f in self.pack.files)
        return out


def completion_cap(settings: Settings) -> int:
    return settings.endpoint.max_tokens or settings.profile.max_tokens


def prompt_budget(settings: Settings) -> int:
    """Tokens a request's prompt may hold: the profile's context, less the completion cap."""
    return settings.profile.context_length - completion_cap(settings)


def fit_budget(settings: Settings, fixed_tokens: int) -> tuple[int, int]:
    """The (map, file) budgets for a first prompt whose other parts cost ``fixed_tokens``: the settings'
    sizes, cut so that the prompt plus the feedback reserve fits the model. The map gives way first,
    down to a quarter of the room; then the code, down to MIN_FILE_TOKENS."""
    room = prompt_budget(settings) - settings.context.feedback_reserve - fixed_tokens
    map_tokens, file_tokens = settings.context.map_tokens, settings.context.file_tokens
    if map_tokens + file_tokens > room:
        map_tokens = max(0, min(map_tokens, max(room // 4, room - file_tokens)))
        file_tokens = max(min(file_tokens, MIN_FILE_TOKENS), room - map_tokens)
    if file_tokens > room:
        raise InputError(
            f"the issue and instructions ({fixed_tokens} tokens) leave no room for code in the "
            f"{settings.profile.name} profile's {settings.profile.context_length}-token context (completion cap "
            f"{completion_cap(settings)}, feedback reserve {settings.context.feedback_reserve}); shorten the issue, "
            "or lower endpoint.max_tokens or context.feedback_reserve"
        )
    return map_tokens, file_tokens


def first_prompt(
    repo: Path, issue: str, settings: Settings, *, target_tests: list[str], pinned: list[str], build_context,
    on_event: EventSink,
) -> FirstPrompt:
    """Build the pack within the model's budget (its context, less the completion cap and the feedback
    reserve, less the instructions and the issue), then render the first prompt from it."""
    instructions = render("instructions.j2", edit_format=EDIT_FORMAT.read_text(encoding="utf-8"))
    fixed = render("context.j2", repo_map="", files=[], issue=issue.strip(), target_tests=target_tests)
    map_tokens, file_tokens = fit_budget(settings, estimate_tokens(instructions + fixed + render("propose.j2")))
    pack = build_context(repo, issue, settings, map_tokens=map_tokens, file_tokens=file_tokens, pinned=pinned,
                         on_event=on_event)
    context = render("context.j2", repo_map=pack.repo_map, files=pack.files, issue=issue.strip(),
                     target_tests=target_tests)
    return FirstPrompt(instructions, context, context + "\n" + render("propose.j2"), pack)
