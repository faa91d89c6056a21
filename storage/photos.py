"""Event photos: the package's photo slots, creation, the tenant's lists, and the writes of
moderation and of the processing task (domain/moderation.py decides which, in what transaction).

Two rules every writer here keeps:
- Slots. `events.photo_count` counts photos holding a slot against the package's photo_limit: a
  photo holds one unless it failed processing or was rejected. It only grows through the guarded
  UPDATE in `reserve_slot`, so concurrent uploads can never overshoot the limit.
- The feed. A photo is in the event's feed while moderation = 'approved' and status = 'ready'.
  Whatever makes both true bumps `events.feed_version` in the same transaction and stamps the
  photo's feed_seq with it (`enter_feed`); rejecting or (un)featuring a photo in the feed bumps it
  too (`bump_feed_version`). Locks are always taken photo row first, event row second.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from domain.errors import Forbidden
from storage.errors import domain_errors

# What guests see of an event (the feed, the gallery, the archive), as SQL over `photos`
IN_FEED_SQL = "moderation = 'approved' and status = 'ready' and feed_seq is not null"

# The tenant's `?status=` filters (see gateway/events/photos.py for what each means).
STATUS_FILTERS: dict[str, str] = {
    "pending": "status = 'pending'",
    "ready": "status = 'ready'",
    "failed": "status = 'failed'",
    "approved": "moderation = 'approved'",
    "rejected": "moderation = 'rejected'",
    "featured": "is_featured",
    "unmoderated": "status = 'ready' and moderation = 'pending'",
}


def limit_exceeded(limit: int, used: int) -> Forbidden:
    return Forbidden(
        f"{used} of {limit} photos have been uploaded.",
        code="photo_limit_exceeded",
        meta={"limit": limit, "used": used, "remaining": max(0, limit - used)},
    )


def check_room(event: asyncpg.Record) -> None:
    """Refuse early (when an upload URL is asked for) if the event is already full."""
    if event["photo_count"] >= event["photo_limit"]:
        raise limit_exceeded(event["photo_limit"], event["photo_count"])


async def reserve_slot(conn: asyncpg.Connection, event_id: int, limit: int) -> int:
    """Take one slot; 403 `photo_limit_exceeded` when none is left. Call inside the transaction
    that creates (or re-admits) the photo, so a rollback gives the slot back."""
    with domain_errors():
        count = await conn.fetchval(
            "update events set photo_count = photo_count + 1 where id = $1 and photo_count < $2 returning photo_count",
            event_id,
            limit,
        )
        if count is None:
            used = await conn.fetchval("select photo_count from events where id = $1", event_id)
            raise limit_exceeded(limit, used)
    return count


async def photo_limit(conn: asyncpg.Connection, event_id: int) -> int:
    """The event's photo limit: its tenant's package's as it is now, or the tenant's lower choice
    (tenant_settings; least() skips a null)."""
    with domain_errors():
        return await conn.fetchval(
            """
            select least(p.photo_limit, s.photo_limit) from events e
            join tenants t on t.id = e.tenant_id
            join packages p on p.id = t.package_id
            left join tenant_settings s on s.tenant_id = t.id
            where e.id = $1
            """,
            event_id,
        )


async def release_slot(conn: asyncpg.Connection, event_id: int) -> None:
    with domain_errors():
        await conn.execute(
            "update events set photo_count = greatest(photo_count - 1, 0) where id = $1", event_id
        )


async def insert(conn: asyncpg.Connection, **fields: Any) -> asyncpg.Record:
    """A pending photo: event_id, tenant_id, upload_id, device_id, user_id, task_id, emotion_id."""
    with domain_errors():
        return await conn.fetchrow(
            """
            insert into photos (event_id, tenant_id, upload_id, device_id, user_id, task_id, emotion_id)
            values ($1, $2, $3, $4, $5, $6, $7)
            returning *
            """,
            fields["event_id"],
            fields["tenant_id"],
            fields["upload_id"],
            fields.get("device_id"),
            fields.get("user_id"),
            fields.get("task_id"),
            fields.get("emotion_id"),
        )


async def list_for_event(
    conn: asyncpg.Connection, event_id: int, status: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """One page of an event's photos, newest first, and the filter's total."""
    where = "event_id = $1" + (f" and {STATUS_FILTERS[status]}" if status else "")
    with domain_errors():
        rows = await conn.fetch(
            f"select * from photos where {where} order by id desc limit $2 offset $3", event_id, limit, offset
        )
        total = await conn.fetchval(f"select count(*) from photos where {where}", event_id)
    return rows, total


async def lock_tenant_photo(conn: asyncpg.Connection, tenant_id: int, photo_id: int) -> asyncpg.Record | None:
    with domain_errors():
        return await conn.fetchrow(
            "select * from photos where id = $1 and tenant_id = $2 for update", photo_id, tenant_id
        )


async def bump_feed_version(conn: asyncpg.Connection, event_id: int) -> int:
    with domain_errors():
        return await conn.fetchval(
            """
            update events set feed_version = feed_version + 1, updated_at = now()
            where id = $1 returning feed_version
            """,
            event_id,
        )


async def enter_feed(conn: asyncpg.Connection, photo: asyncpg.Record) -> tuple[asyncpg.Record, int]:
    """Approve a ready photo into the feed: the event's next feed_version is its feed_seq."""
    version = await bump_feed_version(conn, photo["event_id"])
    with domain_errors():
        row = await conn.fetchrow(
            """
            update photos set moderation = 'approved', feed_seq = $2, approved_at = now(), updated_at = now()
            where id = $1 returning *
            """,
            photo["id"],
            version,
        )
    return row, version


