"""The R1 client against a real scripted endpoint on loopback: wire forms, prompts, faults, usage."""

from __future__ import annotations

import threading
import time

import pytest
from testkit import html_server as serve_html

from r1agent.errors import EndpointError
from r1agent.events import AnswerDelta, Message, ModelCallDone, ReasoningDelta
from r1agent.llm import CallCancelled, ChatMessage, R1Client
from r1agent.scripted import Fault, ScriptedEndpoint, ScriptedTurn, prompt_tokens, tokenize
from r1agent.settings import EndpointSettings

REASONING = "The failing test calls parse('-1'). The sign is dropped in parse(), so keep it."
ANSWER = "In parse.py, replace `abs(value)` with `value`."
TURN = ScriptedTurn(reasoning=REASONING, answer=ANSWER)

WIRE_FORMS = [("reasoning", True), ("reasoning_content", True), ("inline", True), ("inline", False)]


def client_for(endpoint: ScriptedEndpoint, **settings) -> R1Client:
    settings.setdefault("idle_timeout", 5.0)
    settings.setdefault("max_retries", 2)
    return R1Client(EndpointSettings(base_url=endpoint.base_url, **settings), retry_backoff_s=0.01)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize(("form", "opener"), WIRE_FORMS, ids=["reasoning", "reasoning_content", "inline", "inline-no-opener"])
def test_every_wire_form_gives_the_same_split(form, opener, stream):
    events = []
    with ScriptedEndpoint([TURN], reasoning_field=form, think_opener=opener) as ep:
        result = client_for(ep).complete([ChatMessage(role="user", content="fix it")], on_event=events.append, stream=stream)
        sent = ep.requests[-1]
    (choice,) = result.choices
    assert (choice.reasoning, choice.answer, choice.finish_reason) == (REASONING, ANSWER, "stop")
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)).strip() == REASONING
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta)).strip() == ANSWER
    assert bool(sent.get("stream")) is stream
    # Usage is the endpoint's own count, and the call is announced once with it.
    assert result.usage.prompt_tokens == len(prompt_tokens(sent["messages"]))
    assert result.usage.completion_tokens > result.usage.reasoning_tokens > 0
    done = [e for e in events if isinstance(e, ModelCallDone)]
    assert len(done) == 1 and done[0].completion_tokens == result.usage.completion_tokens
    assert (result.usage.ttft_s is not None) is stream
    assert result.usage.duration_s >= (result.usage.ttft_s or 0)


def test_reported_reasoning_tokens_are_used_as_given():
    with ScriptedEndpoint([TURN], report_reasoning_tokens=True) as ep:
        result = client_for(ep).complete([ChatMessage(role="user", content="fix it")])
    assert result.usage.reasoning_tokens == len(tokenize(REASONING))
    assert result.usage.completion_tokens == len(tokenize(REASONING + ANSWER))


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_n_choices_are_all_returned(stream):
    turn = ScriptedTurn(reasoning="", answer="", choices=[("think one", "answer one"), ("think two", "answer two"),
                                                          ("think three", "answer three")])
    events = []
    with ScriptedEndpoint([turn]) as ep:
        result = client_for(ep).complete([ChatMessage(role="user", content="fix")], n=3, on_event=events.append, stream=stream)
        assert ep.requests[-1]["n"] == 3
    assert [(c.index, c.reasoning, c.answer) for c in result.choices] == [
        (0, "think one", "answer one"), (1, "think two", "answer two"), (2, "think three", "answer three")]
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta) and e.index == 1) == "answer two"


