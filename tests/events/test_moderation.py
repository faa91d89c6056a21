"""Tenant moderation: approve, reject, feature; the feed rule (feed_version bumps and feed_seq
stamps in the same transaction), package slots across decisions, and tenant isolation."""

from __future__ import annotations

import pytest

from domain.tenant_abilities import PHOTOS_WRITE
from gateway.kernel.keys import pool_key
from tests.builders import bearer
from tests.event_builders import make_event, make_package, make_photo, make_tenant, make_tenant_admin
from tests.events import photo_fixtures as fx
from tests.events.photo_fixtures import assert_envelope, pending_photo, run_image_job


@pytest.fixture
async def admin(client):
    """A tenant with a manual-moderation event and an admin token for it."""
    tenant = await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    event = await make_event(client.app, tenant["id"], moderation="manual")
    return tenant, event, token


async def _act(client, photo_id, action: str, token, *, lang: str | None = None, **kwargs):
    headers = {**bearer(token), **({"Accept-Language": lang} if lang else {})}
    return await client.post(f"/api/v1/tenant/photos/{photo_id}/{action}", headers=headers, **kwargs)


async def _photo(client, photo_id: int):
    return await client.app[pool_key].fetchrow("select * from photos where id = $1", photo_id)


async def _event(client, event_id: int):
    return await client.app[pool_key].fetchrow("select * from events where id = $1", event_id)


async def test_approving_a_processed_photo_puts_it_into_the_feed(client, admin):
    _, event, token = admin
    photo = await make_photo(client.app, event, approved=False)
    resp = await _act(client, photo["id"], "approve", token)
    assert resp.status == 200
    data = (await resp.json())["data"]
    assert (data["id"], data["moderation"], data["status"]) == (photo["id"], "approved", "ready")
    assert data["approved_at"] is not None and data["url"].endswith(photo["web_key"])
    row, ev = await _photo(client, photo["id"]), await _event(client, event["id"])
    assert row["feed_seq"] == ev["feed_version"] == 1

    again = await _act(client, photo["id"], "approve", token)  # a repeated decision changes nothing
    assert again.status == 200
    assert (await _event(client, event["id"]))["feed_version"] == 1
    assert (await _photo(client, photo["id"]))["feed_seq"] == 1


async def test_a_photo_approved_while_processing_enters_the_feed_when_ready(client, admin):
    _, event, token = admin
    photo, _ = await pending_photo(client, event, fx.jpeg(24, 24))
    resp = await _act(client, photo["id"], "approve", token)
    assert resp.status == 200
    row = await _photo(client, photo["id"])
    assert (row["moderation"], row["status"], row["feed_seq"]) == ("approved", "pending", None)
    assert (await _event(client, event["id"]))["feed_version"] == 0

    result = await run_image_job(client, photo["id"])
    assert result["in_feed"] is True
    row = await _photo(client, photo["id"])
    assert (row["status"], row["feed_seq"]) == ("ready", (await _event(client, event["id"]))["feed_version"])


async def test_a_photo_rejected_while_processing_stays_out_of_the_feed(client, admin):
    _, event, token = admin
    await client.app[pool_key].execute("update events set moderation = 'auto' where id = $1", event["id"])
    photo, _ = await pending_photo(client, event, fx.jpeg(24, 24))
    assert (await _act(client, photo["id"], "reject", token)).status == 200
    assert (await _event(client, event["id"]))["photo_count"] == 0
    result = await run_image_job(client, photo["id"])
    assert result["in_feed"] is False
    row = await _photo(client, photo["id"])
    assert (row["status"], row["moderation"], row["feed_seq"]) == ("ready", "rejected", None)


async def test_rejecting_takes_a_photo_out_of_the_feed_and_frees_its_slot(client, admin):
    _, event, token = admin
    photo = await make_photo(client.app, event)  # approved, in the feed at seq 1
    assert (await _event(client, event["id"]))["photo_count"] == 1
    resp = await _act(client, photo["id"], "reject", token)
    assert resp.status == 200
    assert (await resp.json())["data"]["moderation"] == "rejected"
    row, ev = await _photo(client, photo["id"]), await _event(client, event["id"])
    assert (ev["feed_version"], ev["photo_count"], row["feed_seq"]) == (2, 0, 1)

    assert (await _act(client, photo["id"], "reject", token)).status == 200
    ev = await _event(client, event["id"])
    assert (ev["feed_version"], ev["photo_count"]) == (2, 0)  # nothing freed or bumped twice

    # rejecting a photo that was never in the feed frees its slot without a bump
    waiting = await make_photo(client.app, event, approved=False)
    assert (await _act(client, waiting["id"], "reject", token)).status == 200
    ev = await _event(client, event["id"])
    assert (ev["feed_version"], ev["photo_count"]) == (2, 0)