async def set_moderation(conn: asyncpg.Connection, photo_id: int, moderation: str) -> asyncpg.Record:
    with domain_errors():
        return await conn.fetchrow(
            "update photos set moderation = $2, updated_at = now() where id = $1 returning *", photo_id, moderation
        )


async def set_featured(conn: asyncpg.Connection, photo_id: int, featured: bool) -> asyncpg.Record:
    with domain_errors():
        return await conn.fetchrow(
            "update photos set is_featured = $2, updated_at = now() where id = $1 returning *", photo_id, featured
        )


# -- the image task ------------------------------------------------------------------------------


async def for_processing(conn: asyncpg.Connection, photo_id: int) -> asyncpg.Record | None:
    """The photo with its upload's key and its event's moderation mode."""
    return await conn.fetchrow(
        """
        select p.*, u.media_key as upload_key, e.moderation as event_moderation
        from photos p join events e on e.id = p.event_id
        left join photo_uploads u on u.id = p.upload_id
        where p.id = $1
        """,
        photo_id,
    )


async def lock_for_outcome(conn: asyncpg.Connection, photo_id: int) -> asyncpg.Record | None:
    """The photo row, locked to the end of the transaction, with its event's moderation mode."""
    with domain_errors():
        return await conn.fetchrow(
            """
            select p.*, e.moderation as event_moderation
            from photos p join events e on e.id = p.event_id
            where p.id = $1
            for update of p
            """,
            photo_id,
        )


async def upload_key(conn: asyncpg.Connection, photo_id: int) -> str | None:
    """The media key of the photo's raw upload, while the upload row still exists."""
    with domain_errors():
        return await conn.fetchval(
            "select u.media_key from photos p join photo_uploads u on u.id = p.upload_id where p.id = $1", photo_id
        )


async def mark_ready(conn: asyncpg.Connection, photo_id: int, **fields: Any) -> asyncpg.Record | None:
    """pending -> ready with the variants' keys and the size; None if it was not pending any more
    (another run of the task got there first). Locks the photo row."""
    return await conn.fetchrow(
        """
        update photos set status = 'ready', failure_reason = null, original_key = $2, web_key = $3,
            thumb_key = $4, content_type = $5, width = $6, height = $7, size_bytes = $8, updated_at = now()
        where id = $1 and status = 'pending'
        returning *
        """,
        photo_id,
        fields["original_key"],
        fields["web_key"],
        fields["thumb_key"],
        fields["content_type"],
        fields["width"],
        fields["height"],
        fields["size_bytes"],
    )


async def mark_failed(conn: asyncpg.Connection, photo_id: int, reason: str) -> asyncpg.Record | None:
    """pending -> failed; None if it was not pending any more."""
    return await conn.fetchrow(
        """
        update photos set status = 'failed', failure_reason = $2, updated_at = now()
        where id = $1 and status = 'pending'
        returning *
        """,
        photo_id,
        reason,
    )
