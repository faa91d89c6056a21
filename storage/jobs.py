"""The `jobs` table: submit, dispatch reservations, claims and outcomes (see jobs/ for the runtime).

Ownership protocol. `claimed_by` holds the token of the one dispatch allowed to run a job. A
dispatch is *reserved* in SQL before its Ray task is started (`insert` with a token, `reserve`,
`reserve_due`), and only when the job is due and unowned, or owned by a dispatch that went quiet
for `stale_after_s`. Every write a task makes afterwards (`claim`, `heartbeat`, `finish`,
`fail_attempt`) is conditional on still holding that token, so an old attempt that lost its
claim can never overwrite the outcome of the attempt that replaced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from storage.errors import domain_errors

# Columns of a full row, in `Job` field order.
_COLUMNS = (
    "id, kind, payload, status, attempts, max_attempts, result, error, idempotency_key, "
    "run_after, claimed_by, created_at, updated_at, started_at, finished_at"
)

# An owner is stale when it has not touched its row for this long (seconds, $n parameter).
_STALE = "updated_at < now() - make_interval(secs => {})"


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    payload: Any
    status: str
    attempts: int
    max_attempts: int
    result: Any
    error: str | None
    idempotency_key: str | None
    run_after: datetime
    claimed_by: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        return self.status in ("finished", "failed")


@dataclass(frozen=True, slots=True)
class Claim:
    """What a task needs after claiming: the job and which attempt this is (1-based)."""

    id: int
    kind: str
    payload: Any
    attempt: int
    max_attempts: int


async def insert(
    conn: asyncpg.Connection,
    kind: str,
    payload: Any,
    *,
    max_attempts: int,
    idempotency_key: str | None = None,
    token: str | None = None,
) -> tuple[int, bool]:
    """Queue a job; returns (id, created). A known idempotency key returns the existing job's id
    and created=False (that job is left as it is, whatever its state). `token` reserves the first
    dispatch for the caller in the same statement, so no sweeper dispatches it in between."""
    with domain_errors():
        job_id = await conn.fetchval(
            """
            insert into jobs (kind, payload, max_attempts, idempotency_key, claimed_by)
            values ($1, $2, $3, $4, $5)
            on conflict (idempotency_key) do nothing
            returning id
            """,
            kind,
            payload,
            max_attempts,
            idempotency_key,
            token,
        )
        if job_id is not None:
            return job_id, True
        # `do nothing` waited for any concurrent insert of the same key, so the row is visible now.
        existing = await conn.fetchval("select id from jobs where idempotency_key = $1", idempotency_key)
    return existing, False


async def get(conn: asyncpg.Connection, job_id: int) -> Job | None:
    # read by request handlers (job status endpoints), so database errors leave as domain errors
    with domain_errors():
        row = await conn.fetchrow(f"select {_COLUMNS} from jobs where id = $1", job_id)
    return Job(*row.values()) if row is not None else None


async def reserve(conn: asyncpg.Connection, job_id: int, token: str, stale_after_s: float) -> str | None:
    """Make `token` the job's owner if it is due and unowned or its owner is stale; answers the
    job's kind (its dispatcher picks where it runs by it). None if the job is finished, failed, not
    yet due, or owned by a live dispatch."""
    return await conn.fetchval(
        f"""
        update jobs set claimed_by = $2, updated_at = now()
        where id = $1 and (
            (status = 'pending' and claimed_by is null and run_after <= now())
            or (status in ('pending', 'running') and claimed_by is not null and {_STALE.format("$3")})
        )
        returning kind
        """,
        job_id,
        token,
        stale_after_s,
    )


async def reserve_due(conn: asyncpg.Connection, stale_after_s: float, limit: int) -> list[tuple[int, str, str]]:
    """Reserve up to `limit` jobs needing a dispatch; returns (id, token, kind), tokens made here.

    `for update skip locked`: several gateways sweeping at once each take different rows instead
    of queueing behind (and then double-dispatching) the same ones.
    """
    rows = await conn.fetch(
        f"""
        with due as (
            select id from jobs
            where (status = 'pending' and claimed_by is null and run_after <= now())
               or (status in ('pending', 'running') and claimed_by is not null and {_STALE.format("$1")})
            order by run_after
            limit $2
            for update skip locked
        )
        update jobs j set claimed_by = gen_random_uuid()::text, updated_at = now()
        from due where j.id = due.id
        returning j.id, j.claimed_by, j.kind
        """,
        stale_after_s,
        limit,
    )
    return [(r["id"], r["claimed_by"], r["kind"]) for r in rows]


async def release(conn: asyncpg.Connection, job_id: int, token: str) -> bool:
    """Give back a reservation whose task never started (so the next sweep dispatches it)."""
    row = await conn.fetchval(
        """
        update jobs set claimed_by = null, updated_at = now()
        where id = $1 and claimed_by = $2 and status = 'pending'
        returning id
        """,
        job_id,
        token,
    )
    return row is not None


async def claim(conn: asyncpg.Connection, job_id: int, token: str) -> Claim | None:
    """Start an attempt: pending -> running, attempts + 1. Also reclaims a row already running
    under the same token (a Ray retry of the dispatch whose worker died). None if the token no
    longer owns the job, it is done, or its attempts are used up (see `give_up`)."""
    row = await conn.fetchrow(
        """
        update jobs set status = 'running', attempts = attempts + 1,
            started_at = coalesce(started_at, now()), updated_at = now()
        where id = $1 and claimed_by = $2 and status in ('pending', 'running')
            and attempts < max_attempts
        returning id, kind, payload, attempts, max_attempts
        """,
        job_id,
        token,
    )
    return Claim(*row.values()) if row is not None else None


async def give_up(conn: asyncpg.Connection, job_id: int, token: str) -> bool:
    """Fail a job whose attempts are used up and that the token still owns: the previous attempt
    started but never recorded an outcome (its worker died), so there is nothing left to try."""
    row = await conn.fetchval(
        """
        update jobs set status = 'failed', finished_at = now(), updated_at = now(),
            error = format('gave up after %s attempts; the last one never finished (worker died?)%s',
                           attempts, coalesce('; earlier: ' || error, ''))
        where id = $1 and claimed_by = $2 and status in ('pending', 'running')
            and attempts >= max_attempts
        returning id
        """,
        job_id,
        token,
    )
    return row is not None


async def heartbeat(conn: asyncpg.Connection, job_id: int, token: str) -> bool:
    """Keep a running job's claim fresh; False means the claim was lost (stop working on it)."""
    row = await conn.fetchval(
        "update jobs set updated_at = now() where id = $1 and claimed_by = $2 and status = 'running' returning id",
        job_id,
        token,
    )
    return row is not None


