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
import time
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import aiohttp
import ray
from dotenv import dotenv_values

from actors.ai_gate import gate_handle
from domain.ai import FINAL, AiStatus, ErrorKind, sources_of, tokens_used
from domain.ai_gate import GateConfig
from jobs.ai_permits import PermitPool
from jobs.ai_provider import Generation, ProviderConfig, ProviderFailed, generate
from jobs.registry import JobContext, PermanentJobError, job
from storage import ai_requests as ai_sql
from storage.pool import connect

log = logging.getLogger(__name__)

NOT_CONFIGURED = "AI provider is not configured"


def worker_key(name: str) -> str | None:
    """The API key from this worker's environment (read per job: a rotated key is picked up)."""
    value = os.environ.get(name)
    if value is None:
        value = dotenv_values(".env").get(name) if os.path.isfile(".env") else None
    return value.strip() if value and value.strip() else None


# (namespace, name) -> the gate actor's handle, per worker process
_GATES: dict[tuple[str, str], Any] = {}
# (namespace, name) -> the permits a JobWorker holds of that gate (jobs/ai_permits.py)
_POOLS: dict[tuple[str, str], PermitPool] = {}


def _config(spec: dict[str, Any]) -> GateConfig:
    return GateConfig(
        limit=int(spec["limit"]),
        lease_s=float(spec["lease_s"]),
        threshold=int(spec["threshold"]),
        cooldown_s=float(spec["cooldown_s"]),
    )


def permit_pool(spec: dict[str, Any]) -> PermitPool:
    """This JobWorker's permits of the gate `spec` names (the newest settings apply to its next
    lease). Only on a long-lived event loop: the pool's futures belong to it."""
    from jobs.ai_provider import PERMIT_WAIT_S

    where = (spec["namespace"], spec["name"])
    pool = _POOLS.get(where)
    if pool is None:
        gate = RayGate(spec)
        pool = _POOLS[where] = PermitPool(gate.handle, _config(spec), deadline_s=PERMIT_WAIT_S)
    else:
        pool.config = _config(spec)
    return pool


class RayGate:
    """The cluster's gate actor (actors/ai_gate.py) as the provider client's `Gate`."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._spec = spec
        self._config = _config(spec)
        self._handle: Any = None

    async def handle(self) -> Any:
        """The gate actor's handle (looked up once per process)."""
        return await self._actor()

    async def _actor(self) -> Any:
        if self._handle is None:
            where = (self._spec["namespace"], self._spec["name"])
            # a JobWorker runs thousands of generations in one process: look the gate up once
            self._handle = _GATES.get(where)
            if self._handle is None:
                loop = asyncio.get_running_loop()
                self._handle = _GATES[where] = await loop.run_in_executor(None, gate_handle, *where)
        return self._handle

    async def enter(self, holder: str) -> tuple[str, float]:
        from jobs.ai_provider import PERMIT_WAIT_S

        try:
            verdict, wait = await (await self._actor()).enter.remote(holder, self._config, PERMIT_WAIT_S)
        except ray.exceptions.RayActorError:
            self._forget()
            raise
        return verdict, wait

    async def leave(self, holder: str, outcome: str) -> None:
        try:
            await (await self._actor()).leave.remote(holder, outcome)
        except ray.exceptions.RayActorError:
            self._forget()
            raise

    def _forget(self) -> None:
        """A gate that is gone for good (killed without restart): the next job looks it up again,
        which creates a new one."""
        _GATES.pop((self._spec["namespace"], self._spec["name"]), None)
        self._handle = None


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
    holder = f"job-{ctx.job_id}-{ctx.attempt}"
    try:
        if ctx.http is not None:  # a JobWorker: its shared session, and permits it holds
            reply = await generate(ctx.http, config, key, gen, gate=permit_pool(payload["gate"]), holder=holder)
        else:
            async with aiohttp.ClientSession() as session:
                reply = await generate(session, config, key, gen, gate=RayGate(payload["gate"]), holder=holder)
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


# -- streaming ---------------------------------------------------------------------------------
#
# `"stream": true` (chat completions): the provider call still runs on the Ray worker pool, as a
# *streaming generator task* (`num_returns="streaming"`): each chunk the provider sends is yielded
# at once, Ray hands it to the caller in order, and the caller async-iterates the refs. Chosen over
# an actor with a queue: no actor to own, name, find and clean up per stream (an abandoned queue
# would need a reaper), no extra hop per token, and the stream's lifetime is the task's. The task
# keeps going if its caller goes away, so the row always gets the full result. It is never
# retried (`max_retries=0`): a replay would send tokens twice; a failure is recorded in the row.
# Not a job-runner job: the jobs table's retries and sweeper re-dispatch exactly what a stream
# must not have.

