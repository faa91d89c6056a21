"""001 tenant events: CRUD, publish, archive, the event limit, slugs and tenant isolation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from domain.media_store import event_media_store
from domain.tenant_abilities import EVENTS_READ, EVENTS_WRITE
from gateway.kernel.keys import pool_key, settings_key
from tests.builders import bearer, make_token, make_user
from tests.event_builders import assert_error, make_event, make_package, make_photo, make_tenant, make_tenant_admin

BASE = "/api/v1/tenant/events"
DE = {"Accept-Language": "de"}



async def _admin(client, package: str = "standard", **kwargs):
    tenant = await make_tenant(client.app, package=package)
    _, token = await make_tenant_admin(client.app, tenant["id"], **kwargs)
    return tenant, bearer(token)


# ---- create ----


async def test_create_derives_slug_and_starts_as_draft(client):
    tenant, auth = await _admin(client)
    resp = await client.post(BASE, json={"name": "Anna & Bén's Wedding!"}, headers=auth)
    assert resp.status == 201, await resp.text()
    event = (await resp.json())["data"]
    assert event["slug"] == "anna-ben-s-wedding"
    assert (event["status"], event["moderation"], event["guest_token"]) == ("draft", "auto", None)
    assert event["photo_count"] == 0 and event["gallery_expires_at"] is None
    assert event["created_at"].endswith("Z") and event["published_at"] is None
    assert set(event) >= {"id", "name", "description", "starts_at", "ends_at", "archived_at", "updated_at"}
    stored = await client.app[pool_key].fetchval("select tenant_id from events where id = $1", event["id"])
    assert stored == tenant["id"]


async def test_create_with_every_field(client):
    _, auth = await _admin(client)
    body = {
        "name": "Summer party",
        "slug": "summer-2026",
        "description": "Bring sunscreen.",
        "starts_at": "2026-07-01T18:00:00+02:00",
        "ends_at": "2026-07-02T02:00:00Z",
        "moderation": "manual",
    }
    resp = await client.post(BASE, json=body, headers=auth)
    assert resp.status == 201
    event = (await resp.json())["data"]
    assert event["slug"] == "summer-2026" and event["moderation"] == "manual"
    assert event["starts_at"] == "2026-07-01T16:00:00Z" and event["ends_at"] == "2026-07-02T02:00:00Z"
    assert event["description"] == "Bring sunscreen."


async def test_derived_slug_is_numbered_when_taken(client):
    _, auth = await _admin(client)
    slugs = []
    for _ in range(3):
        resp = await client.post(BASE, json={"name": "Family Reunion"}, headers=auth)
        assert resp.status == 201
        slugs.append((await resp.json())["data"]["slug"])
    assert slugs == ["family-reunion", "family-reunion-2", "family-reunion-3"]


async def test_name_without_slug_characters_gets_a_fallback_slug(client):
    _, auth = await _admin(client)
    resp = await client.post(BASE, json={"name": "🎉🎉"}, headers=auth)
    assert resp.status == 201
    assert (await resp.json())["data"]["slug"] == "event"


async def test_explicit_duplicate_slug_is_409_slug_taken_localized(client):
    tenant, auth = await _admin(client)
    await make_event(client.app, tenant["id"], slug="gala")
    resp = await client.post(BASE, json={"name": "Gala", "slug": "gala"}, headers=auth)
    err = await assert_error(resp, 409, "slug_taken")
    assert err["meta"] == {"slug": "gala"} and "gala" in err["message"]
    resp = await client.post(BASE, json={"name": "Gala", "slug": "gala"}, headers={**auth, **DE})
    err = await assert_error(resp, 409, "slug_taken")
    assert err["title"] == "Kurzname vergeben" and "gala" in err["message"]
    assert resp.headers["Content-Language"] == "de"


async def test_same_slug_in_another_tenant_is_fine(client):
    other = await make_tenant(client.app)
    await make_event(client.app, other["id"], slug="shared-slug")
    _, auth = await _admin(client)
    resp = await client.post(BASE, json={"name": "Mine", "slug": "shared-slug"}, headers=auth)
    assert resp.status == 201


async def test_create_validation_names_each_field(client):
    _, auth = await _admin(client)
    cases = [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "Ok", "slug": "Not Valid"}, "slug"),
        ({"name": "Ok", "slug": "-leading"}, "slug"),
        ({"name": "Ok", "slug": "a" * 101}, "slug"),
        ({"name": "Ok", "moderation": "sometimes"}, "moderation"),
        ({"name": "Ok", "starts_at": "yesterday"}, "starts_at"),
        ({"name": "Ok", "starts_at": 12}, "starts_at"),
        ({"name": "Ok", "ends_at": "9999-12-31T23:00:00-05:00"}, "ends_at"),
        ({"name": "Ok", "description": "d" * 5001}, "description"),
        ({"name": "Ok", "starts_at": "2026-05-02T10:00:00Z", "ends_at": "2026-05-01T10:00:00Z"}, "ends_at"),
    ]
    for body, field in cases:
        resp = await client.post(BASE, json=body, headers=auth)
        err = await assert_error(resp, 422, "validation_failed")
        assert field in err["meta"]["fields"], (body, err)
    resp = await client.post(BASE, json={}, headers={**auth, **DE})
    err = await assert_error(resp, 422, "validation_failed")
    assert err["message"] == "Die übermittelten Daten sind ungültig."


async def test_create_needs_a_token_the_ability_and_a_tenant(client):
    resp = await client.post(BASE, json={"name": "x"})
    await assert_error(resp, 401, "unauthenticated")
    _, read_only = await _admin(client, abilities=(EVENTS_READ,))
    resp = await client.post(BASE, json={"name": "x"}, headers=read_only)
    err = await assert_error(resp, 403, "missing_ability")
    assert EVENTS_WRITE in err["meta"]["required"]
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], abilities=("*",))
    resp = await client.post(BASE, json={"name": "x"}, headers=bearer(token))
    await assert_error(resp, 403, "not_a_tenant_admin")


async def test_event_limit_counts_events_not_archived(client):
    package = await make_package(client.app, event_limit=2)
    tenant, auth = await _admin(client, package=package["slug"])
    first = await make_event(client.app, tenant["id"], status="draft")
    await make_event(client.app, tenant["id"])
    await make_event(client.app, tenant["id"], status="archived")
    resp = await client.post(BASE, json={"name": "Third"}, headers=auth)
    err = await assert_error(resp, 403, "event_limit_reached")
    assert err["meta"] == {"limit": 2, "used": 2}
    resp = await client.post(BASE, json={"name": "Third"}, headers={**auth, **DE})
    err = await assert_error(resp, 403, "event_limit_reached")
    assert "2 aktive Events" in err["message"]
    assert (await client.post(f"{BASE}/{first['id']}/archive", headers=auth)).status == 200
    assert (await client.post(BASE, json={"name": "Third"}, headers=auth)).status == 201


async def test_event_limit_holds_under_concurrent_creates(client):
    package = await make_package(client.app, event_limit=2)
    tenant, auth = await _admin(client, package=package["slug"])
    responses = await asyncio.gather(*(client.post(BASE, json={"name": f"E{i}"}, headers=auth) for i in range(6)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [201, 201, 403, 403, 403, 403]
    count = await client.app[pool_key].fetchval("select count(*) from events where tenant_id = $1", tenant["id"])
    assert count == 2


# ---- list and show ----


async def test_list_paginates_filters_and_isolates_tenants(client):
    tenant, auth = await _admin(client)
    other = await make_tenant(client.app)
    await make_event(client.app, other["id"])
    ids = [(await make_event(client.app, tenant["id"], status=s))["id"] for s in ("draft", "published", "published")]
    resp = await client.get(BASE, params={"per_page": "2"}, headers=auth)
    assert resp.status == 200
    body = await resp.json()
    assert [e["id"] for e in body["data"]] == ids[::-1][:2]
    assert body["meta"]["total"] == 3 and body["meta"]["per_page"] == 2 and body["meta"]["last_page"] == 2
    assert body["links"]["next"].endswith("page=2&per_page=2")
    resp = await client.get(BASE, params={"per_page": "2", "page": "2"}, headers=auth)
    assert [e["id"] for e in (await resp.json())["data"]] == [ids[0]]
    resp = await client.get(BASE, params={"status": "published"}, headers=auth)
    body = await resp.json()
    assert {e["id"] for e in body["data"]} == set(ids[1:]) and body["meta"]["total"] == 2


async def test_list_rejects_bad_paging_and_status(client):
    _, auth = await _admin(client)
    for params, field in (({"per_page": "101"}, "per_page"), ({"page": "0"}, "page"), ({"status": "open"}, "status")):
        resp = await client.get(BASE, params=params, headers=auth)
        err = await assert_error(resp, 422, "validation_failed")
        assert field in err["meta"]["fields"]
    resp = await client.get(BASE)
    await assert_error(resp, 401, "unauthenticated")
    _, no_read = await _admin(client, abilities=(EVENTS_WRITE,))
    await assert_error(await client.get(BASE, headers=no_read), 403, "missing_ability")


async def test_show_own_event_and_404_for_others(client):
    tenant, auth = await _admin(client)
    mine = await make_event(client.app, tenant["id"], ends_at=None)
    resp = await client.get(f"{BASE}/{mine['id']}", headers=auth)
    assert resp.status == 200
    event = (await resp.json())["data"]
    assert event["guest_token"] == mine["guest_token"] and event["status"] == "published"
    assert event["gallery_expires_at"] is not None
    theirs = await make_event(client.app, (await make_tenant(client.app))["id"])
    for path in (theirs["id"], "abc", "0", "99999999999999999999", "-1"):
        resp = await client.get(f"{BASE}/{path}", headers=auth)
        err = await assert_error(resp, 404, "not_found")
        assert "guest_token" not in str(err)
    resp = await client.get(f"{BASE}/{theirs['id']}", headers={**auth, **DE})
    assert (await assert_error(resp, 404, "not_found"))["title"] == "Nicht gefunden"


# ---- update ----


async def test_update_changes_only_given_fields(client):
    tenant, auth = await _admin(client)
    event = await make_event(client.app, tenant["id"], description="Keep me", starts_at=None)
    resp = await client.put(f"{BASE}/{event['id']}", json={"name": "Renamed", "moderation": "manual"}, headers=auth)
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert (data["name"], data["moderation"], data["slug"], data["description"]) == (
        "Renamed", "manual", event["slug"], "Keep me",
    )
    resp = await client.put(f"{BASE}/{event['id']}", json={"description": None, "slug": "new-slug"}, headers=auth)
    data = (await resp.json())["data"]
    assert data["description"] is None and data["slug"] == "new-slug" and data["name"] == "Renamed"


async def test_update_validates_against_the_stored_times_and_slugs(client):
    tenant, auth = await _admin(client)
    event = await make_event(client.app, tenant["id"], starts_at=datetime(2026, 5, 2, 10, tzinfo=UTC))
    await make_event(client.app, tenant["id"], slug="taken")
    resp = await client.put(f"{BASE}/{event['id']}", json={"ends_at": "2026-05-01T10:00:00Z"}, headers=auth)
    assert "ends_at" in (await assert_error(resp, 422, "validation_failed"))["meta"]["fields"]
    resp = await client.put(f"{BASE}/{event['id']}", json={"slug": "taken"}, headers=auth)
    await assert_error(resp, 409, "slug_taken")
    for body, field in (({"name": None}, "name"), ({"slug": None}, "slug"), ({"moderation": "x"}, "moderation")):
        resp = await client.put(f"{BASE}/{event['id']}", json=body, headers=auth)
        assert field in (await assert_error(resp, 422, "validation_failed"))["meta"]["fields"]
    row = await client.app[pool_key].fetchrow("select slug, ends_at from events where id = $1", event["id"])
    assert (row["slug"], row["ends_at"]) == (event["slug"], None)


async def test_update_other_tenants_event_is_404_before_validation(client):
    _, auth = await _admin(client)
    theirs = await make_event(client.app, (await make_tenant(client.app))["id"])
    resp = await client.put(f"{BASE}/{theirs['id']}", json={"name": None}, headers=auth)
    await assert_error(resp, 404, "not_found")
    resp = await client.put(f"{BASE}/{theirs['id']}", json={"name": "Hijacked"}, headers=auth)
    await assert_error(resp, 404, "not_found")
    assert await client.app[pool_key].fetchval("select name from events where id = $1", theirs["id"]) == theirs["name"]
    _, read_only = await _admin(client, abilities=(EVENTS_READ,))
    await assert_error(await client.put(f"{BASE}/{theirs['id']}", json={}, headers=read_only), 403, "missing_ability")


# ---- delete ----


async def test_delete_removes_rows_and_media(client):
    tenant, auth = await _admin(client)
    event = await make_event(client.app, tenant["id"])
    photo = await make_photo(client.app, event)
    store = event_media_store(client.app[settings_key].media_dir)
    assert await store.exists(photo["original_key"])
    resp = await client.delete(f"{BASE}/{event['id']}", headers=auth)
    assert resp.status == 204 and await resp.read() == b""
    pool = client.app[pool_key]
    assert await pool.fetchval("select count(*) from events where id = $1", event["id"]) == 0
    assert await pool.fetchval("select count(*) from photos where event_id = $1", event["id"]) == 0
    assert not await store.exists(photo["original_key"])
    assert not store.path(str(event["id"])).exists()
    await assert_error(await client.delete(f"{BASE}/{event['id']}", headers=auth), 404, "not_found")


async def test_delete_other_tenants_event_is_404_and_keeps_it(client):
    _, auth = await _admin(client)
    theirs = await make_event(client.app, (await make_tenant(client.app))["id"])
    await assert_error(await client.delete(f"{BASE}/{theirs['id']}", headers=auth), 404, "not_found")
    assert await client.app[pool_key].fetchval("select count(*) from events where id = $1", theirs["id"]) == 1
    _, read_only = await _admin(client, abilities=(EVENTS_READ,))
    await assert_error(await client.delete(f"{BASE}/{theirs['id']}", headers=read_only), 403, "missing_ability")


# ---- publish and archive ----


async def test_publish_mints_a_token_once_and_is_idempotent(client):
    tenant, auth = await _admin(client)
    event = await make_event(client.app, tenant["id"], status="draft")
    resp = await client.post(f"{BASE}/{event['id']}/publish", headers=auth)
    assert resp.status == 200
    first = (await resp.json())["data"]
    assert first["status"] == "published" and first["published_at"] is not None
    assert len(first["guest_token"]) == 32 and first["guest_token"] != event["slug"]
    again = (await (await client.post(f"{BASE}/{event['id']}/publish", headers=auth)).json())["data"]
    assert (again["guest_token"], again["published_at"]) == (first["guest_token"], first["published_at"])
    assert first["gallery_expires_at"] is not None


async def test_archive_keeps_the_token_and_blocks_republishing(client):
    tenant, auth = await _admin(client)
    event = await make_event(client.app, tenant["id"])
    resp = await client.post(f"{BASE}/{event['id']}/archive", headers=auth)
    assert resp.status == 200
    data = (await resp.json())["data"]
    assert data["status"] == "archived" and data["archived_at"] is not None
    assert data["guest_token"] == event["guest_token"]
    again = await client.post(f"{BASE}/{event['id']}/archive", headers=auth)
    assert (await again.json())["data"]["archived_at"] == data["archived_at"]
    err = await assert_error(await client.post(f"{BASE}/{event['id']}/publish", headers=auth), 409, "event_archived")
    assert "archived" in err["message"]
    resp = await client.post(f"{BASE}/{event['id']}/publish", headers={**auth, **DE})
    assert (await assert_error(resp, 409, "event_archived"))["title"] == "Event archiviert"


async def test_archive_a_draft_leaves_it_without_token(client):
    tenant, auth = await _admin(client)
    event = await make_event(client.app, tenant["id"], status="draft")
    data = (await (await client.post(f"{BASE}/{event['id']}/archive", headers=auth)).json())["data"]
    assert data["status"] == "archived" and data["guest_token"] is None and data["published_at"] is None


async def test_publish_and_archive_guard_tenant_and_ability(client):
    _, auth = await _admin(client)
    theirs = await make_event(client.app, (await make_tenant(client.app))["id"], status="draft")
    for action in ("publish", "archive"):
        await assert_error(await client.post(f"{BASE}/{theirs['id']}/{action}", headers=auth), 404, "not_found")
        await assert_error(await client.post(f"{BASE}/nope/{action}", headers=auth), 404, "not_found")
        await assert_error(await client.post(f"{BASE}/{theirs['id']}/{action}"), 401, "unauthenticated")
    _, read_only = await _admin(client, abilities=(EVENTS_READ,))
    await assert_error(await client.post(f"{BASE}/{theirs['id']}/publish", headers=read_only), 403, "missing_ability")
    status = await client.app[pool_key].fetchval("select status from events where id = $1", theirs["id"])
    assert status == "draft"
