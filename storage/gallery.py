"""Approved photos for the public gallery and the tenant's ZIP archive.

"Approved" here means what guests may see: moderation approved, processing ready, and a feed_seq.
feed_seq is handed out per event under the event row's lock (0008), so it grows in commit order:
paging downwards from a seen feed_seq can never meet a photo approved later.
"""

from __future__ import annotations

import asyncpg

from storage.photos import IN_FEED_SQL

# photos.id is a bigserial; a larger id cannot exist and would overflow the parameter
MAX_ID = 2**63 - 1

_VISIBLE = IN_FEED_SQL


async def page_before(
    conn: asyncpg.Connection, event_id: int, before_seq: int | None, limit: int
) -> list[asyncpg.Record]:
    """Up to `limit` approved photos, newest approval first, strictly older than `before_seq`."""
    return await conn.fetch(
        f"""
        select * from photos
        where event_id = $1 and {_VISIBLE} and ($2::bigint is null or feed_seq < $2)
        order by feed_seq desc
        limit $3
        """,
        event_id,
        before_seq,
        limit,
    )


async def approved_photo(conn: asyncpg.Connection, event_id: int, photo_id: int) -> asyncpg.Record | None:
    if not 0 < photo_id <= MAX_ID:
        return None
    return await conn.fetchrow(
        f"select * from photos where id = $1 and event_id = $2 and {_VISIBLE}", photo_id, event_id
    )


async def archive_batch(
    conn: asyncpg.Connection, tenant_id: int, event_id: int, after_id: int, limit: int
) -> list[asyncpg.Record]:
    """The next `limit` approved photos with an original, by id (keyset, so a long export reads
    in short queries and holds no connection while it streams)."""
    return await conn.fetch(
        f"""
        select id, original_key, content_type, approved_at, created_at from photos
        where event_id = $1 and tenant_id = $2 and {_VISIBLE} and original_key is not null and id > $3
        order by id
        limit $4
        """,
        event_id,
        tenant_id,
        after_id,
        limit,
    )
