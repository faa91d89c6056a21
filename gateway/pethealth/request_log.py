"""000's API request log: one `api_request_logs` row per /api request, written behind in batches.

The middleware only appends to an in-memory buffer; a background task writes the buffer with one
multi-row INSERT every `FLUSH_INTERVAL_S` or as soon as it holds `FLUSH_ROWS` rows, and once more
on shutdown. A request never waits on the database for its log row. A failed flush is logged and
its rows dropped (the log is for monitoring; it must never hold back or break requests), and the
buffer is bounded so a database outage cannot eat the gateway's memory.

One client's row must never cost everyone else theirs: rows are scrubbed as they are buffered
(one NUL made PostgreSQL refuse the whole multi-row INSERT, every user's rows with it), and a
batch the database still refuses is written again row by row, so only the row at fault is lost.

The daily prune: every gateway wakes every `PRUNE_CHECK_S`; the one that gets the advisory lock
and finds the last run a day old deletes rows older than `api_request_logs_retention_days`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Handler

from domain.clock import SYSTEM_CLOCK, Clock
from domain.errors import RoostError
from domain.inputs import scrub
from domain.periodic import Periodic
from domain.system_settings import RuntimeSettings
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.keys import clock_key, pool_key, runtime_settings_key
from storage import counters as counters_sql
from storage import request_logs as logs_sql
from storage.request_logs import LogRow

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
# aiohttp takes request lines up to 8 KB; a log row keeps what a person reading it needs
MAX_PATH_CHARS = 2048
MAX_METHOD_CHARS = 32
FLUSH_ROWS = 500
# rows beyond this are dropped (and counted) while the database is not taking them
MAX_BUFFERED = 50_000
PRUNE_RUN = "api-logs-prune"
PRUNE_EVERY_S = 24 * 60 * 60
PRUNE_CHECK_S = 60 * 60
# actors/quota.py's kind; a quota row is last written on its own UTC day, so two days is safe
QUOTA_KIND = "quota"
QUOTA_ROWS_KEEP_DAYS = 2


class RequestLog:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        flush_rows: int = FLUSH_ROWS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._pool = pool
        self._flush_rows = flush_rows
        self._buffer: list[LogRow] = []
        # flush() logs and drops a batch it cannot write and never raises but for cancellation
        self._flusher = Periodic("request-log-flush", self.flush, flush_interval_s, clock=clock)
        self._flush_lock = asyncio.Lock()
        self.dropped = 0

    def add(self, row: LogRow) -> None:
        if len(self._buffer) >= MAX_BUFFERED:
            self.dropped += 1
            return
        self._buffer.append(_storable(row))
        if len(self._buffer) >= self._flush_rows:
            self._flusher.wake()

    async def flush(self) -> int:
        async with self._flush_lock:
            rows, self._buffer = self._buffer, []
            if not rows:
                return 0
            try:
                async with self._pool.acquire() as conn:
                    try:
                        await logs_sql.insert_many(conn, rows)
                    except asyncpg.PostgresError:
                        # the database refused a value (not an outage: the connection answered)
                        return await self._insert_one_by_one(conn, rows)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("request log flush failed; rows dropped", extra={"rows": len(rows)})
                return 0
            return len(rows)

    async def _insert_one_by_one(self, conn: asyncpg.Connection, rows: list[LogRow]) -> int:
        written = 0
        for row in rows:
            try:
                await logs_sql.insert_many(conn, [row])
                written += 1
            except asyncpg.PostgresError as exc:
                self.dropped += 1
                log.warning(
                    "request log row refused; dropped",
                    extra={"sqlstate": exc.sqlstate, "method": row.method, "route_uri": row.route_uri},
                )
        return written

    def start(self) -> None:
        self._flusher.start()

    async def stop(self) -> None:
        await self._flusher.stop()
        await self.flush()


def _storable(row: LogRow) -> LogRow:
    """The row with every text as the database takes it (NUL and lone surrogates replaced,
    lengths capped): `/api/pets/%00` is a request like any other, and is logged like one."""
    route_uri = scrub(row.route_uri, MAX_PATH_CHARS) if row.route_uri is not None else None
    method, path = scrub(row.method, MAX_METHOD_CHARS), scrub(row.path, MAX_PATH_CHARS)
    if (method, path, route_uri) == (row.method, row.path, row.route_uri):
        return row
    return replace(row, method=method, path=path, route_uri=route_uri)


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, RoostError):
        return exc.status
    if isinstance(exc, web.HTTPException):
        return exc.status
    return 500


request_log_key = web.AppKey("request_log", RequestLog)


async def request_log_ctx(app: web.Application) -> AsyncIterator[None]:
    """The write-behind request log and the daily prune, on the ROOT app (one buffer per process
    for the root and the API_DOMAIN app). Needs postgres_ctx and runtime_settings_ctx before it."""
    writer = RequestLog(app[pool_key], clock=app[clock_key])
    writer.start()
    prune = DailyPrune(app[pool_key], app[runtime_settings_key], clock=app[clock_key])
    prune.start()
    app[request_log_key] = writer
    yield
    await prune.stop()
    await writer.stop()


@web.middleware
async def request_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost on /api: it sees every answer, quota and throttle 429s included, exactly once."""
    writer = request.config_dict.get(request_log_key)
    if writer is None or request.method == "OPTIONS":
        return await handler(request)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:  # the client went away: no answer to log
        status = 0
        raise
    except BaseException as exc:  # the root error middleware renders it; we only need its status
        status = _status_of(exc)
        raise
    finally:
        if status:
            identity = identity_of(request)
            resource = request.match_info.route.resource
            writer.add(
                LogRow(
                    user_id=identity.user_id,
                    method=request.method,
                    path=request.path.lstrip("/"),
                    route_uri=resource.canonical.lstrip("/") if resource is not None else None,
                    status_code=status,
                    auth_mode=identity.mode,
                    created_at=datetime.now(UTC),
                )
            )


async def prune_if_due(pool: asyncpg.Pool, runtime: RuntimeSettings, *, every_s: float = PRUNE_EVERY_S) -> int | None:
    """Run the scheduled prune if this gateway wins the lock and a day has passed; rows deleted or None."""
    async with pool.acquire() as conn, conn.transaction():
        if not await logs_sql.try_lock(conn):
            return None
        if not await logs_sql.claim_run(conn, PRUNE_RUN, every_s):
            return None
        deleted = await logs_sql.prune(conn, runtime.get("api_request_logs_retention_days"))
        # Past days' quota counters are never read again (a new UTC day is a new key); without
        # this they would pile up one row per user per day forever.
        await counters_sql.prune_stale(conn, QUOTA_KIND, QUOTA_ROWS_KEEP_DAYS)
        return deleted


class DailyPrune:
    def __init__(
        self,
        pool: asyncpg.Pool,
        runtime: RuntimeSettings,
        *,
        check_s: float = PRUNE_CHECK_S,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._pool, self._runtime = pool, runtime
        # a failed check is retried at the next one; a missed prune only keeps rows a little longer
        self._checks = Periodic("request-log-prune", self._check, check_s, clock=clock, run_at_start=True)

    def start(self) -> None:
        self._checks.start()

    async def stop(self) -> None:
        await self._checks.stop()

    async def _check(self) -> None:
        deleted = await prune_if_due(self._pool, self._runtime)
        if deleted is not None:
            log.info("api request logs pruned", extra={"deleted": deleted})
