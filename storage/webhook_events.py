"""Verified webhook deliveries, one row per (provider, provider's event id)."""

from __future__ import annotations

from typing import Any

import asyncpg

from storage.errors import domain_errors

COLUMNS = (
    "id, provider, event_id, event_type, payload, signature_scheme, status, outcome, tenant_id, "
    "received_at, processed_at"
)


async def insert_once(
    conn: asyncpg.Connection, *, provider: str, event_id: str, event_type: str, payload: Any, scheme: str
) -> int | None:
    """The new row's id, or None when this event id is stored already. `on conflict do nothing`
    waits for a concurrent insert of the same id to commit or roll back, so of any number of
    simultaneous deliveries exactly one gets an id."""
    with domain_errors():
        return await conn.fetchval(
            """
            insert into webhook_events (provider, event_id, event_type, payload, signature_scheme)
            values ($1, $2, $3, $4, $5)
            on conflict (provider, event_id) do nothing
            returning id
            """,
            provider,
            event_id,
            event_type,
            payload,
            scheme,
        )


async def id_of(conn: asyncpg.Connection, provider: str, event_id: str) -> int | None:
    return await conn.fetchval(
        "select id from webhook_events where provider = $1 and event_id = $2", provider, event_id
    )


async def lock(conn: asyncpg.Connection, row_id: int) -> asyncpg.Record | None:
    """The row under its lock (the processing transaction holds it to the end): two runs of one
    event's job are serialized here, and the second sees the first's outcome."""
    return await conn.fetchrow(f"select {COLUMNS} from webhook_events where id = $1 for update", row_id)


async def get(conn: asyncpg.Connection, row_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"select {COLUMNS} from webhook_events where id = $1", row_id)


async def finish(conn: asyncpg.Connection, row_id: int, *, status: str, outcome: str, tenant_id: int | None) -> None:
    await conn.execute(
        """
        update webhook_events set status = $2, outcome = $3, tenant_id = $4, processed_at = now()
        where id = $1
        """,
        row_id,
        status,
        outcome[:500],
        tenant_id,
    )


async def photo_owner(conn: asyncpg.Connection, photo_id: int) -> asyncpg.Record | None:
    """The tenant and state of the photo a media or deletion callback names."""
    return await conn.fetchrow("select id, tenant_id, status from photos where id = $1", photo_id)
