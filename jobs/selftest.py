"""Handlers that exercise the job runtime itself (tests only; no production code submits them).

They live in the package, not under tests/, because Ray worker processes import handlers by kind.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from jobs.registry import JobContext, PermanentJobError, job


@job("selftest.echo")
async def echo(payload: Any, ctx: JobContext) -> Any:
    """Returns the payload; `{"sleep_s": x}` keeps the job running that long first."""
    if isinstance(payload, dict) and payload.get("sleep_s"):
        await asyncio.sleep(float(payload["sleep_s"]))
    return payload


@job("selftest.fail_times")
async def fail_times(payload: dict, ctx: JobContext) -> dict:
    """Fails attempts 1..`times`, then succeeds with the attempt number."""
    times = int(payload["times"])
    if ctx.attempt <= times:
        raise RuntimeError(f"planned failure {ctx.attempt} of {times}")
    return {"attempt": ctx.attempt}


@job("selftest.die_once")
async def die_once(payload: Any, ctx: JobContext) -> dict:
    """On attempt 1 the worker process dies outright (as an OOM kill would); Ray retries the task."""
    if ctx.attempt == 1:
        os._exit(1)
    return {"attempt": ctx.attempt, "pid": os.getpid()}


@job("selftest.reject")
async def reject(payload: Any, ctx: JobContext) -> None:
    """Fails permanently: no retry whatever the attempts left."""
    raise PermanentJobError("rejected on purpose")


@job("selftest.db_now")
async def db_now(payload: Any, ctx: JobContext) -> dict:
    """Uses the context's connection, as real handlers will."""
    value = await ctx.conn.fetchval("select count(*) from jobs where id = $1", ctx.job_id)
    return {"rows": value}


@job("selftest.die_always")
async def die_always(payload: Any, ctx: JobContext) -> None:
    """Every attempt kills its worker: the job must still end (failed), not loop forever."""
    os._exit(1)


@job("selftest.span")
async def span(payload: Any, ctx: JobContext) -> dict:
    """Waits `sleep_s` and says when it ran and where: how many jobs overlap shows where they run."""
    started = time.time()
    await asyncio.sleep(float(payload.get("sleep_s", 0.5)))
    return {"start": started, "end": time.time(), "pid": os.getpid()}
