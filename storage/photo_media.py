"""What the media route needs to know about one photo: its variant keys, whether guests see it
(the same predicate as the feed, the gallery and the archive: storage.photos.IN_FEED_SQL) and the
figures of its event's gallery window (the package's gallery_days, or the tenant's lower choice).
Read by primary key; domain/media_access.py decides."""

from __future__ import annotations

import asyncpg

from storage.errors import domain_errors
from storage.photos import IN_FEED_SQL

# photos.id is a bigserial; a larger id cannot exist and would overflow the parameter
MAX_ID = 2**63 - 1


async def visibility_row(conn: asyncpg.Connection, event_id: int, photo_id: int) -> asyncpg.Record | None:
    if not (0 < photo_id <= MAX_ID and 0 < event_id <= MAX_ID):
        return None
    with domain_errors():
        # IN_FEED_SQL names photo columns unqualified: evaluated in a subquery over photos alone
        return await conn.fetchrow(
            f"""
            select p.web_key, p.thumb_key, p.in_feed, e.status as event_status, e.ends_at,
                   e.published_at, least(pk.gallery_days, ts.gallery_days) as gallery_days
            from (select web_key, thumb_key, event_id, ({IN_FEED_SQL}) as in_feed
                  from photos where id = $1 and event_id = $2) p
            join events e on e.id = p.event_id
            join tenants t on t.id = e.tenant_id
            join packages pk on pk.id = t.package_id
            left join tenant_settings ts on ts.tenant_id = t.id
            """,
            photo_id,
            event_id,
        )