STREAM_CHUNK = "chunk"  # {"type": "chunk", "chunk": <the provider's JSON, as sent>}
STREAM_DONE = "done"  # {"type": "done", "request_id": ...}: the row is finished
STREAM_ERROR = "error"  # {"type": "error", "message", "error_kind", "retry_after_s"?}: the row failed


async def _stream_events(payload: dict[str, Any], dsn: str) -> AsyncGenerator[dict[str, Any], None]:
    from jobs.ai_provider import ChatStream, stream_chat

    request_id = payload["request_id"]
    conn = await connect(dsn)
    try:

        async def move(target: AiStatus, meta: dict[str, Any], **kw: Any) -> Any:
            return await ai_sql.move(
                conn, request_id, target.value, sources=sources_of(target), final=target in FINAL, meta=meta, **kw
            )

        row = await ai_sql.get(conn, request_id)
        if row is None or AiStatus(row["status"]) is not AiStatus.PENDING:
            yield {"type": STREAM_ERROR, "message": "the generation is not pending", "error_kind": "settled"}
            return
        config = _provider(payload["provider"])
        key_env = payload.get("key_env") or "GORQ_API_KEY"
        key = worker_key(key_env)
        if key is None:
            log.error("AI misconfiguration: no API key in this worker's environment", extra={"variable": key_env})
            await move(AiStatus.FAILED, {"error_kind": ErrorKind.MISCONFIGURED.value}, error=NOT_CONFIGURED)
            yield {"type": STREAM_ERROR, "message": NOT_CONFIGURED, "error_kind": ErrorKind.MISCONFIGURED.value}
            return
        if await move(AiStatus.RUNNING, {"attempts": 1, "stream": True}) is None:
            yield {"type": STREAM_ERROR, "message": "the generation is not pending", "error_kind": "settled"}
            return
        gen = Generation(
            prompt=row["prompt"], max_tokens=row["max_tokens"], model=row["model"], messages=row["messages"]
        )
        acc = ChatStream(started=time.monotonic())
        base_meta: dict[str, Any] = {"provider": config.dialect, "model": config.model_for(row["model"]), "attempts": 1}
        try:
            async with aiohttp.ClientSession() as session:
                chunks = stream_chat(
                    session, config, key, gen, acc, gate=RayGate(payload["gate"]), holder=f"stream-{request_id}"
                )
                async for chunk in chunks:
                    yield {"type": STREAM_CHUNK, "chunk": chunk}
        except ProviderFailed as exc:
            meta = {**base_meta, "error_kind": exc.kind.value, "provider_status": exc.status, "chunks": acc.chunks}
            if exc.retry_after is not None:
                meta["retry_after_s"] = round(exc.retry_after, 3)
            await move(AiStatus.FAILED, meta, error=str(exc))
            event: dict[str, Any] = {"type": STREAM_ERROR, "message": str(exc), "error_kind": exc.kind.value}
            if exc.retry_after is not None:
                event["retry_after_s"] = meta["retry_after_s"]
            yield event
            return
        result = acc.result()
        meta = {
            **base_meta,
            "model": acc.model or base_meta["model"],
            "tokens": tokens_used(result),
            "latency_ms": acc.latency_ms,
            "chunks": acc.chunks,
        }
        await move(AiStatus.FINISHED, meta, result=result)
        yield {"type": STREAM_DONE, "request_id": request_id}
    finally:
        await conn.close()


def stream_generation(payload: dict[str, Any], dsn: str) -> Iterator[dict[str, Any]]:
    """The streaming task's body: a plain generator (what Ray streams from a task) driving the
    async one on an event loop of its own, one event per yield."""
    loop = asyncio.new_event_loop()
    events = _stream_events(payload, dsn)
    try:
        while True:
            try:
                yield loop.run_until_complete(events.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(events.aclose())
        loop.close()


_STREAM_TASK: Any = None


def start_stream(payload: dict[str, Any], dsn: str) -> Any:
    """Start the streaming task; returns Ray's ObjectRefGenerator (`async for ref in it: await ref`)."""
    global _STREAM_TASK
    if _STREAM_TASK is None:
        import ray

        _STREAM_TASK = ray.remote(num_returns="streaming", max_retries=0)(stream_generation)
    return _STREAM_TASK.remote(payload, dsn)
