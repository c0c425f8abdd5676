"""Ask R1 once for up to N independent refactor suggestions about the focus, and split its answer into them."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from r1agent.events import EventSink, Phase
from r1agent.llm import R1Client, Usage
from r1agent.refactor.staged import Focus
from r1agent.settings import Settings

DEFAULT_GOAL = "Make the code under review simpler and easier to read without changing what it does."
MAX_DIFF_CHARS = 20_000
# A header line, tolerating the list markers and bold that models like to add: "2. **Suggestion:** ...".
_HEADER = re.compile(r"^[ \t>#*\-\d.)]*Suggestion[ \t]*\d*[ \t]*\**[ \t]*:[ \t]*\**[ \t]*(?P<why>.*?)[ \t*]*$",
                     re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class Suggestion:
    """One proposed refactor: ``id`` is a short hash of its edits, stable across runs for ``--apply``."""

    id: str
    rationale: str
    answer_text: str


@dataclass(frozen=True)
class SuggestionRequest:
    suggestions: list[Suggestion]
    usage: Usage
    model: str


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent), undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, autoescape=False,
    )
    return env.get_template("prompt.j2")


def suggestion_id(answer_text: str) -> str:
    return hashlib.sha256(answer_text.strip().encode()).hexdigest()[:8]


def parse_suggestions(answer: str, limit: int) -> list[Suggestion]:
    """Cut the answer at each ``Suggestion:`` line; text before the first one is ignored."""
    headers = list(_HEADER.finditer(answer))
    found: dict[str, Suggestion] = {}
    for i, m in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(answer)
        body = answer[m.end():end].strip("\n")
        rationale = m.group("why").strip() or "(no rationale given)"
        sid = suggestion_id(body)
        found.setdefault(sid, Suggestion(sid, rationale, body + "\n"))
    return list(found.values())[:limit]


def render_prompt(focus: Focus, goal: str | None, max_suggestions: int, repo_map: str, context_files: list) -> str:
    from r1agent.tools.edits import FORMAT_PROMPT

    diff = focus.diff if len(focus.diff) <= MAX_DIFF_CHARS else focus.diff[:MAX_DIFF_CHARS] + "\n[… diff cut]\n"
    return _template().render(
        max_suggestions=max_suggestions, edit_format=FORMAT_PROMPT.strip(), repo_map=repo_map.strip() or "(empty)",
        context_files=[f for f in context_files if f.path not in focus.texts],
        focus_files=[(p, focus.texts[p].rstrip("\n")) for p in focus.paths], diff=diff.strip(),
        goal=(goal or DEFAULT_GOAL).strip(),
    ).strip() + "\n"


def build_prompt(repo: Path, focus: Focus, goal: str | None, max_suggestions: int, settings: Settings,
                 on_event: EventSink | None = None) -> str:
    """The context engine supplies the map and the surrounding files (localized by the goal and the staged
    diff's identifiers); the focus files themselves come from the index."""
    from r1agent.tools.context import build_context_pack

    query = f"{goal or DEFAULT_GOAL}\n{focus.diff[:MAX_DIFF_CHARS]}"
    pack = build_context_pack(repo, query, settings, pinned=list(focus.paths), on_event=on_event)
    return render_prompt(focus, goal, max_suggestions, pack.repo_map, list(pack.files))


def request_suggestions(
    client: R1Client, prompt: str, max_suggestions: int, on_event: EventSink, cancel: threading.Event | None = None,
) -> SuggestionRequest:
    """One R1 call (n=1: the suggestions come as a list in one answer); EndpointError when unreachable."""
    on_event(Phase("thinking", f"R1 is looking for up to {max_suggestions} refactor(s)"))
    completion = client.complete(client.build_messages("", prompt), n=1, on_event=on_event, cancel=cancel)
    answer = completion.choices[0].answer if completion.choices else ""
    return SuggestionRequest(parse_suggestions(answer, max_suggestions), completion.usage, completion.model)
