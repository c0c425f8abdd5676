"""The one typed state of a fix run. Every node reads it and returns a partial update."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from r1agent.messages import ChatMessage
from r1agent.sandbox.report import TestReport

CandidateStatus = Literal["pending", "verified", "plausible", "failed", "regressed", "malformed"]


class Candidate(BaseModel):
    """One proposed fix: R1's answer, the patch it became, and what the tests said."""

    confirmed: bool = False  # the full suite has been run for it (tests.scope=related)
    round: int
    index: int
    answer: str
    reasoning_tokens: int = 0
    patch: str = ""
    files: list[str] = Field(default_factory=list)
    edit_feedback: str = ""
    applied_text: str = ""  # blocks that matched in a refused answer; carried into the next round
    refused: list[str] = Field(default_factory=list)  # edits of judging files left out (see judges.py)
    status: CandidateStatus = "pending"
    fail_to_pass: list[str] = Field(default_factory=list)
    pass_to_fail: list[str] = Field(default_factory=list)
    still_failing: list[str] = Field(default_factory=list)
    report: TestReport | None = None
    test_seconds: float = 0.0  # time inside test runs (targeted + full), for the harness benchmark
    commit_message: str = ""

    @property
    def key(self) -> str:
        return f"r{self.round}c{self.index}"


class TokenUsage(BaseModel):
    prompt: int = 0
    completion: int = 0
    reasoning: int = 0
    calls: int = 0

    def add(self, prompt: int, completion: int, reasoning: int) -> TokenUsage:
        return TokenUsage(
            prompt=self.prompt + prompt,
            completion=self.completion + completion,
            reasoning=self.reasoning + reasoning,
            calls=self.calls + 1,
        )

    @property
    def total(self) -> int:
        return self.prompt + self.completion


class HandoffRequest(BaseModel):
    """How the person wants the verified patch delivered."""

    mode: Literal["worktree", "branch", "none"] = "worktree"
    branch: str | None = None
    commit: bool = False
    approve: bool = False


class FixState(BaseModel):
    """Everything a run knows. Checkpointed after every node, so a killed run resumes."""

    run_id: str
    repo: str
    issue: str
    target_tests: list[str] = Field(default_factory=list)
    user_gave_tests: bool = False
    reproduce: bool = True
    pinned: list[str] = Field(default_factory=list)  # files the person asked to put in context
    handoff: HandoffRequest = Field(default_factory=HandoffRequest)
    started_at: float = 0.0

    base_dir: str = ""
    head_commit: str = ""
    baseline: TestReport | None = None
    baseline_covered: list[str] = Field(default_factory=list)  # tests/files the baseline has run (scope=related)
    baseline_dropped: list[str] = Field(default_factory=list)  # left out for time (tests.related_seconds)
    full_baseline: TestReport | None = None  # the whole suite on the unchanged code, for the confirmation
    repro_patch: str = ""
    repro_test: str = ""

    instructions: str = ""
    context: str = ""  # the stable first-turn text: repo map, files, issue
    context_files: list[str] = Field(default_factory=list)
    conversation: list[ChatMessage] = Field(default_factory=list)  # as sent; reasoning never here
    carry: str = ""  # edit blocks the feedback told R1 not to resend; prepended to each new answer
    round: int = 0
    rounds_start: int = 0  # the round a follow-up began at: budgets count from here
    candidates: list[Candidate] = Field(default_factory=list)
    winner: str | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    stop_reason: str = ""
    decision: str | None = None
    result: str = ""  # where the patch went: a path, a branch, the working tree
    exit_code: int | None = None

    def best(self) -> Candidate | None:
        """The selected candidate, or else the most promising failed one."""
        if self.winner:
            return next(c for c in self.candidates if c.key == self.winner)
        ranked = [c for c in self.candidates if c.patch]
        ranked.sort(key=lambda c: (-len(c.fail_to_pass), len(c.pass_to_fail), len(c.still_failing), c.round))
        return ranked[0] if ranked else None
