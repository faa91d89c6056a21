"""stats_poll and stats_poll_304: 001's GET /api/v1/events/{token}/stats for a busy event.

The event has PHOTOS approved photos over TASKS tasks. Roost answers from its feed snapshot
(token cache, SnapshotCache, precomputed body and ETag) behind the full middleware stack; the
baseline is a bare aiohttp handler returning the very bytes Roost answered, with the same headers,
from memory. stats_poll sends no validator (200s); stats_poll_304 sends the current ETag in
If-None-Match (304s with no body). No X-Device-Id: presence would change the body mid-run.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import aiohttp

from loadtests.registry import HttpScenario, HttpTarget, SetupContext, register

PHOTOS = 300
TASKS = 6


async def seed_busy_event(ctx: SetupContext) -> dict[str, Any]:
    """A tenant, a published event with PHOTOS approved photos in its feed; then the stats body
    Roost serves is handed to the baseline so both sides send the same bytes."""
    import asyncpg

    token = secrets.token_urlsafe(24)
    conn = await asyncpg.connect(ctx.database_url)
    try:
        async with conn.transaction():
            slug = f"bench-{uuid.uuid4().hex[:10]}"
            tenant_id = await conn.fetchval(
                """insert into tenants (name, slug, package_id)
                   values ('Bench', $1, (select id from packages where slug = 'pro')) returning id""",
                slug,
            )
            event_id = await conn.fetchval(
                """insert into events
                       (tenant_id, name, slug, status, guest_token, published_at, feed_version, photo_count)
                   values ($1, 'Bench party', $2, 'published', $3, now(), $4, $5) returning id""",
                tenant_id, slug, token, PHOTOS, PHOTOS,
            )
            task_rows = await conn.fetch("select id from tasks where tenant_id is null order by id limit $1", TASKS)
            task_ids = [r["id"] for r in task_rows]
            await conn.execute(
                """insert into photos (event_id, tenant_id, status, moderation, task_id, web_key, thumb_key,
                                       original_key, content_type, width, height, feed_seq, approved_at)
                   select $1, $2, 'ready', 'approved', ($4::bigint[])[1 + g % cardinality($4::bigint[])],
                          $5 || '/' || g || '-bench/web.jpg', $5 || '/' || g || '-bench/thumb.jpg',
                          $5 || '/' || g || '-bench/original.jpg', 'image/jpeg', 1600, 1200, g,
                          now() - interval '1 hour' + g * interval '1 second'
                   from generate_series(1, $3) g""",
                event_id, tenant_id, PHOTOS, task_ids, str(event_id),
            )
    finally:
        await conn.close()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{ctx.ours_url}/api/v1/events/{token}/stats") as resp:
            if resp.status != 200:
                raise RuntimeError(f"stats setup: {resp.status} {await resp.text()}")
            body, etag = await resp.read(), resp.headers["ETag"]
        async with http.post(f"{ctx.baseline_url}/memory/stats-{token}", data=body, headers={"ETag": etag}) as resp:
            if resp.status != 204:
                raise RuntimeError(f"baseline setup: {resp.status}")
    return {"token": token, "etag": etag}


register(
    HttpScenario(
        name="stats_poll",
        ours=HttpTarget("/api/v1/events/{token}/stats"),
        baseline=HttpTarget("/memory/stats-{token}"),
        setup=seed_busy_event,
    )
)
register(
    HttpScenario(
        name="stats_poll_304",
        ours=HttpTarget("/api/v1/events/{token}/stats", headers={"If-None-Match": "{etag}"}),
        baseline=HttpTarget("/memory/stats-{token}", headers={"If-None-Match": "{etag}"}),
        setup=seed_busy_event,
    )
)
