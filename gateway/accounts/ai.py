"""003's AI generation: POST /api/ai/generate and GET /api/ai/jobs/{id}/status.

The gateway never calls the provider. It stores an `ai_requests` row, queues an `ai.generate`
job (jobs/ai.py) through the job runner, and either answers 202 with where to poll (`async`) or
waits for the job up to AI_SYNC_TIMEOUT_S; a sync request still running then gets the same 202
(the work goes on) instead of an error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Literal

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from domain import ai
from domain.errors import Invalid, NotFound, RoostError, ServiceUnavailable
from domain.settings import Settings
from gateway.accounts.openapi import READ_AUTH, WRITE_AUTH, WRITE_ERRORS
from gateway.kernel.api_envelope import success
from gateway.kernel.auth.guards import require_user
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.client_address import client_ip
from gateway.kernel.json_io import is_json_type, json_response, read_json
from gateway.kernel.keys import jobs_key, pool_key, settings_key, throttles_key
from gateway.kernel.middlewares import stream_headers
from gateway.kernel.openapi.operation import Body, documented
from gateway.kernel.throttle import Limit
from gateway.kernel.timeutil import iso_z
from gateway.kernel.validation import FORM_TYPES, path_id, read_form, validate
from jobs.ai import STREAM_CHUNK, STREAM_DONE, start_stream
from storage import ai_requests as ai_sql

log = logging.getLogger(__name__)

ACCEPTED = "Request accepted, processing"
STILL_RUNNING = "Generation still running; poll status_url"


class AiProviderError(RoostError):
    status, code, title, message = 500, "ai_provider_error", "AI Provider Error", "AI provider error"


class JobNotFound(NotFound):
    message = "Job not found"


# -- request --------------------------------------------------------------------------------


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1, max_length=ai.PROMPT_MAX)


class AiGenerateIn(BaseModel):
    """`prompt` (or a chat-style `messages[]`, which the reference accepts too); control characters
    are stripped from both."""

    model_config = ConfigDict(populate_by_name=True)

    prompt: str | None = Field(
        default=None, max_length=ai.PROMPT_MAX, description="Required unless `messages` is given."
    )
    messages: Annotated[list[ChatMessage], Field(min_length=1, max_length=ai.MESSAGES_MAX)] | None = Field(
        default=None, description="A chat-style conversation instead of `prompt`."
    )
    model: str | None = Field(default=None, max_length=ai.MODEL_MAX)
    max_tokens: int = Field(default=ai.MAX_TOKENS_DEFAULT, ge=ai.MAX_TOKENS_MIN, le=ai.MAX_TOKENS_MAX)
    is_async: bool = Field(default=False, alias="async", description="Answer 202 at once and run in the background.")
    stream: bool = Field(
        default=False,
        description="Beyond the document: answer `text/event-stream`, forwarding the provider's chunks as it "
        "sends them (`data: <chunk>`), then `data: [DONE]`, or an `event: error`. Needs the chat-completions "
        "provider (AI_PROVIDER=openai); not with `async`. The row records the whole result as for any generation.",
    )


# -- responses ------------------------------------------------------------------------------


class AiGenerated(BaseModel):
    """The sync answer: the /api success envelope around the provider's JSON, as it came."""

    success: Literal[True]
    status: Literal["success"]
    data: Any = Field(description="The provider's JSON answer.")
    message: Literal["AI generation result"]
    code: Literal[200]
    timestamp: str = Field(json_schema_extra={"format": "date-time"})


class AiJobRef(BaseModel):
    job_id: int
    status_url: str = Field(description="Absolute URL of the job's status.")


class AiAccepted(BaseModel):
    """202: the reference's `{status: "accepted", message, data}`, with the /api envelope's other fields."""

    success: Literal[True]
    status: Literal["accepted"]
    data: AiJobRef
    message: str
    code: Literal[202]
    timestamp: str = Field(json_schema_extra={"format": "date-time"})


class AiJobPublic(BaseModel):
    id: int
    status: ai.AiStatus
    result: Any = Field(description="The provider's JSON answer once finished, else null.")
    error: str | None
    meta: dict[str, Any] = Field(
        description="provider, model, tokens, latency_ms, attempts; on failure error_kind and retry_after_s."
    )
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})


# -- handlers -------------------------------------------------------------------------------


def ai_limit(s: Settings) -> Limit:
    return Limit("ai", s.ai_rate_limit_per_minute, 60)


async def throttle_ai(request: web.Request) -> None:
    """`throttle:ai`: per user, per client IP when anonymous (counted before authentication, so an
    anonymous flood is throttled too, not only answered 401)."""
    identity = identity_of(request)
    key = f"u{identity.user_id}" if identity.authenticated else f"ip{client_ip(request)}"
    await request.config_dict[throttles_key].enforce(request, ai_limit(request.config_dict[settings_key]), key)


