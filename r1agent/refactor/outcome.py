"""The result of one refactor run, as printed, cached and emitted with ``--json``."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:  # verify pulls in the sandbox and tree-sitter; a cached run needs neither
    from r1agent.refactor.verify import Verdict

VERIFIED = "verified"  # the one verdict status that is shown


class VerifiedSuggestion(BaseModel):
    id: str
    rationale: str
    files: list[str]
    patch: str
    detail: str = ""


class DroppedSuggestion(BaseModel):
    id: str
    rationale: str
    reason: str  # the verdict status: broke_tests, lint, malformed, ...
    detail: str = ""


class RefactorOutcome(BaseModel):
    """``cached`` is set when the outcome came from the cache and no model request was made."""

    verified: list[VerifiedSuggestion] = Field(default_factory=list)
    dropped: list[DroppedSuggestion] = Field(default_factory=list)
    budget_hit: bool = False
    cached: bool = False
    focus: list[str] = Field(default_factory=list)
    note: str = ""
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def dropped_counts(self) -> dict[str, int]:
        return dict(Counter(d.reason for d in self.dropped))


def from_verdicts(verdicts: list[Verdict], budget_hit: bool, model: str, prompt_tokens: int,
                  completion_tokens: int) -> RefactorOutcome:
    shown = [VerifiedSuggestion(id=v.suggestion.id, rationale=v.suggestion.rationale, files=v.files, patch=v.patch,
                                detail=v.detail) for v in verdicts if v.status == VERIFIED]
    dropped = [DroppedSuggestion(id=v.suggestion.id, rationale=v.suggestion.rationale, reason=v.status, detail=v.detail)
               for v in verdicts if v.status != VERIFIED]
    return RefactorOutcome(verified=shown, dropped=dropped, budget_hit=budget_hit, model=model,
                           prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
