"""The R1 model client: the OpenAI SDK pointed at any OpenAI-compatible endpoint, plus R1's rules.

It splits reasoning from the answer in every wire form (see ``r1agent.reasoning``), builds
prompts by the model profile (system prompt or not; reasoning never goes back into history),
times out on idle gaps between chunks rather than on whole generations, retries connect
errors, 5xx and dropped streams with backoff, and records tokens, TTFT and duration per call.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import openai
from pydantic import BaseModel, ValidationError

from r1agent.errors import EndpointError, PromptTooLongError
from r1agent.events import AnswerDelta, EventSink, Message, ModelCallDone, ReasoningDelta, ignore
from r1agent.messages import ChatMessage, build_messages
from r1agent.profiles import PROFILES, ModelProfile
from r1agent.reasoning import Piece, ReasoningSplitter
from r1agent.settings import EndpointSettings


@dataclass(frozen=True)
class Usage:
    """What one model call cost; kept per call for the run record."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    ttft_s: float | None
    duration_s: float


@dataclass(frozen=True)
class Choice:
    index: int
    reasoning: str
    answer: str
    finish_reason: str | None


@dataclass(frozen=True)
class Completion:
    choices: list[Choice]
    usage: Usage
    model: str


class CallCancelled(Exception):
    """The caller set the cancel event; the request was closed and nothing was returned."""


class _Retryable(Exception):
    """One attempt failed in a way that a fresh request may fix."""


class _ModelEntry(BaseModel):
    id: str


class _ModelList(BaseModel):
    data: list[_ModelEntry]


def _estimate_tokens(text: str) -> int:
    """Rough count (4 characters a token) for when the endpoint reports no usage."""
    return (len(text) + 3) // 4


