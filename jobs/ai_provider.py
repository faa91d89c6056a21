"""The AI provider client, in two dialects; it runs inside the Ray task (jobs/ai.py), never in a gateway.

- `gorq` (the reference's): `POST {base}/v1/generate` with `Authorization: Bearer <key>` and
  `{prompt | messages, max_tokens, model?}`; its JSON answer is the result as it comes.
- `openai`: OpenAI-compatible chat completions, `POST {base}/v1/chat/completions` with
  `{model, messages, max_tokens}` (a prompt becomes one user message).
A base URL that already ends in `/v1` is not given a second one.

Each HTTP attempt passes the provider gate first (a `Gate`: the cluster's concurrency cap and
circuit breaker, actors/ai_gate.py) and reports how it went. Failed attempts are retried here
with backoff, honouring the provider's `Retry-After` on 429 and 5xx, up to `retries` times; what is
still failing after that is the job's to retry (jobs/runtime.py backoff) or fail.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

import aiohttp
import orjson

from domain.ai import ErrorKind

log = logging.getLogger(__name__)

Dialect = Literal["gorq", "openai"]
# The chat-completions dialect needs a model; this one when neither request nor settings name one.
OPENAI_FALLBACK_MODEL = "gpt-4o-mini"
# A provider that asks us to wait longer than this gets the attempt failed instead (the job's own
# backoff takes over): a task holding a worker for minutes to sleep helps nobody.
RETRY_AFTER_CAP_S = 30.0
# How long one attempt may wait for a permit of the concurrency cap before it counts as failed.
PERMIT_WAIT_S = 120.0
# Provider error bodies are shown in the row's error; a page of HTML helps nobody there.
ERROR_BODY_CHARS = 300


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    dialect: Dialect
    base_url: str
    default_model: str | None = None
    timeout_s: float = 30.0
    retries: int = 2
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 8.0

    def url(self) -> str:
        base = self.base_url.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        return base + ("/generate" if self.dialect == "gorq" else "/chat/completions")

    def model_for(self, requested: str | None) -> str | None:
        model = requested or self.default_model
        if model is None and self.dialect == "openai":
            return OPENAI_FALLBACK_MODEL
        return model


@dataclass(frozen=True, slots=True)
class Generation:
    """What one request asks for (already cleaned: domain/ai.py)."""

    prompt: str
    max_tokens: int
    model: str | None = None
    messages: list[dict[str, str]] | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    result: Any
    model: str | None
    latency_ms: int
    http_attempts: int


class ProviderFailed(Exception):
    """The generation failed. `kind` says why (domain.ai.ErrorKind); `retryable` whether the
    job should try again later; `retry_after` the seconds the provider or the breaker asked for."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind = ErrorKind.PROVIDER_ERROR,
        retryable: bool = True,
        retry_after: float | None = None,
        status: int | None = None,
        http_attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.http_attempts = http_attempts


class Gate(Protocol):
    async def enter(self, holder: str) -> tuple[str, float]: ...

    async def leave(self, holder: str, outcome: str) -> None: ...


class OpenGate:
    """No cap, no breaker (unit tests of the dialects)."""

    async def enter(self, holder: str) -> tuple[str, float]:
        return "ok", 0.0

    async def leave(self, holder: str, outcome: str) -> None:
        return None


def request_body(config: ProviderConfig, gen: Generation) -> dict[str, Any]:
    model = config.model_for(gen.model)
    if config.dialect == "openai":
        messages = gen.messages or [{"role": "user", "content": gen.prompt}]
        return {"model": model, "messages": messages, "max_tokens": gen.max_tokens}
    body: dict[str, Any] = {"max_tokens": gen.max_tokens}
    if gen.messages:
        body["messages"] = gen.messages
    else:
        body["prompt"] = gen.prompt
    if model:
        body["model"] = model
    return body


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_s(config: ProviderConfig, attempt: int) -> float:
    """Exponential with jitter in its upper half, as the job runner's (jobs/worker.py)."""
    delay = min(config.backoff_cap_s, config.backoff_base_s * 2 ** (attempt - 1))
    return delay * (0.5 + random.random() / 2)


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_BODY_CHARS else text[: ERROR_BODY_CHARS - 1] + "…"


