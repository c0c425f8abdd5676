"""A scripted R1 endpoint: a real HTTP server on loopback that speaks vLLM's OpenAI wire format.

It replays scripted (reasoning, answer) turns so that tests and the offline demo exercise the
real client, streaming and all, without a GPU. It can inject faults, keeps every request it
received, and serves vLLM-named Prometheus metrics.

Token counts use a simple deterministic tokenizer (``tokenize``): a token is a run of word
characters or one punctuation character, each with the whitespace before it (like BPE's
leading-space tokens). The prompt is tokenized as ``<|role|>content`` per message.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import ConfigDict, ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass

from r1agent.errors import InputError
from r1agent.reasoning import CLOSE_TAG, OPEN_TAG, WIRE_FORMS

ReasoningField = Literal["reasoning", "reasoning_content", "inline"]

_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")
# vLLM's own bucket edges for time_to_first_token_seconds.
_TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


def tokenize(text: str) -> list[str]:
    """Deterministic stand-in for a real tokenizer; the pieces join back to ``text`` exactly."""
    return _TOKEN.findall(text)


def prompt_tokens(messages: list[dict[str, Any]]) -> list[str]:
    """The tokens of a chat prompt, rendered as ``<|role|>content`` per message."""
    rendered = "".join(f"<|{m.get('role', '')}|>{m.get('content') or ''}" for m in messages)
    return tokenize(rendered + "<|assistant|>")


@pydantic_dataclass(config=ConfigDict(extra="forbid"))
class ScriptedTurn:
    """One scripted assistant turn; ``choices`` gives one (reasoning, answer) per choice for n>1."""

    reasoning: str
    answer: str
    match: str | None = None
    choices: list[tuple[str, str]] | None = None

    def __post_init__(self) -> None:
        if self.match is not None:
            try:
                re.compile(self.match)
            except re.error as e:
                raise ValueError(f"match is not a valid regular expression: {e}") from None

    def choice(self, index: int) -> tuple[str, str]:
        if self.choices:
            return self.choices[index % len(self.choices)]
        return self.reasoning, self.answer


def load_script(path: str | os.PathLike[str]) -> list[ScriptedTurn]:
    """Read a script: one JSON object per line, ``{"reasoning", "answer", "match"?, "choices"?}``."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read script: {e}") from None
    turns: list[ScriptedTurn] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            turns.append(ScriptedTurn(**data))
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "turn"
            raise InputError(f"{path}:{number}: {where}: {err['msg']}") from None
        except (ValueError, TypeError) as e:
            raise InputError(f"{path}:{number}: not a script turn: {e}") from None
    if not turns:
        raise InputError(f"{path}: the script has no turns")
    return turns


@dataclass
class Fault:
    """A fault for the next ``times`` chat requests.

    drop: close the connection after ``after_chunks`` chunks; http_500: answer HTTP 500;
    slow_first_token: wait ``seconds`` before the first token; stall: wait ``seconds`` after
    ``after_chunks`` chunks.
    """

    kind: Literal["drop", "http_500", "slow_first_token", "stall"]
    times: int = 1
    after_chunks: int = 2
    seconds: float = 1.0


class _Metrics:
    """vLLM's metric names, in one registry per endpoint so that servers never share counts."""

    def __init__(self, model: str):
        self.registry = CollectorRegistry()
        label = ["model_name"]

        def counter(name: str, doc: str) -> Counter:
            return Counter(name, doc, label, registry=self.registry)

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, label, registry=self.registry)

        self.prefix_queries = counter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.").labels(model)
        self.prefix_hits = counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.").labels(model)
        self.prompt_tokens = counter("vllm:prompt_tokens", "Number of prefill tokens processed.").labels(model)
        self.generation_tokens = counter("vllm:generation_tokens", "Number of generation tokens processed.").labels(model)
        self.running = gauge("vllm:num_requests_running", "Number of requests in model execution batches.").labels(model)
        self.waiting = gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.").labels(model)
        self.kv_usage = gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.").labels(model)
        # The name vLLM used for the same gauge before it was renamed; older dashboards read it.
        self.gpu_usage = gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.").labels(model)
        self.ttft = Histogram(
            "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", label,
            buckets=_TTFT_BUCKETS, registry=self.registry,
        ).labels(model)


