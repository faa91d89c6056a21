"""SQL behind an event's live feed: rebuilding it (the feed actor), resolving guest tokens and the
rare poll that reaches back further than the feed keeps in memory (the gateway).

The feed is every photo that is approved AND processed, ordered by `feed_seq` (the event's
`feed_version` at the commit that approved it, so commit order per event).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from storage.errors import domain_errors
from storage.photos import IN_FEED_SQL

# The columns a feed photo carries: what photo_public (gateway/events/photo_views.py) renders, plus
# the ordering key. Shared by the loader and the notifier so both build the same dict.
FEED_COLUMNS = (
    "id", "event_id", "web_key", "thumb_key", "width", "height", "task_id", "emotion_id",
    "is_featured", "created_at", "approved_at", "feed_seq",
)
_SELECT = ", ".join(FEED_COLUMNS)
_IN_FEED = IN_FEED_SQL


async def load_feeds(conn: asyncpg.Connection, event_ids: list[int], *, window: int) -> dict[int, dict[str, Any]]:
    """Per event: feed_version, how many photos the feed holds, per-task photo counts, the newest
    approval time and the newest `window` photos (ascending). Events that do not exist are absent."""
    with domain_errors():
        versions = await conn.fetch("select id, feed_version from events where id = any($1::bigint[])", event_ids)
        if not versions:
            return {}
        totals = await conn.fetch(
            f"""select event_id, count(*) as n, max(approved_at) as latest
                from photos where event_id = any($1::bigint[]) and {_IN_FEED} group by event_id""",
            event_ids,
        )
        tasks = await conn.fetch(
            f"""select event_id, task_id, count(*) as n
                from photos where event_id = any($1::bigint[]) and {_IN_FEED} and task_id is not null
                group by event_id, task_id""",
            event_ids,
        )
        photos = await conn.fetch(
            f"""select p.* from unnest($1::bigint[]) as k(event_id)
                cross join lateral (
                    select {_SELECT} from photos
                    where photos.event_id = k.event_id and {_IN_FEED}
                    order by feed_seq desc limit $2
                ) p
                order by p.event_id, p.feed_seq""",
            event_ids,
            window,
        )
    feeds: dict[int, dict[str, Any]] = {
        r["id"]: {"version": r["feed_version"], "total": 0, "latest_photo_at": None, "task_counts": {}, "photos": []}
        for r in versions
    }
    for r in totals:
        feeds[r["event_id"]]["total"] = r["n"]
        feeds[r["event_id"]]["latest_photo_at"] = r["latest"]
    for r in tasks:
        feeds[r["event_id"]]["task_counts"][r["task_id"]] = r["n"]
    for r in photos:
        feeds[r["event_id"]]["photos"].append(dict(r))
    return feeds


async def event_by_guest_token(conn: asyncpg.Connection, token: str) -> asyncpg.Record | None:
    """The event a guest token names (id, status), or None. Drafts have no token."""
    with domain_errors():
        return await conn.fetchrow("select id, status from events where guest_token = $1", token)


async def feed_photos_after(
    conn: asyncpg.Connection,
    event_id: int,
    *,
    after_seq: int | None = None,
    after_time: datetime | None = None,
    limit: int,
) -> list[asyncpg.Record]:
    """Feed photos after a feed_seq or an approval time (or from the start), ascending, at most
    `limit`. For polls that reach back past the gateway's in-memory window."""
    with domain_errors():
        if after_time is not None:
            return await conn.fetch(
                f"""select {_SELECT} from photos where event_id = $1 and {_IN_FEED} and approved_at > $2
                    order by feed_seq limit $3""",
                event_id, after_time, limit,
            )
        return await conn.fetch(
            f"""select {_SELECT} from photos where event_id = $1 and {_IN_FEED} and feed_seq > $2
                order by feed_seq limit $3""",
            event_id, after_seq or 0, limit,
        )
