"""The `ai_requests` table: one row per AI generation (states and moves: domain/ai.py).

Every state change is one conditional UPDATE (`status = any(<the states it may come from>)`, which
domain/ai.py's state machine gives: jobs/ai.py passes them), so a stale or repeated Ray task can
never move a finished or failed row anywhere: it gets None back and knows the row was settled.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from storage.errors import domain_errors

_COLUMNS = (
    "r.id, r.user_id, r.status, r.prompt, r.messages, r.model, r.max_tokens, r.is_async, r.result, "
    "r.error, r.meta, r.job_id, r.created_at, r.updated_at, r.finished_at"
)


async def insert(
    conn: asyncpg.Connection,
    *,
    user_id: int,
    prompt: str,
    messages: list[dict[str, str]] | None,
    model: str | None,
    max_tokens: int,
    is_async: bool,
    meta: dict[str, Any],
) -> int:
    with domain_errors():
        return await conn.fetchval(
            """
            insert into ai_requests (user_id, prompt, messages, model, max_tokens, is_async, meta)
            values ($1, $2, $3, $4, $5, $6, $7)
            returning id
            """,
            user_id,
            prompt,
            messages,
            model,
            max_tokens,
            is_async,
            meta,
        )


async def insert_queued(
    conn: asyncpg.Connection,
    *,
    user_id: int,
    prompt: str,
    messages: list[dict[str, str]] | None,
    model: str | None,
    max_tokens: int,
    is_async: bool,
    meta: dict[str, Any],
    job_kind: str,
    job_payload: dict[str, Any],
    max_attempts: int,
    token: str,
) -> tuple[int, int]:
    """The request and its job in one statement: (request id, job id). The job row is the one
    storage.jobs.insert writes (its first dispatch reserved for `token`, idempotency key
    `ai-request-<id>`), its payload `job_payload` plus `request_id`; the request points at it.
    One round trip instead of three on the hottest write of 003 (insert, queue, attach)."""
    with domain_errors():
        row = await conn.fetchrow(
            """
            with ids as (
                select nextval(pg_get_serial_sequence('ai_requests', 'id')) as rid,
                       nextval(pg_get_serial_sequence('jobs', 'id')) as jid
            ), j as (
                insert into jobs (id, kind, payload, max_attempts, idempotency_key, claimed_by)
                select jid, $8, $9::jsonb || jsonb_build_object('request_id', rid), $10, 'ai-request-' || rid, $11
                from ids
                returning id
            ), r as (
                insert into ai_requests (id, user_id, prompt, messages, model, max_tokens, is_async, meta, job_id)
                select rid, $1, $2, $3, $4, $5, $6, $7, j.id from ids, j
                returning id, job_id
            )
            select id, job_id from r
            """,
            user_id,
            prompt,
            messages,
            model,
            max_tokens,
            is_async,
            meta,
            job_kind,
            job_payload,
            max_attempts,
            token,
        )
    return row["id"], row["job_id"]


async def attach_job(conn: asyncpg.Connection, request_id: int, job_id: int) -> None:
    await conn.execute("update ai_requests set job_id = $2 where id = $1", request_id, job_id)


async def get(conn: asyncpg.Connection, request_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"select {_COLUMNS} from ai_requests r where r.id = $1", request_id)


async def get_for_user(conn: asyncpg.Connection, request_id: int, user_id: int) -> asyncpg.Record | None:
    """The row with its job's status (`job_status`), or None when it is not this user's: another
    user's request and an unknown id are the same answer."""
    return await conn.fetchrow(
        f"""
        select {_COLUMNS}, j.status as job_status
        from ai_requests r left join jobs j on j.id = r.job_id
        where r.id = $1 and r.user_id = $2
        """,
        request_id,
        user_id,
    )


async def move(
    conn: asyncpg.Connection,
    request_id: int,
    status: str,
    *,
    sources: list[str],
    final: bool,
    meta: dict[str, Any],
    result: Any = None,
    error: str | None = None,
) -> asyncpg.Record | None:
    """Move the row to `status` if it is in one of `sources` (domain.ai.sources_of), merging
    `meta` into its meta; a final move stores `result` and stamps finished_at. None if the row
    was elsewhere (settled, or gone)."""
    return await conn.fetchrow(
        f"""
        update ai_requests r
        set status = $2, meta = r.meta || $3::jsonb,
            result = case when $6 then $4::jsonb else r.result end,
            error = $5,
            updated_at = now(),
            finished_at = case when $6 then now() else null end
        where r.id = $1 and r.status = any($7::text[])
        returning {_COLUMNS}
        """,
        request_id,
        status,
        meta,
        result,
        error,
        final,
        sources,
    )
