"""001 super-admin reads: GET /tenants and GET /tenants/{tenant}."""

from __future__ import annotations

from tests.builders import bearer, make_token, make_user
from tests.event_builders import assert_error, make_event, make_tenant, make_tenant_admin

TENANTS = "/api/v1/tenants"


async def super_admin(client, abilities: tuple[str, ...] = ("*",)):
    user = await make_user(client.app, admin=True)
    return await make_token(client.app, user["id"], abilities=abilities)


async def test_read_shows_package_and_counts(client):
    token = await super_admin(client)
    tenant = await make_tenant(client.app, package="pro", name="Counted")
    await make_tenant_admin(client.app, tenant["id"])
    await make_tenant_admin(client.app, tenant["id"])
    await make_event(client.app, tenant["id"])
    await make_event(client.app, tenant["id"], status="draft")
    await make_event(client.app, tenant["id"], status="archived")
    resp = await client.get(f"{TENANTS}/{tenant['id']}", headers=bearer(token))
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert data["id"] == tenant["id"] and data["name"] == "Counted" and data["slug"] == tenant["slug"]
    pro = {"slug": "pro", "name": "Pro", "photo_limit": 5000, "gallery_days": 365, "event_limit": None}
    assert data["package"] == pro
    assert data["theme"] == {"primary_color": "#112233", "secondary_color": "#ddeeff"}
    assert (data["events_count"], data["admins_count"]) == (3, 2)
    assert data["created_at"].endswith("Z") and data["updated_at"].endswith("Z")


async def test_list_is_paginated_newest_first(client):
    token = await super_admin(client)
    made = [await make_tenant(client.app) for _ in range(3)]
    resp = await client.get(f"{TENANTS}?per_page=2", headers=bearer(token))
    assert resp.status == 200
    body = await resp.json()
    assert set(body) == {"data", "links", "meta"}
    assert [t["id"] for t in body["data"]] == [made[2]["id"], made[1]["id"]]
    assert body["meta"]["per_page"] == 2 and body["meta"]["current_page"] == 1
    assert body["meta"]["total"] >= 3
    assert body["links"]["next"].endswith("/api/v1/tenants?page=2&per_page=2")
    second = await (await client.get(f"{TENANTS}?page=2&per_page=2", headers=bearer(token))).json()
    assert second["data"][0]["id"] == made[0]["id"]
    assert "events_count" in second["data"][0] and "package" in second["data"][0]


async def test_per_page_above_100_is_422(client):
    token = await super_admin(client)
    resp = await client.get(f"{TENANTS}?per_page=101", headers=bearer(token))
    error = await assert_error(resp, 422, "validation_failed")
    assert "per_page" in error["meta"]["fields"]
    error = await assert_error(await client.get(f"{TENANTS}?page=0", headers=bearer(token)), 422, "validation_failed")
    assert "page" in error["meta"]["fields"]


async def test_unknown_or_malformed_ids_are_404(client):
    token = await super_admin(client)
    for tenant_id in ("999999999", "abc", "²", "9" * 30):
        resp = await client.get(f"{TENANTS}/{tenant_id}", headers=bearer(token))
        await assert_error(resp, 404, "not_found")


async def test_only_super_admins(client):
    tenant = await make_tenant(client.app)
    _, tenant_token = await make_tenant_admin(client.app, tenant["id"])
    for path in (TENANTS, f"{TENANTS}/{tenant['id']}"):
        await assert_error(await client.get(path), 401, "unauthenticated")
        # a tenant app's token lacks the ability outright
        await assert_error(await client.get(path, headers=bearer(tenant_token)), 403, "missing_ability")
        plain = await make_token(client.app, (await make_user(client.app))["id"])
        resp = await client.get(path, headers={**bearer(plain), "Accept-Language": "de"})
        error = await assert_error(resp, 403, "super_admin_required")
        assert error["message"] == "Nur Super-Admins dürfen das."


async def test_a_super_admin_token_needs_the_ability(client):
    narrow = await super_admin(client, abilities=("read",))
    await assert_error(await client.get(TENANTS, headers=bearer(narrow)), 403, "missing_ability")
    scoped = await super_admin(client, abilities=("tenants:read",))
    assert (await client.get(TENANTS, headers=bearer(scoped))).status == 200
