"""One refactor run: focus, cache, one R1 request, verification on a copy of the staged tree, saved patches."""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from r1agent.events import EventSink, Message, ignore
from r1agent.refactor import cache, store
from r1agent.refactor.outcome import RefactorOutcome, from_verdicts
from r1agent.refactor.staged import Focus, export_staged_tree, named_focus, staged_focus
from r1agent.settings import Settings


@dataclass(frozen=True)
class RefactorRequest:
    """``files`` empty means: the staged change is the focus."""

    files: list[Path] = field(default_factory=list)
    goal: str | None = None
    max_suggestions: int = 3
    time_budget_s: float | None = None


def run_refactor(repo: Path, settings: Settings, request: RefactorRequest, on_event: EventSink = ignore) -> RefactorOutcome:
    """Raises EndpointError when the model cannot be reached and SandboxError when no sandbox can be had."""
    focus = named_focus(repo, request.files) if request.files else staged_focus(repo)
    if not focus.paths:
        return RefactorOutcome(note="nothing staged to review")
    key = cache.cache_key(focus, request.goal, request.max_suggestions, settings)
    cached = cache.load(settings, key)
    if cached is not None:
        for s in cached.verified:  # the patch files may have been cleaned up since
            store.save(repo, s)
        return cached
    return _fresh_run(repo, settings, request, focus, key, on_event)


def _fresh_run(repo: Path, settings: Settings, request: RefactorRequest, focus: Focus, key: str,
               on_event: EventSink) -> RefactorOutcome:
    # Imported here: the model client and the sandbox take seconds to import, and a cache hit needs neither.
    from r1agent.llm import CallCancelled, R1Client
    from r1agent.refactor.suggest import build_prompt, request_suggestions
    from r1agent.refactor.verify import Deadline, verify_suggestions

    deadline = Deadline(request.time_budget_s)
    client = R1Client(settings.endpoint)
    model = client.check()
    cancel = threading.Event()
    timer = threading.Timer(deadline.left(), cancel.set) if deadline.end is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        prompt = build_prompt(repo, focus, request.goal, request.max_suggestions, settings, on_event)
        asked = request_suggestions(client, prompt, request.max_suggestions, on_event, cancel)
    except CallCancelled:
        on_event(Message("time budget hit while R1 was thinking", level="warning"))
        return RefactorOutcome(budget_hit=True, model=model, focus=list(focus.paths), note="time budget hit while R1 was thinking")
    finally:
        if timer is not None:
            timer.cancel()
    scratch = Path(tempfile.mkdtemp(prefix="r1agent-refactor-"))
    try:
        staged_root = scratch / repo.name  # same name as the repo, so the sandbox's cached image is reused
        export_staged_tree(repo, staged_root)
        verdicts = verify_suggestions(settings, staged_root, asked.suggestions, deadline, on_event)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    outcome = from_verdicts(verdicts, deadline.hit, asked.model, asked.usage.prompt_tokens, asked.usage.completion_tokens)
    outcome.focus = list(focus.paths)
    if not asked.suggestions:
        outcome.note = "R1 had no suggestions"
    for s in outcome.verified:
        store.save(repo, s)
    if not outcome.budget_hit:  # a cut-short run is not the answer for this tree; try again next time
        cache.save(settings, key, outcome)
    return outcome
