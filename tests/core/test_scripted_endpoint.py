"""The scripted endpoint: turn selection, script files, vLLM-named metrics, plain HTTP routes."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from r1agent.errors import EndpointError, InputError
from r1agent.llm import ChatMessage, R1Client
from r1agent.scripted import ScriptedEndpoint, ScriptedTurn, load_script, prompt_tokens, tokenize
from r1agent.settings import EndpointSettings


def client_for(endpoint: ScriptedEndpoint) -> R1Client:
    return R1Client(EndpointSettings(base_url=endpoint.base_url, max_retries=0))


def samples(endpoint: ScriptedEndpoint) -> dict[str, float]:
    """The metrics once no request is running: a handler may still be finishing after its reply arrived."""
    deadline = time.monotonic() + 5
    while True:
        text = httpx.get(endpoint.base_url.removesuffix("/v1") + "/metrics").text
        got = {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples
               if not s.name.endswith("_created") and "le" not in s.labels}
        if got["vllm:num_requests_running"] == 0 or time.monotonic() > deadline:
            return got
        time.sleep(0.01)


def test_turns_are_served_in_order_and_by_match():
    turns = [ScriptedTurn("r1", "first"), ScriptedTurn("r2", "second"),
             ScriptedTurn("rm", "matched", match=r"(?i)traceback")]
    with ScriptedEndpoint(turns) as ep:
        client = client_for(ep)
        answers = [client.complete([ChatMessage(role="user", content=text)]).choices[0].answer
                   for text in ("hello", "Here is a Traceback", "again", "traceback again")]
        assert answers == ["first", "matched", "second", "matched"]
        with pytest.raises(EndpointError, match="script is exhausted after 2 turns"):
            client.complete([ChatMessage(role="user", content="one more")])


def test_a_responder_answers_from_the_whole_conversation_before_the_script():
    def responder(messages):
        first_user = next(m["content"] for m in messages if m["role"] == "user")
        return ScriptedTurn("r", f"answer to {first_user}") if first_user.startswith("ISSUE-") else None

    with ScriptedEndpoint([ScriptedTurn("r", "scripted")], responder=responder) as ep:
        client = client_for(ep)
        first = [ChatMessage(role="user", content="ISSUE-7 parse fails")]
        follow_up = [*first, ChatMessage(role="assistant", content="x"), ChatMessage(role="user", content="Tests still fail.")]
        answers = [client.complete(m).choices[0].answer for m in (first, follow_up, [ChatMessage(role="user", content="hi")])]
    assert answers == ["answer to ISSUE-7 parse fails", "answer to ISSUE-7 parse fails", "scripted"]


def test_prefix_cache_counters_count_shared_prompt_prefixes_in_tokens():
    turns = [ScriptedTurn("r", "first answer"), ScriptedTurn("r", "second answer"), ScriptedTurn("r", "third")]
    with ScriptedEndpoint(turns) as ep:
        client = client_for(ep)
        first = [ChatMessage(role="user", content="Fix the sign bug in parse.py, please.")]
        client.complete(first)
        follow_up = [*first, ChatMessage(role="assistant", content="first answer"), ChatMessage(role="user", content="Tests still fail.")]
        client.complete(follow_up)
        client.complete([ChatMessage(role="user", content="Something else entirely.")])
        got = samples(ep)
        sizes = [len(prompt_tokens(r["messages"])) for r in ep.requests]
    # The follow-up extends the first prompt; the third shares only the chat template's "<|user|>".
    expected_hits = len(prompt_tokens([{"role": "user", "content": first[0].content}])) + len(tokenize("<|user|>"))
    assert got["vllm:prefix_cache_queries_total"] == sum(sizes)
    assert got["vllm:prefix_cache_hits_total"] == expected_hits
    assert got["vllm:prompt_tokens_total"] == sum(sizes)
    assert got["vllm:generation_tokens_total"] == sum(len(tokenize("r" + a)) for a in ("first answer", "second answer", "third"))
    assert got["vllm:time_to_first_token_seconds_count"] == 3
    assert got["vllm:num_requests_running"] == 0 and got["vllm:num_requests_waiting"] == 0
    assert 0 < got["vllm:kv_cache_usage_perc"] <= 1


def test_requests_that_overlap_each_get_the_next_turn():
    # A client may send its next request before the handler of the last one has finished; each
    # request still takes its own turn, in order of arrival.
    answers = [f"answer {k}" for k in range(6)]
    with ScriptedEndpoint([ScriptedTurn("r", a) for a in answers], token_delay=0.002) as ep:
        got: list[str] = []

        def ask(k: int) -> None:
            reply = client_for(ep).complete([ChatMessage(role="user", content=f"question {k}")])
            with lock:
                got.append(reply.choices[0].answer)

        lock = threading.Lock()
        threads = [threading.Thread(target=ask, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == answers
        assert samples(ep)["vllm:generation_tokens_total"] == sum(len(tokenize("r" + a)) for a in answers)


def test_health_models_and_unknown_routes():
    with ScriptedEndpoint([ScriptedTurn("r", "a")], model="DeepSeek-R1-Distill-Qwen-7B") as ep:
        root = ep.base_url.removesuffix("/v1")
        assert httpx.get(root + "/health").status_code == 200
        models = httpx.get(ep.base_url + "/models").json()
        assert [m["id"] for m in models["data"]] == ["DeepSeek-R1-Distill-Qwen-7B"]
        assert httpx.get(root + "/nothing").status_code == 404
        bad = httpx.post(ep.base_url + "/chat/completions", content=b"not json")
        assert bad.status_code == 400 and "messages" in bad.json()["error"]["message"]


def test_a_script_file_is_json_lines_of_turns(tmp_path):
    script = tmp_path / "demo.jsonl"
    script.write_text(
        json.dumps({"reasoning": "think", "answer": "done"}) + "\n\n"
        + json.dumps({"reasoning": "", "answer": "", "match": "n>1", "choices": [["a", "b"], ["c", "d"]]}) + "\n",
        encoding="utf-8",
    )
    turns = load_script(script)
    assert turns[0] == ScriptedTurn("think", "done")
    assert turns[1].match == "n>1" and turns[1].choice(1) == ("c", "d") and turns[1].choice(2) == ("a", "b")


@pytest.mark.parametrize(("line", "message"), [
    ('{"reasoning": "r"}', r"bad.jsonl:1: answer: Field required"),
    ('{"reasoning": "r", "answer": "a", "extra": 1}', r"bad.jsonl:1: extra: Unexpected keyword argument"),
    ('{"reasoning": "r", "answer": "a", "match": "("}', r"bad.jsonl:1: .*valid regular expression"),
    ("[1, 2]", r"bad.jsonl:1: not a script turn: expected a JSON object"),
    ("{oops", r"bad.jsonl:1: not a script turn"),
])
def test_a_bad_script_line_is_one_line_naming_file_and_line(tmp_path, line, message):
    script = tmp_path / "bad.jsonl"
    script.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        load_script(script)
    assert "\n" not in str(err.value)
