"""001 GET /events/{token}: token-only guest access, branding and limits, 404s in the envelope."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.kernel.keys import pool_key
from tests.event_builders import assert_error, make_event, make_package, make_photo, make_tenant

DE = {"Accept-Language": "de"}



async def test_guest_sees_the_published_event_by_token(client):
    package = await make_package(client.app, photo_limit=5, gallery_days=10)
    tenant = await make_tenant(client.app, package=package["slug"], theme={"primary_color": "#000000", "logo_url": 7})
    event = await make_event(
        client.app, tenant["id"], moderation="manual", description="Welcome!",
        starts_at=datetime(2026, 6, 1, 12, tzinfo=UTC), ends_at=datetime(2026, 6, 2, 2, tzinfo=UTC),
    )
    await make_photo(client.app, event)
    await make_photo(client.app, event, approved=False)
    resp = await client.get(f"/api/v1/events/{event['guest_token']}", headers={"X-Device-Id": "guest-device-0001"})
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert data["id"] == event["id"] and data["name"] == event["name"] and data["description"] == "Welcome!"
    assert (data["status"], data["moderation"]) == ("published", "manual")
    assert (data["starts_at"], data["ends_at"]) == ("2026-06-01T12:00:00Z", "2026-06-02T02:00:00Z")
    # the tenant's colour, defaults for what it left out or set to something that is not a string
    assert data["branding"]["primary_color"] == "#000000"
    assert data["branding"]["secondary_color"].startswith("#") and data["branding"]["logo_url"] is None
    assert data["limits"] == {"photo_limit": 5, "photos_remaining": 3}
    assert data["gallery_expires_at"] == "2026-06-12T02:00:00Z"
    # guests never learn the slug, and the token is already theirs
    assert "slug" not in data and "guest_token" not in data and "tenant_id" not in data


async def test_photos_remaining_never_goes_negative(client):
    package = await make_package(client.app, photo_limit=1)
    event = await make_event(client.app, (await make_tenant(client.app, package=package["slug"]))["id"])
    await client.app[pool_key].execute("update events set photo_count = 3 where id = $1", event["id"])
    data = (await (await client.get(f"/api/v1/events/{event['guest_token']}")).json())["data"]
    assert data["limits"] == {"photo_limit": 1, "photos_remaining": 0}


async def test_archived_event_is_still_readable(client):
    event = await make_event(client.app, (await make_tenant(client.app))["id"], status="archived")
    resp = await client.get(f"/api/v1/events/{event['guest_token']}")
    assert resp.status == 200
    assert (await resp.json())["data"]["status"] == "archived"


async def test_slug_unknown_token_and_drafts_are_404_event_not_found(client):
    tenant = await make_tenant(client.app)
    event = await make_event(client.app, tenant["id"], slug="open-house")
    draft = await make_event(client.app, tenant["id"], status="draft")
    # a draft that somehow holds a token is still unreachable
    draft_token = "draft-token-" + "x" * 20
    await client.app[pool_key].execute("update events set guest_token = $2 where id = $1", draft["id"], draft_token)
    for token in ("open-house", str(event["id"]), "no-such-token-aaaaaaaaaaaaaaaaaaaaa", draft_token, "t" * 500):
        resp = await client.get(f"/api/v1/events/{token}")
        err = await assert_error(resp, 404, "event_not_found")
        assert err["message"] == "This event does not exist or is not available."
    resp = await client.get("/api/v1/events/open-house", headers=DE)
    err = await assert_error(resp, 404, "event_not_found")
    assert err["title"] == "Event nicht gefunden" and "existiert nicht" in err["message"]


async def test_a_malformed_device_id_is_400(client):
    event = await make_event(client.app, (await make_tenant(client.app))["id"])
    resp = await client.get(f"/api/v1/events/{event['guest_token']}", headers={"X-Device-Id": "bad id!"})
    await assert_error(resp, 400, "device_id_invalid")
