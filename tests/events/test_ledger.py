"""001 ledger: append-only, balance equal to the sum of its entries, paginated newest first,
filtered by type and date, scoped to the tenant; super admins read any tenant's."""

from __future__ import annotations

import asyncpg
import pytest

from domain.ledger import EntryType, Posting, post
from tests.builders import bearer, make_token, make_user
from tests.event_builders import assert_error, make_tenant, make_tenant_admin
from tests.events.commerce_builders import assert_ledger_consistent, commerce_settings, deliver, processed
from tests.revenuecat_fakes import rc_event

LEDGER = "/api/v1/tenant/ledger"


@pytest.fixture
async def app_client(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    return await aiohttp_client(create_app(commerce_settings(settings)))


async def _post(pool, tenant_id: int, source: str, credits: int, when: str, type_=EntryType.PURCHASE):
    from datetime import datetime

    async with pool.acquire() as conn, conn.transaction():
        return await post(
            conn,
            tenant_id,
            Posting(type=type_, source=source, credits=credits, occurred_at=datetime.fromisoformat(when)),
        )


async def test_entries_list_newest_first_with_the_balance(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    await _post(pool, tenant["id"], "t:1", 10, "2026-11-01T10:00:00+00:00")
    await _post(pool, tenant["id"], "t:2", 50, "2026-11-02T10:00:00+00:00")
    await _post(pool, tenant["id"], "t:3", -10, "2026-11-03T10:00:00+00:00", EntryType.REFUND)
    resp = await app_client.get(LEDGER, headers=bearer(token))
    assert resp.status == 200
    body = await resp.json()
    assert [(e["type"], e["credits"], e["balance_after"]) for e in body["data"]] == [
        ("refund", -10, 50),
        ("purchase", 50, 60),
        ("purchase", 10, 10),
    ]
    assert body["balance"] == {"credits": 50, "package": "standard", "last_entry_id": body["data"][0]["id"]}
    assert body["meta"]["total"] == 3
    assert await assert_ledger_consistent(pool, tenant["id"]) == 50


async def test_pagination_and_filters(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    for day in range(1, 6):
        await _post(pool, tenant["id"], f"p:{day}", day, f"2026-10-0{day}T12:00:00+00:00")
    await _post(pool, tenant["id"], "r:1", -1, "2026-10-06T12:00:00+00:00", EntryType.REFUND)

    page2 = await (await app_client.get(f"{LEDGER}?per_page=2&page=2", headers=bearer(token))).json()
    assert [e["credits"] for e in page2["data"]] == [4, 3]
    assert page2["meta"]["last_page"] == 3 and "per_page=2" in page2["links"]["next"]

    only = await (await app_client.get(f"{LEDGER}?type=refund", headers=bearer(token))).json()
    assert [e["type"] for e in only["data"]] == ["refund"]
    both = await (await app_client.get(f"{LEDGER}?type=refund,purchase", headers=bearer(token))).json()
    assert both["meta"]["total"] == 6

    window = await (await app_client.get(f"{LEDGER}?from=2026-10-02&to=2026-10-04", headers=bearer(token))).json()
    assert [e["credits"] for e in window["data"]] == [4, 3, 2]
    precise = await (
        await app_client.get(f"{LEDGER}?from=2026-10-02T12:00:00Z&to=2026-10-03T12:00:00Z", headers=bearer(token))
    ).json()
    assert [e["credits"] for e in precise["data"]] == [3, 2]  # both bounds inclusive
    # the balance is the tenant's, whatever the filter shows
    assert window["balance"]["credits"] == 14


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=gift", "type"),
        ("type=purchase,", "type"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-10-05&to=2026-10-01", "to"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
    ],
)
async def test_bad_filters_are_422(app_client, query, field):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    error = await assert_error(
        await app_client.get(f"{LEDGER}?{query}", headers=bearer(token)), 422, "validation_failed"
    )
    assert field in error["meta"]["fields"]


async def test_the_ledger_is_the_tenants_own_and_super_admins_read_any(app_client, pool):
    tenant, other = await make_tenant(app_client.app), await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    _, outsider = await make_tenant_admin(app_client.app, other["id"])
    await _post(pool, tenant["id"], "own:1", 7, "2026-10-01T00:00:00+00:00")
    theirs = await (await app_client.get(LEDGER, headers=bearer(outsider))).json()
    assert theirs["data"] == [] and theirs["balance"]["credits"] == 0

    admin = await make_user(app_client.app, admin=True)
    admin_token = await make_token(app_client.app, admin["id"])
    path = f"/api/v1/tenants/{tenant['id']}/ledger"
    seen = await (await app_client.get(path, headers=bearer(admin_token))).json()
    assert [e["credits"] for e in seen["data"]] == [7]
    # a tenant app's token lacks the super admins' ability; a full token of a non-admin is refused too
    await assert_error(await app_client.get(path, headers=bearer(token)), 403, "missing_ability")
    plain = await make_user(app_client.app)
    plain_token = await make_token(app_client.app, plain["id"])
    await assert_error(await app_client.get(path, headers=bearer(plain_token)), 403, "super_admin_required")
    await assert_error(
        await app_client.get("/api/v1/tenants/999999999/ledger", headers=bearer(admin_token)), 404, "not_found"
    )


async def test_entries_are_append_only(app_client, pool):
    tenant = await make_tenant(app_client.app)
    await _post(pool, tenant["id"], "ao:1", 5, "2026-10-01T00:00:00+00:00")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute("update ledger_entries set credits = 500 where source = 'ao:1'")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute("delete from ledger_entries where source = 'ao:1'")
    assert await pool.fetchval("select credits from ledger_entries where source = 'ao:1'") == 5


async def test_one_source_is_one_entry(app_client, pool):
    tenant = await make_tenant(app_client.app)
    first = await _post(pool, tenant["id"], "once:1", 5, "2026-10-01T00:00:00+00:00")
    second = await _post(pool, tenant["id"], "once:1", 5, "2026-10-01T00:00:00+00:00")
    assert (first.created, second.created) == (True, False)
    assert await assert_ledger_consistent(pool, tenant["id"]) == 5


async def test_the_balance_equals_the_sum_after_a_mixed_scenario(app_client, pool):
    tenant = await make_tenant(app_client.app, package="free")
    events = [
        rc_event(tenant["id"], product_id="roost.credits.10", transaction_id="m-1", at_ms=1_800_000_000_000),
        rc_event(tenant["id"], product_id="roost.credits.50", transaction_id="m-2", at_ms=1_800_000_001_000),
        rc_event(
            tenant["id"],
            "CANCELLATION",
            product_id="roost.credits.10",
            transaction_id="m-1",
            cancel_reason="CUSTOMER_SUPPORT",
            at_ms=1_800_000_002_000,
        ),
        rc_event(
            tenant["id"],
            "INITIAL_PURCHASE",
            product_id="roost.starter.monthly",
            transaction_id="m-3",
            at_ms=1_800_000_003_000,
            expires_ms=1_802_000_000_000,
        ),
    ]
    for document in events:
        await deliver(app_client, document)
    for document in events:
        await processed(pool, "revenuecat", document["event"]["id"])
    assert await assert_ledger_consistent(pool, tenant["id"]) == 50
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    body = await (await app_client.get(LEDGER, headers=bearer(token))).json()
    assert body["balance"] == {"credits": 50, "package": "starter", "last_entry_id": body["data"][0]["id"]}
    assert sum(e["credits"] for e in body["data"]) == 50