async def test_re_approving_a_rejected_photo_needs_a_free_slot(client):
    package = await make_package(client.app, photo_limit=1)
    tenant = await make_tenant(client.app, package=package["slug"])
    _, token = await make_tenant_admin(client.app, tenant["id"])
    event = await make_event(client.app, tenant["id"], moderation="manual")
    first = await make_photo(client.app, event)
    assert (await _act(client, first["id"], "reject", token)).status == 200
    second = await make_photo(client.app, event, approved=False)  # takes the freed slot

    resp = await _act(client, first["id"], "approve", token, lang="de")
    assert resp.status == 403
    error = assert_envelope(await resp.json(), "photo_limit_exceeded")
    assert error["meta"] == {"limit": 1, "used": 1, "remaining": 0}
    assert error["message"] == "Es wurden 1 von 1 Fotos hochgeladen. Bitte kontaktiere das Team für ein Upgrade."
    assert (await _photo(client, first["id"]))["moderation"] == "rejected"

    assert (await _act(client, second["id"], "reject", token)).status == 200
    resp = await _act(client, first["id"], "approve", token)
    assert resp.status == 200
    row, ev = await _photo(client, first["id"]), await _event(client, event["id"])
    assert (row["moderation"], ev["photo_count"]) == ("approved", 1)
    assert row["feed_seq"] == ev["feed_version"] > 1  # back in the feed as a new entry


async def test_featuring_bumps_the_feed_only_for_photos_in_it(client, admin):
    _, event, token = admin
    photo = await make_photo(client.app, event)
    resp = await _act(client, photo["id"], "feature", token)  # no body: featured
    assert resp.status == 200
    assert (await resp.json())["data"]["is_featured"] is True
    row, ev = await _photo(client, photo["id"]), await _event(client, event["id"])
    assert (row["is_featured"], row["feed_seq"], ev["feed_version"]) == (True, 1, 2)

    assert (await _act(client, photo["id"], "feature", token, json={"featured": True})).status == 200
    assert (await _event(client, event["id"]))["feed_version"] == 2  # unchanged: no bump
    resp = await _act(client, photo["id"], "feature", token, json={"featured": False})
    assert (await resp.json())["data"]["is_featured"] is False
    assert (await _event(client, event["id"]))["feed_version"] == 3

    waiting = await make_photo(client.app, event, approved=False)
    assert (await _act(client, waiting["id"], "feature", token, json={"featured": True})).status == 200
    assert (await _photo(client, waiting["id"]))["is_featured"] is True
    assert (await _event(client, event["id"]))["feed_version"] == 3

    for body in ({"featured": "yes"}, {"featured": None}):
        resp = await _act(client, photo["id"], "feature", token, json=body)
        assert resp.status == 422
        assert set(assert_envelope(await resp.json(), "validation_failed")["meta"]["fields"]) == {"featured"}


async def test_failed_photos_cannot_be_approved_or_featured(client, admin):
    _, event, token = admin
    failed = await make_photo(client.app, event, approved=False, status="failed")
    for action in ("approve", "feature"):
        resp = await _act(client, failed["id"], action, token, lang="de")
        assert resp.status == 409
        message = assert_envelope(await resp.json(), "photo_failed")["message"]
        assert message == "Dieses Foto konnte nicht verarbeitet werden."
    assert (await _act(client, failed["id"], "reject", token)).status == 200


async def test_another_tenants_photos_cannot_be_moderated(client, admin):
    tenant, event, token = admin
    photo = await make_photo(client.app, event, approved=False)
    other = await make_tenant(client.app)
    _, stranger = await make_tenant_admin(client.app, other["id"])
    for action in ("approve", "reject", "feature"):
        resp = await _act(client, photo["id"], action, stranger, lang="de")
        assert resp.status == 404
        message = assert_envelope(await resp.json(), "not_found")["message"]
        assert message == "Die angeforderte Ressource wurde nicht gefunden."
        for bad in ("abc", "0", "99999999999"):
            assert (await _act(client, bad, action, token)).status == 404
        resp = await client.post(f"/api/v1/tenant/photos/{photo['id']}/{action}")
        assert resp.status == 401
        assert_envelope(await resp.json(), "unauthenticated")
    _, writer = await make_tenant_admin(client.app, tenant["id"], abilities=(PHOTOS_WRITE,))
    resp = await _act(client, photo["id"], "approve", writer)
    assert resp.status == 403
    assert assert_envelope(await resp.json(), "missing_ability")["meta"]["required"] == ["photos:moderate"]
    row = await _photo(client, photo["id"])
    assert (row["moderation"], row["is_featured"]) == ("pending", False)