def test_original_r1_gets_no_system_prompt_and_never_its_reasoning_back():
    turns = [ScriptedTurn(reasoning="first thoughts", answer="first answer"),
             ScriptedTurn(reasoning="second thoughts", answer="second answer")]
    with ScriptedEndpoint(turns, reasoning_field="inline") as ep:
        client = client_for(ep, profile="r1")
        first = client.build_messages("You fix bugs.", "Issue: parse drops the sign.")
        reply = client.complete(first).choices[0]
        # History holds the earlier turns without instructions, and of each reply its answer alone:
        # the reasoning was split off as it arrived.
        history = [ChatMessage(role="user", content="Issue: parse drops the sign."), ChatMessage(role="assistant", content=reply.answer)]
        second = client.build_messages("You fix bugs.", "Tests still fail: test_neg.", history)
        client.complete(second)
        sent_first, sent_second = (r["messages"] for r in ep.requests)
    assert sent_first == [{"role": "user", "content": "You fix bugs.\n\nIssue: parse drops the sign."}]
    assert sent_second == [
        {"role": "user", "content": "You fix bugs.\n\nIssue: parse drops the sign."},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "Tests still fail: test_neg."},
    ]
    assert all(m["role"] != "system" for r in ep.requests for m in r["messages"])
    assert not any("thoughts" in m["content"] for r in ep.requests for m in r["messages"])
    # DeepSeek's sampling advice, from the profile.
    assert (ep.requests[0]["temperature"], ep.requests[0]["top_p"]) == (0.6, 0.95)


def test_r1_0528_gets_the_instructions_as_a_system_prompt():
    with ScriptedEndpoint([TURN]) as ep:
        client = client_for(ep, profile="r1-0528", temperature=0.3)
        client.complete(client.build_messages("You fix bugs.", "Issue: parse drops the sign."))
        sent = ep.requests[-1]
    assert sent["messages"] == [{"role": "system", "content": "You fix bugs."},
                                {"role": "user", "content": "Issue: parse drops the sign."}]
    assert sent["temperature"] == 0.3


def test_a_stream_dropped_midway_is_retried_and_the_retry_announced():
    events = []
    with ScriptedEndpoint([TURN]) as ep:
        ep.inject(Fault("drop", after_chunks=4))
        client = client_for(ep)
        result = client.complete([ChatMessage(role="user", content="fix it")], on_event=events.append)
        assert len(ep.requests) == 2 and ep.requests[0] == ep.requests[1]
    assert (result.choices[0].reasoning, result.choices[0].answer) == (REASONING, ANSWER)
    retry = [e for e in events if isinstance(e, Message)]
    assert len(retry) == 1 and retry[0].level == "warning" and "retrying" in retry[0].text
    # Deltas before the retry notice belong to the lost attempt; those after it make up the answer.
    after = events[events.index(retry[0]) + 1:]
    assert "".join(e.text for e in after if isinstance(e, ReasoningDelta)).strip() == REASONING
    assert len(client.last_calls) == 1


def test_drops_beyond_the_retries_end_in_one_line_endpoint_error():
    with ScriptedEndpoint([TURN]) as ep:
        ep.inject(Fault("drop", after_chunks=2, times=3))
        with pytest.raises(EndpointError, match=r"failed after 3 attempts: the stream broke off") as err:
            client_for(ep, max_retries=2).complete([ChatMessage(role="user", content="fix it")])
        assert len(ep.requests) == 3
    assert "\n" not in str(err.value)


def test_http_500_is_retried():
    with ScriptedEndpoint([TURN]) as ep:
        ep.inject(Fault("http_500", times=2))
        result = client_for(ep, max_retries=2).complete([ChatMessage(role="user", content="fix it")])
        assert len(ep.requests) == 3
    assert result.choices[0].answer == ANSWER


def test_a_stall_longer_than_the_idle_timeout_is_an_error_not_a_hang():
    with ScriptedEndpoint([TURN]) as ep:
        ep.inject(Fault("stall", after_chunks=3, seconds=3.0))
        with pytest.raises(EndpointError, match=r"sent nothing for 0.3s .*idle_timeout"):
            client_for(ep, idle_timeout=0.3).complete([ChatMessage(role="user", content="fix it")])
        assert len(ep.requests) == 1  # a stalled server is not hammered with retries


def test_a_slow_first_token_within_the_idle_timeout_is_waited_for_and_timed():
    with ScriptedEndpoint([TURN]) as ep:
        ep.inject(Fault("slow_first_token", seconds=0.4))
        result = client_for(ep, idle_timeout=2.0).complete([ChatMessage(role="user", content="fix it")])
    assert result.choices[0].answer == ANSWER
    assert result.usage.ttft_s >= 0.4


