"""A recorded event sequence of one fix run (the demo's touching-ranges bug), fed to the app
for deterministic snapshots: no clock, no temporary paths, no live model."""

from __future__ import annotations

from r1agent.agent.state import Candidate, FixState, TokenUsage
from r1agent.events import (
    AnswerDelta,
    CandidateVerdict,
    EditsParsed,
    ModelCallDone,
    Phase,
    ReasoningDelta,
    SandboxStarted,
    TestProgress,
)
from r1agent.sandbox.report import TestReport
from r1agent.scripted import tokenize

ISSUE = "merge_ranges does not merge ranges that touch: [(1, 3), (3, 5)] should give [(1, 5)]"
TEST = "tests/test_merge.py::test_touching_ranges_merge"
REASONING = (
    "The issue says touching ranges like (1, 3) and (3, 5) are not merged. Looking at merge_ranges "
    "in ranges/merge.py, the loop sorts the ranges and extends the last merged range when "
    "`start < merged[-1][1]`. For (3, 5) after (1, 3): 3 < 3 is False, so it appends.\n\n"
    "Closed ranges sharing an end point overlap, so the test should be `<=`. I'll change the comparison."
)
ANSWER = (
    "The comparison uses a strict `<`, so ranges that only share an end point stay apart.\n\n"
    "ranges/merge.py\n```python\n<<<<<<< SEARCH\n        if merged and start < merged[-1][1]:\n=======\n"
    "        if merged and start <= merged[-1][1]:\n>>>>>>> REPLACE\n```\n"
)
PATCH = """diff --git a/ranges/merge.py b/ranges/merge.py
--- a/ranges/merge.py
+++ b/ranges/merge.py
@@ -5,7 +5,7 @@ def merge_ranges(ranges):
     \"\"\"Merge overlapping ranges into a sorted list of disjoint ranges.\"\"\"
     merged = []
     for start, end in sorted(ranges):
-        if merged and start < merged[-1][1]:
+        if merged and start <= merged[-1][1]:
             merged[-1] = (merged[-1][0], max(merged[-1][1], end))
         else:
             merged.append((start, end))
"""
OUTPUT = """FAILED tests/test_merge.py::test_touching_ranges_merge - assert [(1, 3), (3, 5)] == [(1, 5)]
  At index 0 diff: (1, 3) != (1, 5)
1 failed, 5 passed in 0.04s
"""


def setup_events() -> list:
    return [Phase("prepare", "snapshot of the repo at HEAD"), Phase("localize", "1 files in context: ranges/merge.py")]


def thinking_events(reasoning: str = REASONING) -> list:
    """A model call still thinking: the phase, then the reasoning token by token."""
    return [Phase("thinking", "R1 is thinking (round 1, 2 candidates)")] + [
        ReasoningDelta(0, t) for t in tokenize(reasoning)
    ] + [ReasoningDelta(1, t) for t in tokenize(reasoning)[:40]]


def answer_events() -> list:
    return [AnswerDelta(0, t) for t in tokenize(ANSWER)] + [
        ModelCallDone(prompt_tokens=1412, completion_tokens=236, reasoning_tokens=128, ttft_s=0.4, duration_s=12.5)]


def testing_events() -> list:
    """Two candidates: c0 is running its full suite, c1 already failed its targeted test."""
    return [
        Phase("testing", "testing 2 candidate(s) in parallel sandboxes"),
        EditsParsed(0, True, ("ranges/merge.py",)), EditsParsed(1, True, ("ranges/merge.py",)),
        SandboxStarted(0, "r1agent-c0"), SandboxStarted(1, "r1agent-c1"),
        TestProgress(0, "targeted"), TestProgress(1, "targeted"),
        TestProgress(0, "targeted", passed=1, failed=0, done=True), TestProgress(0, "full"),
        TestProgress(1, "targeted", passed=0, failed=1, done=True),
        CandidateVerdict(1, "failed", summary=f"targeted tests fail: {TEST}"),
    ]


def finish_events() -> list:
    return [
        TestProgress(0, "full", passed=6, failed=0, done=True),
        CandidateVerdict(0, "verified", fail_to_pass=(TEST,)),
        Phase("select", "r1c0 is verified"),
        Phase("handoff", "applying the verified patch"),
    ]


def final_state(repo: str = "/repo") -> FixState:
    """What the run's state holds at the end of the recorded run."""
    tests = {f"tests/test_merge.py::{n}": "passed" for n in (
        "test_disjoint_ranges_stay_apart", "test_overlapping_ranges_merge", "test_nested_range_is_absorbed",
        "test_touching_ranges_merge", "test_total_length_counts_overlap_once", "test_empty_input")}
    failed = dict(tests) | {TEST: "failed"}
    return FixState(
        run_id="20260101-000000-abcdef", repo=repo, issue=ISSUE, target_tests=[TEST], round=1, exit_code=0,
        winner="r1c0", result="applied to the working tree",
        usage=TokenUsage(prompt=1412, completion=236, reasoning=128, calls=1),
        candidates=[
            Candidate(round=1, index=0, answer=ANSWER, patch=PATCH, files=["ranges/merge.py"], status="verified",
                      fail_to_pass=[TEST], report=TestReport(tests=tests, exit_code=0, output_tail="6 passed in 0.04s")),
            Candidate(round=1, index=1, answer=ANSWER, patch=PATCH.replace("<= merged[-1][1]", "<= merged[-1][0]"),
                      files=["ranges/merge.py"], status="failed", still_failing=[TEST],
                      report=TestReport(tests=failed, exit_code=1, output_tail=OUTPUT)),
        ],
    )