async def read_generation(request: web.Request) -> AiGenerateIn:
    """The body as `parse` reads it, except that control characters in the prompt, the model and
    the messages are stripped rather than refused (the reference sanitises the prompt); the
    other fields are not used, so what they hold is never stored."""
    if request.content_type in FORM_TYPES:
        form = await read_form(request)
        body: Any = {k: v for k, v in form.items() if isinstance(v, str)}
    elif not request.body_exists and not is_json_type(request.content_type):
        body = {}
    else:
        body = await read_json(request)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k in _FIELDS}
        for name in ("prompt", "model"):
            if isinstance(body.get(name), str):
                body[name] = ai.clean_text(body[name])
        if isinstance(body.get("messages"), list):
            body["messages"] = [_clean_message(m) for m in body["messages"]]
    return validate(AiGenerateIn, body)


_FIELDS = frozenset({"prompt", "messages", "model", "max_tokens", "async", "stream"})


def _clean_message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    out = {k: v for k, v in message.items() if k in ("role", "content")}
    if isinstance(out.get("content"), str):
        out["content"] = ai.clean_text(out["content"])
    if isinstance(out.get("role"), str):
        out["role"] = ai.clean_text(out["role"])
    return out


def _cleaned(data: AiGenerateIn) -> tuple[str, list[dict[str, str]] | None]:
    messages = None
    if data.messages is not None:
        messages = [{"role": m.role, "content": m.content} for m in data.messages]
    prompt = data.prompt or ""
    if not prompt and messages:
        prompt = ai.prompt_of(messages)
    if not prompt:
        raise Invalid(fields={"prompt": ["The prompt field is required."]})
    return prompt, messages


def job_payload(s: Settings, request_id: int | None) -> dict[str, Any]:
    """What the worker needs, from the gateway's settings (never the key: jobs/ai.py); without
    `request_id` for storage.ai_requests.insert_queued, which adds it."""
    base_url = s.ai_base_url or s.gorq_base_url
    payload: dict[str, Any] = {
        "key_env": s.ai_api_key_env,
        "provider": {
            "dialect": s.ai_provider,
            "base_url": base_url,
            "default_model": s.gorq_default_model or None,
            "timeout_s": s.ai_provider_timeout_s,
            "retries": s.ai_provider_retries,
        },
        "gate": {
            "namespace": s.roost_ray_namespace,
            # one gate per provider endpoint: its breaker speaks of that endpoint's health
            "name": f"ai-gate:{s.ai_provider}:{base_url}",
            "limit": s.ai_provider_concurrency,
            # longer than any live call (timeout x calls, and their waits), so only dead holders lapse
            "lease_s": s.ai_provider_timeout_s * 2 + 30,
            "threshold": s.ai_breaker_failures,
            "cooldown_s": s.ai_breaker_cooldown_s,
        },
    }
    if request_id is not None:
        payload["request_id"] = request_id
    return payload


def status_url(request: web.Request, s: Settings, request_id: int) -> str:
    """Absolute, under the mount the request came through (/api, or the API_DOMAIN root)."""
    mount = request.path[: -len("/ai/generate")] if request.path.endswith("/ai/generate") else "/api"
    if s.api_domain and request.host.split(":")[0] == s.api_domain:
        origin = str(request.url.origin())
    else:
        origin = s.app_url.rstrip("/")
    return f"{origin}{mount}/ai/jobs/{request_id}/status"


def _accepted(url: str, request_id: int, message: str) -> web.Response:
    body = {
        "success": True,
        "status": "accepted",
        "data": {"job_id": request_id, "status_url": url},
        "message": message,
        "code": 202,
        "timestamp": iso_z(),
    }
    return json_response(body, status=202, headers={"Location": url})


def _failure(row: Any) -> RoostError:
    meta = row["meta"] or {}
    if meta.get("error_kind") == ai.ErrorKind.PROVIDER_DOWN:
        retry_after = max(1, int(float(meta.get("retry_after_s") or 1) + 0.999))
        return ServiceUnavailable(
            "AI provider unavailable", code="ai_provider_unavailable", headers={"Retry-After": str(retry_after)}
        )
    return AiProviderError()


# the SSE answer's description (its events are the provider's own chunk objects)
SSE_BODY = Body(
    "text/event-stream",
    {
        "type": "string",
        "description": "Server-sent events: `data: <the provider's chunk JSON>` per chunk, then `data: [DONE]`; "
        "on failure `event: error` with `data: {message, error_kind, retry_after_s?}`.",
    },
)


