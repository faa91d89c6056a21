"""`ai.generate`: one AI generation of an `ai_requests` row, on the Ray worker pool.

Payload: `{request_id, key_env, provider: {dialect, base_url, default_model, timeout_s, retries},
gate: {namespace, name, limit, lease_s, threshold, cooldown_s}}` (built by gateway/accounts/ai.py
from the settings). The prompt is not in it: the row has it, and the jobs table need not keep a
second copy of what users wrote.

The API key. Like MAIL_PASSWORD (jobs/mail.py), it is never in the payload (payloads are stored in
the `jobs` table); the worker reads it from its own environment (the process environment, then
`.env`), from the variable the payload names (`AI_API_KEY_ENV`, default GORQ_API_KEY). None there:
the row fails with "AI provider is not configured" and the worker logs a misconfiguration.

Idempotency. The row is read first: a finished or failed row is not generated again, so a Ray task
retried after its worker died between storing the answer and finishing the job makes no second
provider call. Every move of the row is conditional on its state (storage/ai_requests.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import aiohttp
from dotenv import dotenv_values

from actors.ai_gate import gate_handle
from domain.ai import FINAL, AiStatus, ErrorKind, sources_of, tokens_used
from domain.ai_gate import GateConfig
from jobs.ai_provider import Generation, ProviderConfig, ProviderFailed, generate
from jobs.registry import JobContext, PermanentJobError, job
from storage import ai_requests as ai_sql

log = logging.getLogger(__name__)

NOT_CONFIGURED = "AI provider is not configured"


def worker_key(name: str) -> str | None:
    """The API key from this worker's environment (read per job: a rotated key is picked up)."""
    value = os.environ.get(name)
    if value is None:
        value = dotenv_values(".env").get(name) if os.path.isfile(".env") else None
    return value.strip() if value and value.strip() else None


class RayGate:
    """The cluster's gate actor (actors/ai_gate.py) as the provider client's `Gate`."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._spec = spec
        self._config = GateConfig(
            limit=int(spec["limit"]),
            lease_s=float(spec["lease_s"]),
            threshold=int(spec["threshold"]),
            cooldown_s=float(spec["cooldown_s"]),
        )
        self._handle: Any = None

    async def _actor(self) -> Any:
        if self._handle is None:
            loop = asyncio.get_running_loop()
            self._handle = await loop.run_in_executor(None, gate_handle, self._spec["namespace"], self._spec["name"])
        return self._handle

    async def enter(self, holder: str) -> tuple[str, float]:
        from jobs.ai_provider import PERMIT_WAIT_S

        verdict, wait = await (await self._actor()).enter.remote(holder, self._config, PERMIT_WAIT_S)
        return verdict, wait

    async def leave(self, holder: str, outcome: str) -> None:
        await (await self._actor()).leave.remote(holder, outcome)


async def _move(
    ctx: JobContext,
    request_id: int,
    target: AiStatus,
    meta: dict[str, Any],
    *,
    result: Any = None,
    error: str | None = None,
) -> Any:
    """One move of the row along domain/ai.py's state machine (None: it was not in a source state)."""
    return await ai_sql.move(
        ctx.conn,
        request_id,
        target.value,
        sources=sources_of(target),
        final=target in FINAL,
        meta=meta,
        result=result,
        error=error,
    )


def _provider(spec: dict[str, Any]) -> ProviderConfig:
    return ProviderConfig(
        dialect=spec["dialect"],
        base_url=spec["base_url"],
        default_model=spec.get("default_model"),
        timeout_s=float(spec.get("timeout_s", 30.0)),
        retries=int(spec.get("retries", 2)),
    )


def _check(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or not isinstance(payload.get("request_id"), int):
        raise PermanentJobError("the ai.generate payload needs a request_id")
    for part in ("provider", "gate"):
        if not isinstance(payload.get(part), dict):
            raise PermanentJobError(f"the ai.generate payload lacks {part}")
    return payload


@job("ai.generate")
async def generate_job(payload: Any, ctx: JobContext) -> dict[str, Any]:
    payload = _check(payload)
    request_id = payload["request_id"]
    row = await ai_sql.get(ctx.conn, request_id)
    if row is None:
        raise PermanentJobError(f"there is no ai_request {request_id} (deleted with its user?)")
    if AiStatus(row["status"]) in FINAL:
        # A rerun after the outcome was stored: the row is the answer; no second provider call.
        return {"request_id": request_id, "status": row["status"], "already_done": True}

    config = _provider(payload["provider"])
    key_env = payload.get("key_env") or "GORQ_API_KEY"
    key = worker_key(key_env)
    if key is None:
        log.error(
            "AI misconfiguration: no API key in this worker's environment",
            extra={"variable": key_env, "request_id": request_id},
        )
        await _move(
            ctx, request_id, AiStatus.FAILED, {"error_kind": ErrorKind.MISCONFIGURED.value}, error=NOT_CONFIGURED
        )
        raise PermanentJobError(f"{NOT_CONFIGURED}: {key_env} is not set in the worker's environment")

    if await _move(ctx, request_id, AiStatus.RUNNING, {"attempts": ctx.attempt}) is None:
        return {"request_id": request_id, "status": "settled elsewhere", "already_done": True}
    messages = row["messages"]
    gen = Generation(prompt=row["prompt"], max_tokens=row["max_tokens"], model=row["model"], messages=messages)
    base_meta: dict[str, Any] = {
        "provider": config.dialect,
        "model": config.model_for(row["model"]),
        "attempts": ctx.attempt,
    }
    try:
        async with aiohttp.ClientSession() as session:
            reply = await generate(
                session, config, key, gen, gate=RayGate(payload["gate"]), holder=f"job-{ctx.job_id}-{ctx.attempt}"
            )
    except ProviderFailed as exc:
        meta = {
            **base_meta,
            "error_kind": exc.kind.value,
            "http_attempts": exc.http_attempts,
            "provider_status": exc.status,
        }
        if exc.retry_after is not None:
            meta["retry_after_s"] = round(exc.retry_after, 3)
        if exc.retryable and not ctx.last_attempt:
            await _move(ctx, request_id, AiStatus.PENDING, meta, error=str(exc))
            raise  # the job runner retries with backoff
        if exc.status in (401, 403):
            log.error("AI misconfiguration: the provider refused the API key", extra={"variable": key_env})
        await _move(ctx, request_id, AiStatus.FAILED, meta, error=str(exc))
        raise PermanentJobError(str(exc)) from exc
    meta = {
        **base_meta,
        "model": reply.model,
        "tokens": tokens_used(reply.result),
        "latency_ms": reply.latency_ms,
        "http_attempts": reply.http_attempts,
    }
    stored = await _move(ctx, request_id, AiStatus.FINISHED, meta, result=reply.result)
    return {"request_id": request_id, "status": "finished" if stored is not None else "settled elsewhere"}
