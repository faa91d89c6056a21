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


async def _run_with_heartbeat(
    handler_call: asyncio.Task[Any], job_id: int, token: str, dsn: str, policy: RunPolicy
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
                if hb_conn is None or hb_conn.is_closed():
                    hb_conn = await connect(dsn)  # opened late: most jobs end before the first beat
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
            await hb_conn.close()


async def execute(job_id: int, token: str, dsn: str, policy: RunPolicy) -> Report:
    """Claim the job for `token`, run its handler, record the outcome."""
    conn = await connect(dsn)
    try:
        claim = await store.claim(conn, job_id, token)
        if claim is None:
            if await store.give_up(conn, job_id, token):
                log.warning("job gave up: attempts used up", extra={"job_id": job_id})
                return Report(job_id=job_id, outcome="failed", retry_in_s=None)
            return Report(job_id=job_id, outcome="skipped", retry_in_s=None)

        ctx = JobContext(claim.id, claim.kind, claim.attempt, claim.max_attempts, conn)
        retry_in: float | None = policy.backoff(claim.attempt)
        try:
            handler = lookup(claim.kind)
            call = asyncio.create_task(handler(claim.payload, ctx))
            if not await _run_with_heartbeat(call, job_id, token, dsn, policy):
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
            if conn.is_closed():  # the handler's failure may have been this connection dying
                conn = await connect(dsn)
            status = await store.fail_attempt(conn, job_id, token, _describe(exc), retry_in)
            if status is None:
                return Report(job_id=job_id, outcome="lost", retry_in_s=None)
            if status == "failed":
                return Report(job_id=job_id, outcome="failed", retry_in_s=None)
            return Report(job_id=job_id, outcome="retry", retry_in_s=retry_in)

        if conn.is_closed():
            conn = await connect(dsn)
        if not await store.finish(conn, job_id, token, result):
            return Report(job_id=job_id, outcome="lost", retry_in_s=None)
        return Report(job_id=job_id, outcome="finished", retry_in_s=None)
    finally:
        await conn.close()


@ray.remote
def run_job(job_id: int, token: str, dsn: str, policy: RunPolicy) -> Report:
    """The Ray entry point: a sync task around one event loop, because async remote functions
    share the worker's loop with Ray internals and are not reliable across Ray versions."""
    return asyncio.run(execute(job_id, token, dsn, policy))
