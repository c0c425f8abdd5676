"""What R1 is sent: `r1agent context` shows exactly the first request, and every request of a run fits
the model profile's context. The real CLI, the scripted endpoint and the real Docker sandbox."""

from __future__ import annotations

import json

import pytest
from agent_world import GOOD, STILL_WRONG, repo_files, turn

from r1agent.agent.prompting import TRIMMED
from r1agent.profiles import PROFILES
from r1agent.tools.tokens import estimate_tokens

pytestmark = pytest.mark.docker
TARGET = "tests/test_core.py::test_mean"
ISSUE = "mean() gives the wrong answer"


def test_context_json_is_exactly_the_first_request(run_cli, bug_repo, endpoint):
    shown = run_cli("-C", str(bug_repo), "context", ISSUE, "--test", TARGET, "--json")
    assert shown.code == 0, shown.err
    data = json.loads(shown.out)
    assert set(data) >= {"tokens", "map", "files"} and data["files"][0]["path"] == "tests/test_core.py"
    assert all(set(f) >= {"path", "whole", "spans"} for f in data["files"])
    ep = endpoint([turn(GOOD)])
    result = run_cli("-C", str(bug_repo), "fix", ISSUE, "--test", TARGET, "--candidates", "1", "--json")
    assert result.code == 0, result.err
    sent = ep.requests[0]["messages"]
    assert sent == data["messages"]
    body = "".join(m["content"] for m in sent)
    assert data["map"] in body
    assert all(s["text"] in body for f in data["files"] for s in f["spans"])
    assert data["tokens"] == sum(estimate_tokens(m["content"]) for m in sent)


def test_the_distill_profile_budget_holds_over_three_rounds(run_cli, make_repo, endpoint, monkeypatch):
    bug_repo = make_repo(repo_files(filler=40), name="stats")  # more code than the room left for it
    # A distill model with a large completion cap leaves room for the first prompt and one round's
    # feedback, so the third request must trim the oldest test output to fit.
    limit = PROFILES["distill"].context_length
    cap = limit - 3000
    monkeypatch.setenv("R1AGENT_ENDPOINT__PROFILE", "distill")
    monkeypatch.setenv("R1AGENT_ENDPOINT__MAX_TOKENS", str(cap))
    monkeypatch.setenv("R1AGENT_CONTEXT__FEEDBACK_RESERVE", "300")
    ep = endpoint([turn(STILL_WRONG), turn(STILL_WRONG), turn(STILL_WRONG)])
    result = run_cli("-C", str(bug_repo), "fix", ISSUE, "--test", TARGET, "--candidates", "1", "--rounds", "3",
                     "--json")
    assert result.code == 1, result.err
    assert len(ep.requests) == 3
    sizes = [sum(estimate_tokens(m["content"]) for m in r["messages"]) for r in ep.requests]
    print("SIZES", sizes, cap, limit)
    assert all(size + cap <= limit for size in sizes), sizes
    assert all(r["max_tokens"] == cap for r in ep.requests)
    firsts = {r["messages"][0]["content"] for r in ep.requests}
    assert len(firsts) == 1  # the pack itself is never trimmed
    assert "def mean(xs):" in next(iter(firsts))
    third = ep.requests[2]["messages"]
    assert TRIMMED in third[2]["content"] and "Test output (tail)" in third[-1]["content"]


def test_a_prompt_that_cannot_fit_is_never_sent(run_cli, bug_repo, endpoint, monkeypatch):
    monkeypatch.setenv("R1AGENT_ENDPOINT__PROFILE", "distill")
    monkeypatch.setenv("R1AGENT_ENDPOINT__MAX_TOKENS", str(PROFILES["distill"].context_length - 500))
    ep = endpoint([turn(GOOD)])
    result = run_cli("-C", str(bug_repo), "fix", ISSUE, "--test", TARGET, "--candidates", "1")
    assert result.code == 2
    errors = [line for line in result.err.splitlines() if line.startswith("r1agent: error:")]
    assert len(errors) == 1 and "no room for code" in errors[0] and result.err.rstrip().endswith(errors[0])
    assert ep.requests == []