class ScriptedEndpoint:
    """Serves scripted turns on 127.0.0.1 in a background thread; use it as a context manager."""

    def __init__(
        self,
        turns: list[ScriptedTurn],
        *,
        reasoning_field: ReasoningField = "reasoning",
        model: str = "deepseek-r1",
        port: int = 0,
        chunk_size: int = 3,
        token_delay: float = 0.0,
        think_opener: bool = True,
        report_reasoning_tokens: bool = False,
        kv_cache_tokens: int = 1_000_000,
        ignores_n: bool = False,
        max_context: int | None = None,
        responder: Callable[[list[dict[str, Any]]], ScriptedTurn | None] | None = None,
    ):
        if reasoning_field not in WIRE_FORMS:
            raise InputError(f"reasoning field {reasoning_field!r}: expected one of {', '.join(WIRE_FORMS)}")
        self.turns = list(turns)
        self.reasoning_field = reasoning_field
        self.model = model
        self.chunk_size = max(1, chunk_size)
        self.token_delay = token_delay
        self.think_opener = think_opener  # inline form only: False mimics a template that opened <think>
        self.report_reasoning_tokens = report_reasoning_tokens  # as the DeepSeek API does; vLLM does not
        self.kv_cache_tokens = kv_cache_tokens
        self.ignores_n = ignores_n  # answer one choice whatever n asks, as an endpoint without n does
        self.max_context = max_context  # refuse longer requests with vLLM's HTTP 400
        # Asked first with the whole conversation: a turn computed from it (a benchmark's per-instance answer),
        # or None to fall back to the script.
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.metrics = _Metrics(model)
        self._ordered = [t for t in self.turns if t.match is None]
        self._cursor = 0
        self._replay: list[int] = []  # ordered turns whose reply failed: served again, first come first
        self._faults: deque[tuple[Fault, int]] = deque()  # (fault, requests it still hits)
        self._prompts: list[list[str]] = []
        self._cached_tokens = 0
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", port), _Handler)
        self._server.endpoint = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedEndpoint:
        # A short poll keeps stop() quick; tests start and stop many endpoints.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="scripted-endpoint",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI's mode)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> ScriptedEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, fault: Fault) -> None:
        """Queue a fault; each chat request takes the fault at the head of the queue."""
        with self._lock:
            self._faults.append((fault, fault.times))

    def metrics_text(self) -> str:
        return generate_latest(self.metrics.registry).decode()

    # --- used by the request handler -------------------------------------------------------

    def _take_fault(self) -> Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault, left = self._faults[0]
            if left <= 1:
                self._faults.popleft()
            else:
                self._faults[0] = (fault, left - 1)
            return fault

    def _select_turn(self, messages: list[dict[str, Any]]) -> tuple[ScriptedTurn | None, int | None]:
        """The turn for this request, and its position among the ordered turns (None for a match).

        An ordered turn is taken when it is selected, not when its reply is done: a client may send the
        next request before this handler has finished, and must get the next turn, not this one again."""
        if self.responder is not None and (answered := self.responder(messages)) is not None:
            return answered, None
        last_user = next((str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), "")
        for turn in self.turns:
            if turn.match is not None and re.search(turn.match, last_user):
                return turn, None
        with self._lock:
            if self._replay:
                position = min(self._replay)
                self._replay.remove(position)
            elif self._cursor < len(self._ordered):
                position = self._cursor
                self._cursor += 1
            else:
                return None, None
        return self._ordered[position], position

    def _release_turn(self, position: int | None) -> None:
        """Give back an ordered turn whose reply failed (a scripted fault): a retry is served it again."""
        if position is not None:
            with self._lock:
                self._replay.append(position)

    def _account_prompt(self, messages: list[dict[str, Any]]) -> int:
        """Count prefix-cache queries and hits in tokens, as vLLM's counters do; return the prompt size."""
        tokens = prompt_tokens(messages)
        with self._lock:
            hit = max((len(os.path.commonprefix([tokens, earlier])) for earlier in self._prompts), default=0)
            self._prompts.append(tokens)
            self._cached_tokens += len(tokens) - hit
            usage = min(1.0, self._cached_tokens / self.kv_cache_tokens)
        self.metrics.prefix_queries.inc(len(tokens))
        self.metrics.prefix_hits.inc(hit)
        self.metrics.prompt_tokens.inc(len(tokens))
        self.metrics.kv_usage.set(usage)
        self.metrics.gpu_usage.set(usage)
        return len(tokens)

    def _wire_text(self, reasoning: str, answer: str) -> tuple[str, str]:
        """(reasoning field text, content text) as this endpoint puts them on the wire."""
        if self.reasoning_field == "inline":
            opener = OPEN_TAG if self.think_opener else ""
            return "", f"{opener}\n{reasoning}\n{CLOSE_TAG}\n\n{answer}"
        return reasoning, answer


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (timeouts, retries, cancels) are normal here, not tracebacks."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, as vLLM's server speaks
    server_version = "r1agent-scripted/1"

    @property
    def endpoint(self) -> ScriptedEndpoint:
        return self.server.endpoint  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Quiet: the tests and the CLI report what matters themselves."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path == "/health":
            self._send(200, b"", "text/plain")
        elif self.path == "/v1/models":
            ep = self.endpoint
            model = {"id": ep.model, "object": "model", "created": int(time.time()), "owned_by": "vllm",
                     "root": ep.model, "parent": None, "max_model_len": 131072}
            self._send_json(200, {"object": "list", "data": [model]})
        elif self.path == "/metrics":
            self._send(200, self.endpoint.metrics_text().encode(), "text/plain; version=0.0.4; charset=utf-8")
        else:
            self._error(404, f"no route for GET {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path != "/v1/chat/completions":
            self._error(404, f"no route for POST {self.path}")
            return
        try:
            body = json.loads(raw)
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                raise ValueError("no messages list")
            messages = body["messages"]
        except ValueError:
            self._error(400, "expected a JSON body with a 'messages' list")
            return
        ep = self.endpoint
        with ep._lock:
            ep.requests.append(body)
        if body.get("model") != ep.model:
            self._error(404, f"The model `{body.get('model')}` does not exist.")
            return
        if ep.max_context is not None:
            asked = sum(len(tokenize(str(m.get("content", "")))) for m in messages)
            cap = int(body.get("max_tokens") or 0)
            if asked + cap > ep.max_context:
                self._error(400, f"This model's maximum context length is {ep.max_context} tokens. However, you "
                                 f"requested {asked + cap} tokens ({asked} in the messages, {cap} in the completion). "
                                 "Please reduce the length of the messages or completion.")
                return
        if ep.ignores_n:
            body = {**body, "n": 1}
        fault = ep._take_fault()
        if fault and fault.kind == "http_500":
            self._error(500, "scripted fault: internal server error")
            return
        turn, position = ep._select_turn(messages)
        if turn is None:
            self._error(400, f"scripted endpoint: the script is exhausted after {len(ep._ordered)} turns")
            return
        ep.metrics.running.inc()
        completed = False
        try:
            if body.get("stream"):
                completed = self._stream(body, turn, fault)
            else:
                completed = self._reply_whole(body, turn, fault)
        except (BrokenPipeError, ConnectionResetError):
            completed = True  # the client gave up (an idle timeout): the turn was served
            self.close_connection = True
        finally:
            if completed:  # counted before the request stops running, so an idle endpoint's counters are final
                ep.metrics.generation_tokens.inc(self._usage(body, turn, 0)["completion_tokens"])
            else:
                ep._release_turn(position)
            ep.metrics.running.dec()

    # --- chat completions -------------------------------------------------------------------

    def _usage(self, body: dict[str, Any], turn: ScriptedTurn, n_prompt: int) -> dict[str, Any]:
        ep = self.endpoint
        completion = reasoning = 0
        for i in range(int(body.get("n") or 1)):
            r, a = turn.choice(i)
            field_text, content = ep._wire_text(r, a)
            completion += len(tokenize(field_text + content))
            reasoning += len(tokenize(r))
        usage: dict[str, Any] = {"prompt_tokens": n_prompt, "completion_tokens": completion,
                                 "total_tokens": n_prompt + completion}
        if ep.report_reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        return usage

    def _reply_whole(self, body: dict[str, Any], turn: ScriptedTurn, fault: Fault | None) -> bool:
        ep = self.endpoint
        started = time.monotonic()
        n_prompt = ep._account_prompt(body["messages"])
        if fault and fault.kind in ("slow_first_token", "stall"):
            time.sleep(fault.seconds)
        if fault and fault.kind == "drop":
            self._drop()
            return False
        choices = []
        for i in range(int(body.get("n") or 1)):
            r, a = turn.choice(i)
            field_text, content = ep._wire_text(r, a)
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if ep.reasoning_field != "inline":
                message[ep.reasoning_field] = field_text
            choices.append({"index": i, "message": message, "logprobs": None, "finish_reason": "stop"})
        ep.metrics.ttft.observe(time.monotonic() - started)
        self._send_json(200, {"id": f"chatcmpl-{id(body):x}", "object": "chat.completion", "created": int(time.time()),
                              "model": ep.model, "choices": choices, "usage": self._usage(body, turn, n_prompt)})
        return True

    def _stream(self, body: dict[str, Any], turn: ScriptedTurn, fault: Fault | None) -> bool:
        ep = self.endpoint
        started = time.monotonic()
        n_prompt = ep._account_prompt(body["messages"])
        n = int(body.get("n") or 1)
        head = {"id": f"chatcmpl-{id(body):x}", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": ep.model}

        def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**head, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        # One queue of deltas per choice: reasoning pieces first, then content pieces.
        queues: list[deque[dict[str, Any]]] = []
        for i in range(n):
            field_text, content = ep._wire_text(*turn.choice(i))
            deltas: deque[dict[str, Any]] = deque()
            for name, text in ((ep.reasoning_field, field_text), ("content", content)):
                tokens = tokenize(text)
                for k in range(0, len(tokens), ep.chunk_size):
                    deltas.append({name: "".join(tokens[k:k + ep.chunk_size])})
            queues.append(deltas)

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(n):
            self._event(chunk(i, {"role": "assistant", "content": ""}))
        if fault and fault.kind == "slow_first_token":
            time.sleep(fault.seconds)
        sent = 0
        first = True
        while any(queues):
            for i, deltas in enumerate(queues):
                if not deltas:
                    continue
                if fault and sent == fault.after_chunks:
                    if fault.kind == "drop":
                        self._drop()
                        return False
                    if fault.kind == "stall":
                        time.sleep(fault.seconds)
                self._event(chunk(i, deltas.popleft()))
                sent += 1
                if first:
                    ep.metrics.ttft.observe(time.monotonic() - started)
                    first = False
            if ep.token_delay:
                time.sleep(ep.token_delay)
        for i in range(n):
            self._event(chunk(i, {}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event({**head, "choices": [], "usage": self._usage(body, turn, n_prompt)})
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")
        return True

    # --- wire helpers -----------------------------------------------------------------------

    def _event(self, data: dict[str, Any]) -> None:
        self._write_chunk(f"data: {json.dumps(data)}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Cut the connection as a crashed server would: no closing chunk, no [DONE]."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        kind = {400: "BadRequestError", 404: "NotFoundError"}.get(status, "InternalServerError")
        self._send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": status}})