class R1Client:
    """Talks to one endpoint with one model profile. Not shared between threads."""

    def __init__(
        self,
        endpoint: EndpointSettings,
        *,
        http_client: Any = None,
        retry_backoff_s: float = 0.5,
        retry_backoff_max_s: float = 8.0,
    ):
        self.endpoint = endpoint
        self.profile: ModelProfile = PROFILES[endpoint.profile]
        self.retry_backoff_s = retry_backoff_s
        self.retry_backoff_max_s = retry_backoff_max_s
        self.last_calls: list[Usage] = []
        self._model: str | None = None
        # The read timeout is per read, i.e. the idle gap between chunks, never the whole call.
        timeout = openai.Timeout(
            connect=endpoint.connect_timeout, read=endpoint.idle_timeout, write=endpoint.connect_timeout,
            pool=endpoint.connect_timeout,
        )
        extra = {"http_client": http_client} if http_client is not None else {}
        self._sdk = openai.OpenAI(
            base_url=endpoint.base_url, api_key=endpoint.api_key, timeout=timeout, max_retries=0, **extra
        )

    # --- the model ---------------------------------------------------------------------------

    def resolve_model(self) -> str:
        """The served model to use: the configured one, checked, or the first of /v1/models for 'auto'."""
        if self._model is None:
            served = self._served_models()
            wanted = self.endpoint.model
            if wanted == "auto":
                if not served:
                    raise EndpointError(f"{self.endpoint.base_url} serves no models (GET /models is empty)")
                self._model = served[0]
            elif wanted in served:
                self._model = wanted
            else:
                raise EndpointError(
                    f"model {wanted!r} is not served by {self.endpoint.base_url}; it serves: {', '.join(served)}"
                    " (set endpoint.model, or 'auto')"
                )
        return self._model

    def check(self) -> str:
        """Fail early, with one line, if the endpoint cannot be used; return the model id."""
        return self.resolve_model()

    def _served_models(self) -> list[str]:
        url = self.endpoint.base_url
        try:
            raw = self._sdk.models.with_raw_response.list()
        except openai.APITimeoutError:
            raise EndpointError(f"cannot reach the endpoint at {url}: timed out") from None
        except openai.APIConnectionError as e:
            raise EndpointError(f"cannot reach the endpoint at {url}: {_cause(e)}") from None
        except openai.APIStatusError as e:
            raise EndpointError(
                f"{url} is not an OpenAI-compatible endpoint: GET /models answered HTTP {e.status_code}"
            ) from None
        response = raw.http_response
        try:
            return [m.id for m in _ModelList.model_validate_json(response.content).data]
        except ValidationError:
            kind = response.headers.get("content-type", "unknown content").split(";")[0]
            raise EndpointError(
                f"{url} is not an OpenAI-compatible endpoint: GET /models did not return a model list ({kind})"
            ) from None

    # --- prompts -----------------------------------------------------------------------------

    def build_messages(
        self, instructions: str, prompt: str, history: Sequence[ChatMessage] = ()
    ) -> list[ChatMessage]:
        return build_messages(self.profile, instructions, prompt, history)

    # --- completions -------------------------------------------------------------------------

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        n: int = 1,
        max_tokens: int | None = None,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
        stream: bool = True,
    ) -> Completion:
        """One request for ``n`` choices, retried on transient failures; raises EndpointError."""
        model = self.resolve_model()
        emit = on_event or ignore
        request = {
            "model": model,
            # History holds answers only (reasoning is split off as it arrives and never kept), so turns go
            # as they are: an answer whose code holds "</think>" must not be cut again.
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "n": n,
            "temperature": self.endpoint.temperature if self.endpoint.temperature is not None else self.profile.temperature,
            "top_p": self.endpoint.top_p if self.endpoint.top_p is not None else self.profile.top_p,
            "max_tokens": max_tokens or self.endpoint.max_tokens or self.profile.max_tokens,
        }
        attempts = self.endpoint.max_retries + 1
        for attempt in range(1, attempts + 1):
            if cancel is not None and cancel.is_set():
                raise CallCancelled()
            try:
                if stream:
                    completion = self._stream_once(request, model, emit, cancel)
                else:
                    completion = self._whole_once(request, model, emit)
            except _Retryable as e:
                if attempt == attempts:
                    raise EndpointError(f"model call failed after {attempts} attempts: {e}") from None
                delay = min(self.retry_backoff_max_s, self.retry_backoff_s * 2 ** (attempt - 1))
                emit(Message(
                    f"model call failed ({e}); retrying in {delay:.1f}s (attempt {attempt + 1} of {attempts})",
                    level="warning", extra={"retry": attempt, "supersedes_previous_deltas": True},
                ))
                if cancel is not None and cancel.wait(delay):
                    raise CallCancelled() from None
                if cancel is None:
                    time.sleep(delay)
                continue
            if len(completion.choices) < n:
                completion = self._fill_choices(completion, request, n, emit, cancel, stream)
            self.last_calls.append(completion.usage)
            u = completion.usage
            emit(ModelCallDone(u.prompt_tokens, u.completion_tokens, u.reasoning_tokens, u.ttft_s, u.duration_s))
            return completion
        raise AssertionError("unreachable: the loop returns or raises")

    def _fill_choices(
        self, got: Completion, request: dict[str, Any], n: int, emit: EventSink, cancel: threading.Event | None,
        stream: bool,
    ) -> Completion:
        """An endpoint that ignores ``n`` (the DeepSeek API has none) answered fewer choices: draw the rest
        as concurrent single requests, numbered after the ones that came."""
        missing = n - len(got.choices)
        emit(Message(f"the endpoint answered {len(got.choices)} of {n} choices; asking for the other {missing} "
                     "one at a time", level="warning"))

        def one(k: int) -> Completion:
            index = len(got.choices) + k  # its deltas are numbered as the choice it becomes

            def relay(e) -> None:
                emit(type(e)(index, e.text) if isinstance(e, ReasoningDelta | AnswerDelta) else e)

            single = {**request, "n": 1}
            return self._stream_once(single, got.model, relay, cancel) if stream else \
                self._whole_once(single, got.model, relay)

        with ThreadPoolExecutor(missing, thread_name_prefix="r1agent-choice") as pool:
            try:
                extra = list(pool.map(one, range(missing)))
            except _Retryable as e:
                raise EndpointError(f"a single-choice request failed: {e}") from None
        choices = [*got.choices, *(Choice(len(got.choices) + k, c.reasoning, c.answer, c.finish_reason)
                                   for k, r in enumerate(extra) for c in r.choices[:1])]
        usages = [got.usage, *(r.usage for r in extra)]
        usage = Usage(sum(u.prompt_tokens for u in usages), sum(u.completion_tokens for u in usages),
                      sum(u.reasoning_tokens for u in usages), got.usage.ttft_s,
                      max(u.duration_s for u in usages))
        return Completion(choices, usage, got.model)

    def _open(self, request: dict[str, Any], **extra: Any) -> Any:
        """Send the request, sorting failures into retryable and final ones."""
        try:
            return self._sdk.chat.completions.create(**request, **extra)
        except openai.APITimeoutError:
            raise EndpointError(
                f"no answer from {self.endpoint.base_url} within {self.endpoint.idle_timeout:g}s (endpoint.idle_timeout)"
            ) from None
        except openai.APIConnectionError as e:
            raise _Retryable(f"cannot connect to {self.endpoint.base_url}: {_cause(e)}") from None
        except openai.APIStatusError as e:
            if e.status_code >= 500:
                raise _Retryable(f"HTTP {e.status_code} from the endpoint") from None
            text = _error_text(e)
            if e.status_code == 400 and _TOO_LONG.search(text):
                raise PromptTooLongError(_too_long(text, request)) from None
            raise EndpointError(f"the endpoint refused the request: HTTP {e.status_code}: {text}") from None

    def _stream_once(
        self, request: dict[str, Any], model: str, emit: EventSink, cancel: threading.Event | None
    ) -> Completion:
        started = time.monotonic()
        ttft: float | None = None
        n = request["n"]
        splitters = [ReasoningSplitter() for _ in range(n)]
        finish: list[str | None] = [None] * n
        seen = [False] * n
        usage_seen: Any = None
        stream = self._open(request, stream=True, stream_options={"include_usage": True})
        try:
            for chunk in _chunks_until_cancelled(stream, cancel):
                if chunk.usage is not None:
                    usage_seen = chunk.usage
                for c in chunk.choices:
                    if not 0 <= c.index < n:
                        continue
                    seen[c.index] = True
                    delta = c.delta
                    reasoning = getattr(delta, "reasoning", None) or getattr(delta, "reasoning_content", None)
                    pieces = splitters[c.index].feed_reasoning(reasoning or "")
                    pieces += splitters[c.index].feed_content(delta.content or "")
                    if (reasoning or delta.content) and ttft is None:
                        ttft = time.monotonic() - started
                    _emit_pieces(emit, c.index, pieces)
                    if c.finish_reason is not None:
                        finish[c.index] = c.finish_reason
        except openai.APITimeoutError:
            raise EndpointError(
                f"the endpoint sent nothing for {self.endpoint.idle_timeout:g}s mid-answer (endpoint.idle_timeout)"
            ) from None
        except openai.APIConnectionError as e:
            raise _Retryable(f"the stream broke off: {_cause(e)}") from None
        except openai.APIError as e:
            raise EndpointError(f"the endpoint reported an error mid-stream: {e.message}") from None
        finally:
            stream.close()
        # Choices that never appeared were not drawn (an endpoint that ignores n); a choice cut short is a break.
        came = [i for i in range(n) if seen[i]]
        if any(finish[i] is None for i in came) or not came:
            raise _Retryable("the stream ended before every choice finished")
        for i in came:
            _emit_pieces(emit, i, splitters[i].finish())
        choices = [Choice(i, splitters[i].reasoning, splitters[i].answer, finish[i]) for i in came]
        return Completion(choices, _usage(usage_seen, choices, ttft, time.monotonic() - started), model)

    def _whole_once(self, request: dict[str, Any], model: str, emit: EventSink) -> Completion:
        """The non-streamed form: the same split, for endpoints or callers that do not stream."""
        started = time.monotonic()
        response = self._open(request)
        choices = []
        for c in response.choices:
            msg = c.message
            reasoning = getattr(msg, "reasoning", None) or getattr(msg, "reasoning_content", None)
            splitter = ReasoningSplitter()
            pieces = splitter.feed_reasoning(reasoning or "") + splitter.feed_content(msg.content or "")
            _emit_pieces(emit, c.index, pieces + splitter.finish())
            choices.append(Choice(c.index, splitter.reasoning, splitter.answer, c.finish_reason))
        choices.sort(key=lambda c: c.index)
        duration = time.monotonic() - started
        return Completion(choices, _usage(response.usage, choices, None, duration), model)


