"""The 001 schema's own guarantees: seeds, per-tenant slugs, the feed ordering columns."""

from __future__ import annotations

import asyncpg
import pytest

from gateway.kernel.keys import pool_key
from tests.event_builders import make_event, make_photo, make_tenant


async def test_seeded_packages_emotions_and_tasks(client):
    pool = client.app[pool_key]
    slugs = {r["slug"] for r in await pool.fetch("select slug from packages")}
    assert {"free", "starter", "standard", "pro"} <= slugs
    assert await pool.fetchval("select count(*) from emotions where tenant_id is null") >= 5
    assert await pool.fetchval("select count(*) from tasks where tenant_id is null") >= 5


async def test_event_slug_is_unique_per_tenant_only(client):
    a, b = await make_tenant(client.app), await make_tenant(client.app)
    await make_event(client.app, a["id"], slug="summer-party")
    await make_event(client.app, b["id"], slug="summer-party")
    with pytest.raises(asyncpg.UniqueViolationError):
        await make_event(client.app, a["id"], slug="summer-party")


async def test_approved_photos_take_consecutive_feed_seqs(client):
    tenant = await make_tenant(client.app)
    event = await make_event(client.app, tenant["id"])
    first = await make_photo(client.app, event)
    pending = await make_photo(client.app, event, approved=False)
    second = await make_photo(client.app, event)
    assert (first["feed_seq"], pending["feed_seq"], second["feed_seq"]) == (1, None, 2)
    row = await client.app[pool_key].fetchrow("select feed_version, photo_count from events where id = $1", event["id"])
    assert (row["feed_version"], row["photo_count"]) == (2, 3)
