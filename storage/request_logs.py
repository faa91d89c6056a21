"""The API request log (`api_request_logs`) and the claim of scheduled maintenance runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

# Any fixed 64-bit number, distinct from the migrations' lock: "api-logs-prune".
PRUNE_LOCK_KEY = 0x6170692D6C6F6773


@dataclass(frozen=True, slots=True)
class LogRow:
    user_id: int | None
    method: str
    path: str
    route_uri: str | None
    status_code: int
    auth_mode: str
    created_at: datetime


async def insert_many(conn: asyncpg.Connection, rows: list[LogRow]) -> None:
    # One statement per batch: the write-behind buffer flushes hundreds of rows at a time.
    await conn.execute(
        """
        insert into api_request_logs (user_id, method, path, route_uri, status_code, auth_mode, created_at)
        select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::text[],
                             $7::timestamptz[])
        """,
        [r.user_id for r in rows],
        [r.method for r in rows],
        [r.path for r in rows],
        [r.route_uri for r in rows],
        [r.status_code for r in rows],
        [r.auth_mode for r in rows],
        [r.created_at for r in rows],
    )


async def prune(conn: asyncpg.Connection, retention_days: int) -> int:
    """Delete rows older than `retention_days`; returns how many went."""
    status = await conn.execute(
        "delete from api_request_logs where created_at < now() - make_interval(days => $1)", retention_days
    )
    return int(status.split()[-1])


async def tail(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """The newest `limit` rows, oldest of them first (as `tail` prints)."""
    rows = await conn.fetch("select * from api_request_logs order by id desc limit $1", limit)
    return list(reversed(rows))


async def claim_run(conn: asyncpg.Connection, name: str, every_s: float) -> bool:
    """True for exactly one caller per period: records the run and returns whether it was due."""
    row = await conn.fetchval(
        """
        insert into scheduled_runs (name, last_run_at) values ($1, now())
        on conflict (name) do update set last_run_at = now()
            where scheduled_runs.last_run_at <= now() - make_interval(secs => $2)
        returning 1
        """,
        name,
        every_s,
    )
    return row is not None


async def try_lock(conn: asyncpg.Connection) -> bool:
    """A transaction-scoped advisory lock so that one gateway prunes while the others skip."""
    return await conn.fetchval("select pg_try_advisory_xact_lock($1)", PRUNE_LOCK_KEY)