def _emit_pieces(emit: EventSink, index: int, pieces: list[Piece]) -> None:
    for p in pieces:
        emit(ReasoningDelta(index, p.text) if p.kind == "reasoning" else AnswerDelta(index, p.text))


def _usage(reported: Any, choices: list[Choice], ttft: float | None, duration: float) -> Usage:
    """Token counts as reported; reasoning tokens estimated by share of text when not reported."""
    reasoning_chars = sum(len(c.reasoning) for c in choices)
    all_chars = reasoning_chars + sum(len(c.answer) for c in choices)
    if reported is None:
        completion = sum(_estimate_tokens(c.reasoning) + _estimate_tokens(c.answer) for c in choices)
        return Usage(0, completion, sum(_estimate_tokens(c.reasoning) for c in choices), ttft, duration)
    details = getattr(reported, "completion_tokens_details", None)
    reasoning = getattr(details, "reasoning_tokens", None) if details is not None else None
    if reasoning is None:
        reasoning = round(reported.completion_tokens * reasoning_chars / all_chars) if all_chars else 0
    return Usage(reported.prompt_tokens, reported.completion_tokens, reasoning, ttft, duration)


def _chunks_until_cancelled(stream: Any, cancel: threading.Event | None) -> Iterator[Any]:
    """Yield the stream's chunks; a blocked socket read cannot be interrupted, so when a cancel
    event is given the reading happens in a helper thread and cancelling returns at once."""
    if cancel is None:
        yield from stream
        return
    inbox: queue.Queue[tuple[str, Any]] = queue.Queue()

    def read() -> None:
        try:
            for chunk in stream:
                inbox.put(("chunk", chunk))
            inbox.put(("end", None))
        except BaseException as e:  # handed to the consumer, which re-raises it
            inbox.put(("error", e))

    threading.Thread(target=read, name="r1-stream-reader", daemon=True).start()
    while True:
        try:
            kind, item = inbox.get(timeout=0.05)
        except queue.Empty:
            if cancel.is_set():
                raise CallCancelled() from None
            continue
        if cancel.is_set():
            raise CallCancelled()
        if kind == "end":
            return
        if kind == "error":
            raise item
        yield item


def _cause(error: BaseException) -> str:
    """The innermost cause's text: 'Connection refused' says more than 'Connection error.'."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text


_TOO_LONG = re.compile(r"maximum context length|context length|context_length_exceeded|too many tokens|prompt is too long",
                       re.I)


def _too_long(text: str, request: dict[str, Any]) -> str:
    """One line for a prompt over the model's limit: its size and the limit, as the server gave them."""
    limit = re.search(r"maximum context length is (\d+)", text)
    asked = re.search(r"\((\d+) in the messages", text)
    size = f"{asked[1]} tokens" if asked else f"{sum(len(m['content']) for m in request['messages'])} characters"
    cap = f"the model's limit of {limit[1]} tokens" if limit else f"the model's limit ({text[:120]})"
    return (f"the prompt has {size} and max_tokens is {request['max_tokens']}: more than {cap}; "
            "lower endpoint.max_tokens, context.file_tokens or context.map_tokens")


def _error_text(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return error.message
