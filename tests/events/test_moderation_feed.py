"""Moderation's changes reach a feed already in memory: the routes and the image task tell the
event's feed actor after their commit (domain/moderation.py's tell_feed over the real
FeedNotifier and Ray shard actors).

A feed the actor holds only learns of a change through that notification (it reloads from
PostgreSQL when a notification skips a version, never on its own), so a guest poll that shows the
change proves the notification arrived."""

from __future__ import annotations

import pytest

from tests.builders import bearer
from tests.event_builders import make_event, make_photo, make_tenant, make_tenant_admin
from tests.events import photo_fixtures as fx
from tests.events.photo_fixtures import pending_photo, run_image_job
from tests.waiting import eventually

# the app below refreshes its snapshots every 0.1 s; a notification shows well within this
SHOWS_WITHIN_S = 3.0


@pytest.fixture
async def fast(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    return await aiohttp_client(create_app(settings.model_copy(update={"snapshot_interval_s": 0.1})))


async def _guest_feed(client, event) -> dict[int, dict]:
    resp = await client.get(f"/api/v1/events/{event['guest_token']}/photos")
    assert resp.status == 200
    return {p["id"]: p for p in (await resp.json())["data"]}


async def _until(client, event, expected) -> None:
    """Poll the guest feed until `expected(feed)` holds (bounded)."""

    async def holds() -> bool:
        return expected(await _guest_feed(client, event))

    await eventually(holds, timeout=SHOWS_WITHIN_S, interval=0.05, what="the guest feed showing the change")


def _featured(feed: dict[int, dict], photo_id: int) -> bool | None:
    return feed[photo_id]["is_featured"] if photo_id in feed else None


async def test_approve_feature_and_reject_reach_a_feed_in_memory(fast):
    tenant = await make_tenant(fast.app)
    _, token = await make_tenant_admin(fast.app, tenant["id"])
    event = await make_event(fast.app, tenant["id"], moderation="manual")
    photo = await make_photo(fast.app, event, approved=False)
    assert await _guest_feed(fast, event) == {}  # the actor holds the (empty) feed now

    async def act(action: str, **kwargs) -> None:
        resp = await fast.post(f"/api/v1/tenant/photos/{photo['id']}/{action}", headers=bearer(token), **kwargs)
        assert resp.status == 200

    await act("approve")
    await _until(fast, event, lambda feed: photo["id"] in feed)
    assert _featured(await _guest_feed(fast, event), photo["id"]) is False
    await act("feature")
    await _until(fast, event, lambda feed: _featured(feed, photo["id"]) is True)
    await act("reject")
    await _until(fast, event, lambda feed: feed == {})


async def test_auto_moderation_puts_a_processed_photo_into_a_feed_in_memory(fast):
    tenant = await make_tenant(fast.app)
    event = await make_event(fast.app, tenant["id"])  # moderation auto
    assert await _guest_feed(fast, event) == {}
    photo, _ = await pending_photo(fast, event, fx.jpeg(24, 24))
    result = await run_image_job(fast, photo["id"])
    assert (result["outcome"], result["in_feed"], result["feed_version"]) == ("ready", True, 1)
    await _until(fast, event, lambda feed: list(feed) == [photo["id"]])
