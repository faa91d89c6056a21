"""001 purchase intents: the catalogue, idempotency by Idempotency-Key, tenant scoping (BOLA), and
what the webhook does to an intent (completed, refunded, expired)."""

from __future__ import annotations

import asyncio
import time

import pytest

from domain.tenant_abilities import EVENTS_READ
from tests.builders import bearer, make_token, make_user
from tests.event_builders import assert_error, make_tenant, make_tenant_admin
from tests.events.commerce_builders import assert_ledger_consistent, commerce_settings, deliver, processed
from tests.revenuecat_fakes import rc_event

PURCHASES = "/api/v1/tenant/purchases"


@pytest.fixture
async def app_client(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    return await aiohttp_client(create_app(commerce_settings(settings)))


async def _buy(client, token, product="roost.credits.10", key: str | None = "key-1", body=None):
    headers = bearer(token) | ({"Idempotency-Key": key} if key is not None else {})
    return await client.post(PURCHASES, json=body if body is not None else {"product_id": product}, headers=headers)


async def test_the_catalogue_lists_packages_and_credit_packs(app_client):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    resp = await app_client.get("/api/v1/tenant/products", headers=bearer(token))
    assert resp.status == 200
    products = {p["product_id"]: p for p in (await resp.json())["data"]}
    assert products["roost.credits.10"] | {} == {
        "product_id": "roost.credits.10",
        "kind": "credits",
        "package": None,
        "credits": 10,
        "amount_cents": 999,
        "amount": "9.99",
        "currency": "EUR",
        "period_days": None,
    }
    assert products["roost.starter.monthly"]["package"] == "starter"


async def test_an_intent_is_pending_with_the_catalogue_price(app_client):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    resp = await _buy(app_client, token, "roost.pro.yearly")
    assert resp.status == 201
    data = (await resp.json())["data"]
    assert (data["status"], data["amount_cents"], data["amount"], data["currency"], data["package"]) == (
        "pending",
        49900,
        "499.00",
        "EUR",
        "pro",
    )
    assert data["provider_app_user_id"] == f"roost-tenant-{tenant['id']}"


async def test_the_same_key_and_body_answer_the_same_intent(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    first = await _buy(app_client, token)
    assert first.status == 201 and "Idempotent-Replayed" not in first.headers
    again = await _buy(app_client, token)
    assert again.status == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json())["data"]["id"] == (await first.json())["data"]["id"]
    # concurrent retries with a fresh key: one intent
    answers = await asyncio.gather(*(_buy(app_client, token, key="key-2") for _ in range(6)))
    assert sorted(r.status for r in answers) == [200] * 5 + [201]
    assert len({(await r.json())["data"]["id"] for r in answers}) == 1
    assert await pool.fetchval("select count(*) from purchases where tenant_id = $1", tenant["id"]) == 2


async def test_the_same_key_with_another_body_is_422(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    assert (await _buy(app_client, token, "roost.credits.10")).status == 201
    error = await assert_error(await _buy(app_client, token, "roost.credits.50"), 422, "idempotency_key_reused")
    assert "Idempotency-Key" in error["meta"]["fields"]
    assert await pool.fetchval("select count(*) from purchases where tenant_id = $1", tenant["id"]) == 1


async def test_keys_are_per_tenant_and_without_a_key_each_post_is_new(app_client, pool):
    tenant, other = await make_tenant(app_client.app), await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    _, outsider = await make_tenant_admin(app_client.app, other["id"])
    mine = await (await _buy(app_client, token)).json()
    theirs = await _buy(app_client, outsider, "roost.credits.50")  # the same key, another tenant: no clash
    assert theirs.status == 201 and (await theirs.json())["data"]["id"] != mine["data"]["id"]
    assert (await _buy(app_client, token, key=None)).status == 201
    assert (await _buy(app_client, token, key=None)).status == 201
    assert await pool.fetchval("select count(*) from purchases where tenant_id = $1", tenant["id"]) == 3


@pytest.mark.parametrize(
    ("body", "key", "code"),
    [
        ({"product_id": "roost.nothing"}, "k", "product_not_found"),
        ({}, "k", "validation_failed"),
        ({"product_id": "a b"}, "k", "validation_failed"),
        ({"product_id": "roost.credits.10", "amount_cents": 1}, "k", "validation_failed"),
        ({"product_id": "roost.credits.10"}, "with space", "idempotency_key_invalid"),
        ({"product_id": "roost.credits.10"}, "x" * 256, "idempotency_key_invalid"),
        ({"product_id": "roost.credits.10"}, "", "idempotency_key_invalid"),
    ],
    ids=["unknown-product", "no-product", "bad-product", "client-price", "space-key", "long-key", "empty-key"],
)
async def test_bad_requests_are_422(app_client, pool, body, key, code):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    await assert_error(await _buy(app_client, token, key=key, body=body), 422, code)
    assert await pool.fetchval("select count(*) from purchases where tenant_id = $1", tenant["id"]) == 0


async def test_purchases_are_scoped_to_the_tenant(app_client):
    tenant, other = await make_tenant(app_client.app), await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    _, outsider = await make_tenant_admin(app_client.app, other["id"])
    purchase = (await (await _buy(app_client, token)).json())["data"]
    assert (await app_client.get(f"{PURCHASES}/{purchase['id']}", headers=bearer(token))).status == 200
    await assert_error(
        await app_client.get(f"{PURCHASES}/{purchase['id']}", headers=bearer(outsider)), 404, "not_found"
    )
    for bad in ("0", "abc", "１", "99999999999999999999"):
        await assert_error(await app_client.get(f"{PURCHASES}/{bad}", headers=bearer(token)), 404, "not_found")
    listed = await (await app_client.get(PURCHASES, headers=bearer(outsider))).json()
    assert listed["data"] == [] and listed["meta"]["total"] == 0


async def test_who_may_call(app_client):
    tenant = await make_tenant(app_client.app)
    _, narrow = await make_tenant_admin(app_client.app, tenant["id"], abilities=(EVENTS_READ,))
    stranger = await make_user(app_client.app)
    stranger_token = await make_token(app_client.app, stranger["id"])
    await assert_error(await app_client.get(PURCHASES), 401, "unauthenticated")
    await assert_error(await _buy(app_client, narrow), 403, "missing_ability")
    await assert_error(await app_client.get("/api/v1/tenant/ledger", headers=bearer(narrow)), 403, "missing_ability")
    await assert_error(await _buy(app_client, stranger_token), 403, "not_a_tenant_admin")


async def test_new_routes_count_against_the_tenant_budget(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    client = await aiohttp_client(create_app(commerce_settings(settings, event_tenant_api_per_minute=3)))
    tenant = await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    for path in ("/api/v1/tenant/products", PURCHASES, "/api/v1/tenant/ledger"):
        resp = await client.get(path, headers=bearer(token))
        assert resp.status == 200 and "X-Rate-Limit-Remaining" in resp.headers
    await assert_error(await _buy(client, token), 429, "rate_limited")


async def test_the_webhook_completes_the_named_intent_then_a_refund_refunds_it(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    older = (await (await _buy(app_client, token, key="a")).json())["data"]
    named = (await (await _buy(app_client, token, key="b")).json())["data"]
    buy = rc_event(
        tenant["id"],
        transaction_id="tx-named",
        subscriber_attributes={"roost_purchase_id": {"value": str(named["id"]), "updated_at_ms": 1}},
    )
    await deliver(app_client, buy)
    await processed(pool, "revenuecat", buy["event"]["id"])
    shown = (await (await app_client.get(f"{PURCHASES}/{named['id']}", headers=bearer(token))).json())["data"]
    assert shown["status"] == "completed" and shown["completed_at"] is not None
    assert (await (await app_client.get(f"{PURCHASES}/{older['id']}", headers=bearer(token))).json())["data"][
        "status"
    ] == "pending"
    entry = await pool.fetchrow("select * from ledger_entries where tenant_id = $1", tenant["id"])
    assert entry["purchase_id"] == named["id"]

    refund = rc_event(
        tenant["id"],
        "CANCELLATION",
        transaction_id="tx-named",
        cancel_reason="CUSTOMER_SUPPORT",
        at_ms=int(time.time() * 1000) + 5000,
    )
    await deliver(app_client, refund)
    await processed(pool, "revenuecat", refund["event"]["id"])
    listed = await (await app_client.get(f"{PURCHASES}?status=refunded", headers=bearer(token))).json()
    assert [p["id"] for p in listed["data"]] == [named["id"]]
    assert await assert_ledger_consistent(pool, tenant["id"]) == 0


async def test_a_store_purchase_without_an_intent_is_recorded_completed(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    buy = rc_event(tenant["id"], product_id="roost.credits.50", price=39.99)
    await deliver(app_client, buy)
    await processed(pool, "revenuecat", buy["event"]["id"])
    listed = await (await app_client.get(PURCHASES, headers=bearer(token))).json()
    assert [(p["status"], p["product_id"], p["amount_cents"]) for p in listed["data"]] == [
        ("completed", "roost.credits.50", 3999)
    ]


async def test_an_unpaid_intent_expires(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    purchase = (await (await _buy(app_client, token)).json())["data"]
    await pool.execute("update purchases set expires_at = now() - interval '1 second' where id = $1", purchase["id"])
    shown = (await (await app_client.get(f"{PURCHASES}/{purchase['id']}", headers=bearer(token))).json())["data"]
    assert shown["status"] == "expired"
    # a payment arriving later does not complete it; it is recorded on its own
    buy = rc_event(tenant["id"])
    await deliver(app_client, buy)
    await processed(pool, "revenuecat", buy["event"]["id"])
    statuses = await pool.fetch("select status from purchases where tenant_id = $1 order by id", tenant["id"])
    assert [r["status"] for r in statuses] == ["expired", "completed"]


async def test_a_billing_issue_on_a_first_payment_fails_its_intent(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"])
    purchase = (await (await _buy(app_client, token, "roost.starter.monthly")).json())["data"]
    issue = rc_event(tenant["id"], "BILLING_ISSUE", product_id="roost.starter.monthly", original_transaction_id="bi")
    await deliver(app_client, issue)
    await processed(pool, "revenuecat", issue["event"]["id"])
    shown = (await (await app_client.get(f"{PURCHASES}/{purchase['id']}", headers=bearer(token))).json())["data"]
    assert shown["status"] == "failed"
    assert await pool.fetchval("select count(*) from ledger_entries where tenant_id = $1", tenant["id"]) == 0