def test_cancel_ends_a_stalled_call():
    cancel = threading.Event()
    with ScriptedEndpoint([TURN]) as ep:
        ep.inject(Fault("stall", after_chunks=2, seconds=20.0))
        threading.Timer(0.2, cancel.set).start()
        started = time.monotonic()
        with pytest.raises(CallCancelled):
            client_for(ep, idle_timeout=30.0).complete([ChatMessage(role="user", content="fix it")], cancel=cancel)
    assert time.monotonic() - started < 10  # it did not wait for the stall to end


def test_auto_takes_the_first_served_model_and_a_missing_model_is_named():
    with ScriptedEndpoint([TURN], model="DeepSeek-R1-0528") as ep:
        assert client_for(ep, model="auto").resolve_model() == "DeepSeek-R1-0528"
        with pytest.raises(EndpointError, match=r"model 'deepseek-r1' is not served .* it serves: DeepSeek-R1-0528"):
            client_for(ep, model="deepseek-r1").check()


def test_an_unreachable_endpoint_is_one_line():
    with ScriptedEndpoint([TURN]) as ep:
        url = ep.base_url
    with pytest.raises(EndpointError, match=r"cannot reach the endpoint at http://127.0.0.1:\d+/v1"):
        R1Client(EndpointSettings(base_url=url, connect_timeout=2)).check()


@pytest.fixture
def html_server():
    with serve_html(b"<html><body>It works!</body></html>") as url:
        yield url


def test_a_plain_web_server_is_not_openai_compatible(html_server):
    with pytest.raises(EndpointError, match=r"is not an OpenAI-compatible endpoint: .*text/html"):
        R1Client(EndpointSettings(base_url=html_server)).check()


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_an_endpoint_that_ignores_n_still_yields_n_choices(stream):
    turns = [ScriptedTurn(reasoning=f"idea {i}", answer=f"answer {i}") for i in range(3)]
    events = []
    with ScriptedEndpoint(turns, ignores_n=True) as ep:
        result = client_for(ep).complete([ChatMessage(role="user", content="fix it")], n=3, on_event=events.append, stream=stream)
        asked = [r.get("n") for r in ep.requests]
    assert [c.index for c in result.choices] == [0, 1, 2]
    assert sorted(c.answer for c in result.choices) == ["answer 0", "answer 1", "answer 2"]
    assert asked == [3, 1, 1]  # one request for all three, then the two it did not draw, one at a time
    assert any(isinstance(e, Message) and "1 of 3 choices" in e.text for e in events)
    if stream:
        assert {e.index for e in events if isinstance(e, AnswerDelta)} == {0, 1, 2}
    assert result.usage.completion_tokens > 0


def test_a_prompt_over_the_context_length_gives_one_line_with_sizes():
    from r1agent.errors import PromptTooLongError

    with ScriptedEndpoint([TURN], max_context=50) as ep:
        with pytest.raises(PromptTooLongError) as info:
            client_for(ep, max_tokens=40).complete([ChatMessage(role="user", content="word " * 30)])
        assert len(ep.requests) == 1  # not retried
    message = str(info.value)
    assert "\n" not in message and "limit of 50 tokens" in message and "31 tokens and max_tokens is 40" in message


def test_an_answer_quoting_the_think_tag_goes_back_unchanged():
    answer = 'Fix: TAG = "</think>" in parse.py, then the rest of the answer.'
    with ScriptedEndpoint([ScriptedTurn(reasoning="r", answer=answer), TURN]) as ep:
        client = client_for(ep)
        first = client.complete([ChatMessage(role="user", content="fix it")]).choices[0]
        assert first.answer == answer
        history = [ChatMessage(role="user", content="fix it"), ChatMessage(role="assistant", content=first.answer)]
        client.complete(client.build_messages("", "again", history))
        sent = ep.requests[-1]["messages"]
    assert sent[1] == {"role": "assistant", "content": answer}
