"""003's AI generation rules: what a prompt may be, and the life of an `ai_requests` row.

One row per POST /api/ai/generate: pending (queued) -> running (a Ray task holds it) -> finished
(the provider's JSON stored) or failed (the error stored). A failed attempt with attempts left goes
back from running to pending: the job runner retries it with backoff (jobs/runtime.py). Finished and
failed are final; nothing moves out of them, which is what keeps a retried Ray task from calling the
provider again for a generation that already succeeded (jobs/ai.py reads the row first).

Written once here and used by the gateway (gateway/accounts/ai.py) and the Ray task alike.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Any

# The reference's limits (003: prompt max:5000, model max:255, max_tokens 1..2048, default 256).
PROMPT_MAX = 5000
MODEL_MAX = 255
MAX_TOKENS_MIN = 1
MAX_TOKENS_MAX = 2048
MAX_TOKENS_DEFAULT = 256
# A chat-style body: enough turns for any real conversation, few enough that one request cannot
# carry an unbounded history to the provider.
MESSAGES_MAX = 50
MESSAGE_ROLES = ("system", "user", "assistant")

JOB_KIND = "ai.generate"


class AiStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


FINAL = frozenset({AiStatus.FINISHED, AiStatus.FAILED})

# from -> the states it may move to
_TRANSITIONS: dict[AiStatus, frozenset[AiStatus]] = {
    AiStatus.PENDING: frozenset({AiStatus.RUNNING, AiStatus.FAILED}),
    # back to pending: the attempt failed and the job will be retried; running again: a new
    # attempt takes over a row whose worker died mid-call
    AiStatus.RUNNING: frozenset({AiStatus.FINISHED, AiStatus.FAILED, AiStatus.PENDING, AiStatus.RUNNING}),
    AiStatus.FINISHED: frozenset(),
    AiStatus.FAILED: frozenset(),
}


class IllegalTransition(ValueError):
    pass


def can_move(current: AiStatus, target: AiStatus) -> bool:
    return target in _TRANSITIONS[current]


def check_move(current: AiStatus, target: AiStatus) -> None:
    if not can_move(current, target):
        raise IllegalTransition(f"an AI request cannot go from {current} to {target}")


def sources_of(target: AiStatus) -> list[str]:
    """The states a row may be in for an UPDATE to `target` (storage's `status = any($n)`)."""
    return sorted(s.value for s, allowed in _TRANSITIONS.items() if target in allowed)


class ErrorKind(StrEnum):
    """Why a generation failed, in `meta.error_kind`: what the sync answer's status depends on."""

    # no API key in the worker's environment: a deployment mistake, logged as such
    MISCONFIGURED = "misconfigured"
    # the circuit breaker is open: the provider was failing; answered 503 with Retry-After
    PROVIDER_DOWN = "provider_down"
    # the provider answered an error, timed out, or could not be reached, retries used up
    PROVIDER_ERROR = "provider_error"
    # the job died without recording a reason (its worker kept dying)
    LOST = "lost"


def effective_status(row_status: str, job_status: str | None) -> AiStatus:
    """The row's status as a client should see it: a job the runner gave up on (its worker died
    on the last attempt, so the handler never recorded the failure) is failed, not running."""
    status = AiStatus(row_status)
    if status not in FINAL and job_status == "failed":
        return AiStatus.FAILED
    return status


# Control characters go (C0 and C1, DEL); a prompt's line breaks and tabs are text and stay.
# Lone surrogates go too: no store or provider takes them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Strip control characters (and format characters such as bidi overrides, which hide text
    from whoever reads the prompt back), normalise line breaks, trim."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    # ASCII holds no format characters: most prompts skip the per-character walk (a twentieth of
    # the gateway's time per generation request, py-spy under ai_pool)
    if not value.isascii():
        value = "".join(ch for ch in value if unicodedata.category(ch) != "Cf" or ch in "\u200d")
    return value.strip()


def prompt_of(messages: list[dict[str, str]]) -> str:
    """The text stored as `prompt` for a chat-style request (its last user turn, else its last turn)."""
    for message in reversed(messages):
        if message["role"] == "user":
            return message["content"]
    return messages[-1]["content"]


def tokens_used(result: Any) -> int | None:
    """The provider's token count, where it says one (OpenAI's `usage.total_tokens`, Gorq's
    `usage.total_tokens` or `tokens`)."""
    if not isinstance(result, dict):
        return None
    usage = result.get("usage")
    if isinstance(usage, dict):
        total = usage.get("total_tokens")
        if isinstance(total, int):
            return total
        parts = [usage.get(k) for k in ("prompt_tokens", "completion_tokens")]
        if all(isinstance(p, int) for p in parts):
            return sum(parts)  # type: ignore[arg-type]
    tokens = result.get("tokens")
    return tokens if isinstance(tokens, int) else None