@documented(
    "Generate text with the AI provider",
    response=(AiGenerated, SSE_BODY),
    also={202: AiAccepted},
    body=AiGenerateIn,
    errors=(*WRITE_ERRORS, 500),
    auth=WRITE_AUTH,
    headers_out={"Location": "On 202: the status URL."},
    enveloped=False,
)
async def generate(request: web.Request) -> web.StreamResponse:
    """POST /api/ai/generate → 200 "AI generation result" (sync), 202 "Request accepted, processing"
    (async, or a sync generation still running after AI_SYNC_TIMEOUT_S), 500 "AI provider error",
    503 with Retry-After while the provider's circuit breaker is open."""
    await throttle_ai(request)
    identity = require_user(request)
    data = await read_generation(request)
    prompt, messages = _cleaned(data)
    s = request.config_dict[settings_key]
    if data.stream and data.is_async:
        raise Invalid(fields={"stream": ["A streamed generation cannot also be async."]})
    if data.stream and s.ai_provider != "openai":
        raise Invalid(fields={"stream": ["Streaming needs the chat-completions provider (AI_PROVIDER=openai)."]})
    model = data.model or None
    fields: dict[str, Any] = dict(user_id=identity.user_id, prompt=prompt, messages=messages, model=model,
                                  max_tokens=data.max_tokens, is_async=data.is_async,
                                  meta={"provider": s.ai_provider, "attempts": 0})
    if data.stream:
        async with request.config_dict[pool_key].acquire() as conn:
            request_id = await ai_sql.insert(conn, **fields)
        return await _stream(request, s, request_id)
    runner = request.config_dict[jobs_key]
    # the request and its job in one statement (one request is one job: the job's idempotency key)
    token = runner.reservation()
    async with request.config_dict[pool_key].acquire() as conn:
        request_id, job_id = await ai_sql.insert_queued(
            conn, **fields, job_kind=ai.JOB_KIND, job_payload=job_payload(s, None),
            max_attempts=s.ai_job_max_attempts, token=token,
        )
    await runner.start_reserved(job_id, token, ai.JOB_KIND)
    url = status_url(request, s, request_id)
    if data.is_async:
        return _accepted(url, request_id, ACCEPTED)
    try:
        await runner.wait(job_id, s.ai_sync_timeout_s)
    except TimeoutError:
        return _accepted(url, request_id, STILL_RUNNING)
    async with request.config_dict[pool_key].acquire() as conn:
        row = await ai_sql.get_for_user(conn, request_id, identity.user_id)
    if row is None:  # the account was deleted meanwhile
        raise JobNotFound()
    status = ai.effective_status(row["status"], row["job_status"])
    if status is ai.AiStatus.FINISHED:
        return json_response(
            {
                "success": True,
                "status": "success",
                "data": row["result"],
                "message": "AI generation result",
                "code": 200,
                "timestamp": iso_z(),
            }
        )
    if status is ai.AiStatus.FAILED:
        raise _failure(row)
    return _accepted(url, request_id, STILL_RUNNING)  # the job is done but the row not yet: rare


async def _stream(request: web.Request, s: Settings, request_id: int) -> web.StreamResponse:
    """The generation as a streaming Ray task (jobs/ai.py `start_stream`), its events forwarded as
    server-sent events while they come. A client that goes away stops the forwarding, not the
    task: the row still gets the whole result."""
    assert s.database_url is not None  # create_app refuses settings without it
    events = start_stream(job_payload(s, request_id), s.database_url)
    url = status_url(request, s, request_id)
    response = web.StreamResponse(
        headers={
            **stream_headers(request),
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            # proxies (nginx) would otherwise buffer the stream into one late answer
            "X-Accel-Buffering": "no",
            "Location": url,
        }
    )
    await response.prepare(request)
    try:
        async for ref in events:
            event = await ref
            if event["type"] == STREAM_CHUNK:
                await response.write(b"data: " + orjson.dumps(event["chunk"]) + b"\n\n")
            elif event["type"] == STREAM_DONE:
                await response.write(b"data: [DONE]\n\n")
            else:
                error = {k: v for k, v in event.items() if k != "type"}
                await response.write(b"event: error\ndata: " + orjson.dumps(error) + b"\n\n")
        await response.write_eof()
    except (ConnectionResetError, asyncio.CancelledError):
        log.info("AI stream: the client went away; the generation goes on", extra={"request_id": request_id})
        raise
    return response


def job_view(row: Any) -> dict[str, Any]:
    status = ai.effective_status(row["status"], row["job_status"])
    error = row["error"]
    if status is ai.AiStatus.FAILED and error is None:
        error = "the generation's job failed"
    return AiJobPublic(
        id=row["id"],
        status=status,
        result=row["result"] if status is ai.AiStatus.FINISHED else None,
        error=error if status is not ai.AiStatus.FINISHED else None,
        meta=row["meta"] or {},
        created_at=iso_z(row["created_at"]),
        updated_at=iso_z(row["updated_at"]),
    ).model_dump(mode="json")


@documented("Show an AI generation's status", response=AiJobPublic, errors=(404,), auth=READ_AUTH)
async def job_status(request: web.Request) -> web.Response:
    """GET /api/ai/jobs/{id}/status → 200 {id, status, result, error, meta, created_at, updated_at};
    another user's job is 404 "Job not found", as an unknown id is."""
    identity = require_user(request)
    request_id = path_id(request, "id", not_found=JobNotFound())
    async with request.config_dict[pool_key].acquire() as conn:
        row = await ai_sql.get_for_user(conn, request_id, identity.user_id)
    if row is None:
        raise JobNotFound()
    return success(job_view(row), "Job status")
