"""Signed uploads (photo_uploads): created with an upload URL, received once, consumed once.

An upload's bytes are written under a key of their own per attempt and the row is pointed at them
only by the conditional `mark_received`, so two PUTs racing for one URL cannot both win, and the
loser's bytes are never the ones a photo is made from.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from storage.errors import domain_errors


async def create(
    conn: asyncpg.Connection,
    *,
    upload_id: str,
    event_id: int,
    tenant_id: int,
    device_id: str | None,
    user_id: int | None,
    content_type: str,
    declared_size: int,
    media_key: str,
    expires_at: datetime,
) -> asyncpg.Record:
    with domain_errors():
        return await conn.fetchrow(
            """
            insert into photo_uploads (id, event_id, tenant_id, device_id, user_id, content_type,
                                       declared_size, media_key, expires_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            returning *
            """,
            upload_id,
            event_id,
            tenant_id,
            device_id,
            user_id,
            content_type,
            declared_size,
            media_key,
            expires_at,
        )


async def get_with_event(conn: asyncpg.Connection, upload_id: str) -> asyncpg.Record | None:
    """The upload and its event's status (archived events take no more bytes)."""
    with domain_errors():
        return await conn.fetchrow(
            """
            select u.*, e.status as event_status
            from photo_uploads u join events e on e.id = u.event_id
            where u.id = $1
            """,
            upload_id,
        )


async def mark_received(conn: asyncpg.Connection, upload_id: str, *, size: int, media_key: str) -> bool:
    """Record the bytes at `media_key`; False if another PUT was recorded first."""
    with domain_errors():
        row = await conn.fetchval(
            """
            update photo_uploads set received_at = now(), received_size = $2, media_key = $3
            where id = $1 and received_at is null
            returning id
            """,
            upload_id,
            size,
            media_key,
        )
    return row is not None


async def lock_for_photo(conn: asyncpg.Connection, upload_id: str, event_id: int) -> asyncpg.Record | None:
    """The event's upload, row-locked until the transaction ends (one photo per upload)."""
    with domain_errors():
        return await conn.fetchrow(
            "select * from photo_uploads where id = $1 and event_id = $2 for update", upload_id, event_id
        )


async def consume(conn: asyncpg.Connection, upload_id: str) -> None:
    with domain_errors():
        await conn.execute("update photo_uploads set consumed_at = now() where id = $1", upload_id)


async def lock_abandoned(conn: asyncpg.Connection, expired_before: datetime, limit: int) -> list[asyncpg.Record]:
    """Uploads that expired before `expired_before` without becoming a photo, row-locked (skipping
    rows another sweeper holds) until the caller's transaction ends."""
    return await conn.fetch(
        """
        select id, media_key from photo_uploads
        where consumed_at is null and expires_at < $1
        order by expires_at limit $2
        for update skip locked
        """,
        expired_before,
        limit,
    )


async def delete_many(conn: asyncpg.Connection, upload_ids: list[str]) -> None:
    await conn.execute("delete from photo_uploads where id = any($1::text[])", upload_ids)
