"""Abandoned uploads (never made into a photo) lose their rows and bytes an hour after expiry."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from domain.media_store import event_media_store
from gateway.events.upload_sweeper import GRACE_S, sweep_abandoned
from gateway.kernel.keys import pool_key, settings_key
from tests.event_builders import jpeg_bytes, make_event, make_tenant


async def _upload(client, event, *, expires_at: datetime, consumed: bool, with_bytes: bool) -> tuple[str, str]:
    upload_id, key = secrets.token_hex(16), f"{event['id']}/uploads/{secrets.token_hex(16)}"
    if with_bytes:
        await event_media_store(client.app[settings_key].media_dir).put(key, jpeg_bytes())
    await client.app[pool_key].execute(
        """insert into photo_uploads (id, event_id, tenant_id, device_id, content_type, declared_size, media_key,
                                      expires_at, received_at, consumed_at)
           values ($1, $2, $3, 'device-sweep-1', 'image/jpeg', 1000, $4, $5::timestamptz,
                   case when $6 then $5::timestamptz end, case when $7 then $5::timestamptz end)""",
        upload_id, event["id"], event["tenant_id"], key, expires_at, with_bytes, consumed,
    )
    return upload_id, key


async def test_sweep_deletes_only_abandoned_uploads_past_the_grace(client):
    event = await make_event(client.app, (await make_tenant(client.app))["id"])
    store = event_media_store(client.app[settings_key].media_dir)
    now = datetime.now(UTC)
    long_ago = now - timedelta(seconds=GRACE_S + 60)
    abandoned = await _upload(client, event, expires_at=long_ago, consumed=False, with_bytes=True)
    never_sent = await _upload(client, event, expires_at=long_ago, consumed=False, with_bytes=False)
    in_grace = await _upload(client, event, expires_at=now - timedelta(seconds=60), consumed=False, with_bytes=True)
    used = await _upload(client, event, expires_at=long_ago, consumed=True, with_bytes=True)
    fresh = await _upload(client, event, expires_at=now + timedelta(minutes=10), consumed=False, with_bytes=True)

    assert await sweep_abandoned(client.app[pool_key], store, now=now) >= 2

    ids = {r["id"] for r in await client.app[pool_key].fetch(
        "select id from photo_uploads where event_id = $1", event["id"]
    )}
    assert ids == {in_grace[0], used[0], fresh[0]}
    assert not await store.exists(abandoned[1]) and not await store.exists(never_sent[1])
    for _, key in (in_grace, used, fresh):
        assert await store.exists(key)
    # nothing left to do: a second sweep finds none of this event's rows
    await sweep_abandoned(client.app[pool_key], store, now=now)
    count = await client.app[pool_key].fetchval("select count(*) from photo_uploads where event_id = $1", event["id"])
    assert count == 3