async def finish(conn: asyncpg.Connection, job_id: int, token: str, result: Any) -> bool:
    """Record success. The owner token stays in `claimed_by` as the record of who finished it."""
    row = await conn.fetchval(
        """
        update jobs set status = 'finished', result = $3, error = null,
            finished_at = now(), updated_at = now()
        where id = $1 and claimed_by = $2 and status = 'running'
        returning id
        """,
        job_id,
        token,
        result,
    )
    return row is not None


async def fail_attempt(
    conn: asyncpg.Connection, job_id: int, token: str, error: str, retry_in_s: float | None
) -> str | None:
    """Record a failed attempt (or a dispatch whose task died before recording anything).

    With `retry_in_s` the job goes back to pending, unowned, due after the delay, unless its
    attempts are used up; with None it fails for good. Returns the new status, or None if the
    token no longer owns the job (nothing written).
    """
    return await conn.fetchval(
        """
        update jobs set
            status = case when $4::float8 is null or attempts >= max_attempts
                          then 'failed' else 'pending' end,
            run_after = case when $4::float8 is null then run_after
                             else now() + make_interval(secs => $4::float8) end,
            claimed_by = case when $4::float8 is null or attempts >= max_attempts
                              then claimed_by end,
            finished_at = case when $4::float8 is null or attempts >= max_attempts
                               then now() end,
            error = $3, updated_at = now()
        where id = $1 and claimed_by = $2 and status in ('pending', 'running')
        returning status
        """,
        job_id,
        token,
        error,
        retry_in_s,
    )


async def redact_payload(conn: asyncpg.Connection, job_id: int, keys: list[str]) -> None:
    """Drop secrets a job no longer needs from its stored payload (e.g. a sent mail's links)."""
    await conn.execute(
        """update jobs set payload = (payload - $2::text[]) || '{"redacted": true}'::jsonb where id = $1""",
        job_id,
        keys,
    )


@dataclass(frozen=True, slots=True)
class QueueRow:
    """Unfinished jobs of one kind in one state, for /metrics."""

    kind: str
    # "pending" (never attempted), "retry" (attempted, waiting to run again), "running"
    state: str
    depth: int
    # pending and retry: how long the longest-due job has been due (0 when none is due yet);
    # running: how long the longest-running one has run
    oldest_s: float


async def queue_depths(conn: asyncpg.Connection, timeout_s: float) -> list[QueueRow]:
    """Depth and oldest age per kind and state, in one grouped query over the unfinished rows
    (the partial index jobs_unfinished_idx covers them). `timeout_s` bounds the statement, so a
    busy database cannot keep a /metrics scrape waiting."""
    rows = await conn.fetch(
        """
        select kind,
               case when status = 'running' then 'running'
                    when attempts > 0 then 'retry' else 'pending' end as state,
               count(*) as depth,
               coalesce(extract(epoch from now() - min(
                   case when status = 'running' then coalesce(started_at, updated_at) else run_after end
               ) filter (where status = 'running' or run_after <= now())), 0)::float8 as oldest_s
        from jobs
        where status in ('pending', 'running')
        group by 1, 2
        order by 1, 2
        """,
        timeout=timeout_s,
    )
    return [QueueRow(r["kind"], r["state"], r["depth"], r["oldest_s"]) for r in rows]
