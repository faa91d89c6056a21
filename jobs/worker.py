"""The Ray task that runs one dispatch of one job.

Guarantees
- Idempotent per dispatch token: the task claims its row in SQL before running anything. A row
  that is finished, failed, or owned by another dispatch is left alone (outcome "skipped"), so
  re-running a finished job's task, or a second dispatch racing a live one, runs nothing.
- A worker process that dies mid-attempt is retried by Ray (`max_retries`) with the same token,
  which reclaims the row its predecessor left running; that attempt counts (attempts + 1).
- Every outcome write is conditional on still owning the row; an attempt that lost its claim to
  the sweeper (heartbeat stopped) is cancelled and records nothing ("lost").
- Application errors never escape as exceptions (so Ray does not retry them,
  `retry_exceptions=False`); they are recorded in the row with a backoff. Only infrastructure
  failures (database unreachable) raise; the submitter or the sweeper then re-dispatches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import aiohttp
import asyncpg
import orjson
import ray

from jobs.registry import JobContext, PermanentJobError, lookup
from storage import jobs as store
from storage.pool import connect

log = logging.getLogger(__name__)

# Errors are for people reading the row; a whole traceback or a huge message helps nobody there.
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class RunPolicy:
    """How the task retries and heartbeats; chosen by the dispatcher, travels with the task."""

    backoff_base_s: float = 1.0
    backoff_cap_s: float = 300.0
    heartbeat_s: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Delay before the attempt after `attempt` (1-based): exponential, capped, with jitter
        in its upper half so jobs that failed together (a provider outage) do not retry together."""
        delay = min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)


Outcome = Literal["finished", "failed", "retry", "skipped", "lost"]


class Report(TypedDict):
    """What the task returns to whoever watches its ObjectRef."""

    job_id: int
    outcome: Outcome
    # set with outcome "retry": the job is due again after this many seconds
    retry_in_s: float | None


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class Connections:
    """Where an attempt gets its connections: its own, opened and closed here (a Ray task), or a
    pool's (a JobWorker actor running many jobs at once; jobs/pooled.py)."""

    def __init__(self, dsn: str, pool: asyncpg.Pool | None = None, http: aiohttp.ClientSession | None = None) -> None:
        self._dsn, self._pool = dsn, pool
        # the JobWorker's shared HTTP session, handed to each job (JobContext.http)
        self.http = http

    async def open(self) -> asyncpg.Connection:
        if self._pool is not None:
            return await self._pool.acquire()
        return await connect(self._dsn)

    async def close(self, conn: asyncpg.Connection) -> None:
        if self._pool is not None:
            await self._pool.release(conn)
        else:
            await conn.close()

    async def reopen(self, conn: asyncpg.Connection) -> asyncpg.Connection:
        """A live connection in place of one the handler's failure may have closed."""
        if not conn.is_closed():
            return conn
        await self.close(conn)  # a pool takes a closed one back and replaces it
        return await self.open()


async def _run_with_heartbeat(
    handler_call: asyncio.Task[Any], job_id: int, token: str, connections: Connections, policy: RunPolicy
) -> bool:
    """Wait for the handler, touching the row every `heartbeat_s`. False if the claim was lost
    (the handler is then cancelled). Its own connection: the handler owns the task's one."""
    hb_conn: asyncpg.Connection | None = None
    try:
        while True:
            done, _ = await asyncio.wait({handler_call}, timeout=policy.heartbeat_s)
            if done:
                return True
            try:
                if hb_conn is not None and hb_conn.is_closed():
                    hb_conn = await connections.reopen(hb_conn)
                if hb_conn is None:
                    hb_conn = await connections.open()  # opened late: most jobs end before the first beat
                alive = await store.heartbeat(hb_conn, job_id, token)
            except Exception:
                # A database blip must not kill a job that is otherwise fine; the next beat retries
                # and the sweeper's stale limit is several beats long.
                log.warning("job heartbeat failed", exc_info=True, extra={"job_id": job_id})
                continue
            if not alive:
                handler_call.cancel()
                with contextlib.suppress(BaseException):
                    await handler_call
                return False
    finally:
        if hb_conn is not None:
            await connections.close(hb_conn)


async def execute(
    job_id: int, token: str, dsn: str, policy: RunPolicy, connections: Connections | None = None
) -> Report:
    """Claim the job for `token`, run its handler, record the outcome (on connections of its own
    unless `connections` says where to get them)."""
    connections = connections or Connections(dsn)
    conn = await connections.open()
    try:
        claim = await store.claim(conn, job_id, token)
        if claim is None:
            if await store.give_up(conn, job_id, token):
                log.warning("job gave up: attempts used up", extra={"job_id": job_id})
                return Report(job_id=job_id, outcome="failed", retry_in_s=None)
            return Report(job_id=job_id, outcome="skipped", retry_in_s=None)

        ctx = JobContext(claim.id, claim.kind, claim.attempt, claim.max_attempts, conn, connections.http)
        retry_in: float | None = policy.backoff(claim.attempt)
        try:
            handler = lookup(claim.kind)
            call = asyncio.create_task(handler(claim.payload, ctx))
            if not await _run_with_heartbeat(call, job_id, token, connections, policy):
                log.warning("job lost its claim while running", extra={"job_id": job_id})
                return Report(job_id=job_id, outcome="lost", retry_in_s=None)
            result = call.result()
            try:
                orjson.dumps(result)
            except TypeError as exc:
                raise PermanentJobError(f"the handler's result is not JSON-serialisable: {exc}") from exc
        except Exception as exc:
            if isinstance(exc, PermanentJobError):
                retry_in = None
            log.warning("job attempt failed", exc_info=True, extra={"job_id": job_id, "attempt": claim.attempt})
            conn = await connections.reopen(conn)  # the handler's failure may have been this connection dying
            status = await store.fail_attempt(conn, job_id, token, _describe(exc), retry_in)
            if status is None:
                return Report(job_id=job_id, outcome="lost", retry_in_s=None)
            if status == "failed":
                return Report(job_id=job_id, outcome="failed", retry_in_s=None)
            return Report(job_id=job_id, outcome="retry", retry_in_s=retry_in)

        conn = await connections.reopen(conn)
        if not await store.finish(conn, job_id, token, result):
            return Report(job_id=job_id, outcome="lost", retry_in_s=None)
        return Report(job_id=job_id, outcome="finished", retry_in_s=None)
    finally:
        await connections.close(conn)


@ray.remote
def run_job(job_id: int, token: str, dsn: str, policy: RunPolicy) -> Report:
    """The Ray entry point: a sync task around one event loop, because async remote functions
    share the worker's loop with Ray internals and are not reliable across Ray versions."""
    return asyncio.run(execute(job_id, token, dsn, policy))