async def _one_attempt(
    session: aiohttp.ClientSession, config: ProviderConfig, key: str, body: dict[str, Any]
) -> tuple[str, Any]:
    """One POST. Returns ("success", json) or raises ProviderFailed with `status` and the breaker
    outcome in `kind`-independent form via the caller's classification."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    timeout = aiohttp.ClientTimeout(total=config.timeout_s)
    async with session.post(config.url(), json=body, headers=headers, timeout=timeout) as resp:
        text = await resp.text(errors="replace")
        if 200 <= resp.status < 300:
            try:
                return "success", await resp.json(content_type=None)
            except ValueError:
                raise ProviderFailed(
                    f"the provider answered {resp.status} with a body that is not JSON", status=resp.status
                ) from None
        retryable = resp.status == 429 or resp.status >= 500
        raise ProviderFailed(
            f"the provider answered {resp.status}: {_excerpt(text)}",
            retryable=retryable,
            retry_after=retry_after_s(resp.headers.get("Retry-After")) if retryable else None,
            status=resp.status,
        )


def _breaker_outcome(exc: ProviderFailed | None) -> str:
    if exc is None:
        return "success"
    if exc.status is None or exc.status >= 500:
        return "failure"  # unreachable, timed out, broken answer, 5xx: the provider is unwell
    return "neutral"  # 429 and other 4xx are about us, not about the provider's health


async def generate(
    session: aiohttp.ClientSession,
    config: ProviderConfig,
    key: str,
    gen: Generation,
    *,
    gate: Gate,
    holder: str,
) -> Reply:
    """Call the provider until it answers, retrying `config.retries` times. Raises ProviderFailed."""
    body = request_body(config, gen)
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        verdict, wait = await gate.enter(holder)
        if verdict == "open":
            raise ProviderFailed(
                "the AI provider is unavailable (circuit breaker open)",
                kind=ErrorKind.PROVIDER_DOWN,
                retryable=False,
                retry_after=max(1.0, wait),
                http_attempts=attempt - 1,
            )
        if verdict != "ok":
            raise ProviderFailed(
                "no provider permit came free in time (AI_PROVIDER_CONCURRENCY)", http_attempts=attempt - 1
            )
        failure: ProviderFailed | None = None
        try:
            _, result = await _one_attempt(session, config, key, body)
        except ProviderFailed as exc:
            failure = exc
        except TimeoutError:
            failure = ProviderFailed(f"the provider did not answer within {config.timeout_s:g} s")
        except aiohttp.ClientError as exc:
            failure = ProviderFailed(f"the provider could not be reached: {type(exc).__name__}: {exc}")
        except BaseException:
            await gate.leave(holder, "neutral")
            raise
        await gate.leave(holder, _breaker_outcome(failure))
        if failure is None:
            model = result.get("model") if isinstance(result, dict) and isinstance(result.get("model"), str) else None
            return Reply(
                result=result,
                model=model or body.get("model"),
                latency_ms=int((time.monotonic() - started) * 1000),
                http_attempts=attempt,
            )
        failure.http_attempts = attempt
        if not failure.retryable or attempt > config.retries:
            raise failure
        delay = failure.retry_after if failure.retry_after is not None else backoff_s(config, attempt)
        if delay > RETRY_AFTER_CAP_S:
            raise failure
        log.info(
            "AI provider attempt failed, retrying",
            extra={"attempt": attempt, "status": failure.status, "retry_in_s": round(delay, 3)},
        )
        await asyncio.sleep(delay)


# -- streaming (chat completions with `"stream": true`) ------------------------------------------

# A stream that goes quiet this long is dead; the whole stream may take as long as it keeps talking.
STREAM_IDLE_S = 30.0


@dataclass(slots=True)
class ChatStream:
    """What a streamed chat completion said so far; `result()` is the one JSON answer the
    unstreamed call would have given (what the `ai_requests` row keeps)."""

    started: float
    id: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    usage: Any = None
    parts: list[str] = field(default_factory=list)
    chunks: int = 0

    def add(self, chunk: Any) -> None:
        self.chunks += 1
        if not isinstance(chunk, dict):
            return
        self.id = self.id or (chunk.get("id") if isinstance(chunk.get("id"), str) else None)
        self.model = self.model or (chunk.get("model") if isinstance(chunk.get("model"), str) else None)
        if chunk.get("usage") is not None:
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                self.parts.append(delta["content"])
            if isinstance(choice.get("finish_reason"), str):
                self.finish_reason = choice["finish_reason"]

    def result(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(self.parts)},
                    "finish_reason": self.finish_reason,
                }
            ],
            "usage": self.usage,
        }

    @property
    def latency_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


async def stream_chat(
    session: aiohttp.ClientSession,
    config: ProviderConfig,
    key: str,
    gen: Generation,
    acc: ChatStream,
    *,
    gate: Gate,
    holder: str,
) -> AsyncIterator[Any]:
    """One streamed chat completion: yields each server-sent chunk's JSON as the provider sends it,
    adding it to `acc`. Raises ProviderFailed. One HTTP attempt only: once a token has gone to the
    client it cannot be taken back, so a failed stream is the caller's to report, never replayed."""
    if config.dialect != "openai":
        raise ProviderFailed("streaming needs the chat-completions dialect (AI_PROVIDER=openai)", retryable=False)
    verdict, wait = await gate.enter(holder)
    if verdict == "open":
        raise ProviderFailed(
            "the AI provider is unavailable (circuit breaker open)",
            kind=ErrorKind.PROVIDER_DOWN,
            retryable=False,
            retry_after=max(1.0, wait),
        )
    if verdict != "ok":
        raise ProviderFailed("no provider permit came free in time (AI_PROVIDER_CONCURRENCY)")
    body = request_body(config, gen) | {"stream": True}
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=config.timeout_s, sock_read=STREAM_IDLE_S)
    outcome = "neutral"
    try:
        async with session.post(config.url(), json=body, headers=headers, timeout=timeout) as resp:
            if not 200 <= resp.status < 300:
                text = await resp.text(errors="replace")
                outcome = "failure" if resp.status >= 500 else "neutral"
                raise ProviderFailed(
                    f"the provider answered {resp.status}: {_excerpt(text)}",
                    retry_after=retry_after_s(resp.headers.get("Retry-After")),
                    status=resp.status,
                    http_attempts=1,
                )
            async for raw in resp.content:  # one line at a time
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue  # blank separators, comments (": keep-alive"), event names
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = orjson.loads(data)
                except orjson.JSONDecodeError:
                    outcome = "failure"
                    raise ProviderFailed("the provider streamed a chunk that is not JSON", http_attempts=1) from None
                acc.add(chunk)
                yield chunk
        outcome = "success"
    except TimeoutError:
        outcome = "failure"
        raise ProviderFailed(f"the provider's stream was silent for {STREAM_IDLE_S:g} s", http_attempts=1) from None
    except aiohttp.ClientError as exc:
        outcome = "failure"
        raise ProviderFailed(
            f"the provider could not be reached: {type(exc).__name__}: {exc}", http_attempts=1
        ) from exc
    finally:
        await gate.leave(holder, outcome)
