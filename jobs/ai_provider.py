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
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

import aiohttp

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
