"""001 webhooks: verified (constant-time HMAC over the raw body), stored once by the provider's
event id, answered at once, processed by a Ray job; out-of-order and replayed deliveries."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.event_builders import assert_error, make_tenant
from tests.events.commerce_builders import RC_PATH, assert_ledger_consistent, commerce_settings, deliver, processed
from tests.revenuecat_fakes import HOUR_MS, body_of, rc_event, signed_headers

DAY_MS = 24 * HOUR_MS


@pytest.fixture
async def app_client(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    return await aiohttp_client(create_app(commerce_settings(settings)))


async def _count(pool, table: str, tenant_id: int | None = None) -> int:
    if tenant_id is None:
        return await pool.fetchval(f"select count(*) from {table}")
    return await pool.fetchval(f"select count(*) from {table} where tenant_id = $1", tenant_id)


# -- signatures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sign_kw",
    [
        {"algorithm": "sha256"},
        {"algorithm": "sha1"},
        {"algorithm": "sha256", "timestamp": "now"},
    ],
    ids=["sha256", "sha1", "sha256-timestamped"],
)
async def test_a_good_signature_is_stored_and_processed(app_client, pool, sign_kw):
    tenant = await make_tenant(app_client.app, package="free")
    document = rc_event(tenant["id"])
    if sign_kw.get("timestamp") == "now":
        sign_kw = {**sign_kw, "timestamp": int(time.time())}
    resp = await deliver(app_client, document, **sign_kw)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["received"] is True and body["duplicate"] is False
    row = await processed(pool, "revenuecat", document["event"]["id"])
    assert (row["status"], row["outcome"], row["tenant_id"]) == ("processed", "credited", tenant["id"])
    entry = await pool.fetchrow("select * from ledger_entries where tenant_id = $1", tenant["id"])
    assert (entry["type"], entry["credits"], entry["amount_cents"], entry["currency"]) == ("purchase", 10, 999, "EUR")
    assert await assert_ledger_consistent(pool, tenant["id"]) == 10


async def test_bare_hex_digests_name_their_algorithm_by_length(app_client, pool):
    tenant = await make_tenant(app_client.app)
    for algorithm in ("sha256", "sha1"):
        body = body_of(rc_event(tenant["id"]))
        headers = signed_headers(body, algorithm=algorithm)
        headers["X-Signature"] = headers["X-Signature"].split("=", 1)[1]
        assert (await app_client.post(RC_PATH, data=body, headers=headers)).status == 200


def _bad_signatures(body: bytes) -> dict[str, dict[str, str] | None]:
    good = signed_headers(body)["X-Signature"]
    sha1 = signed_headers(body, algorithm="sha1")["X-Signature"]
    other_secret = signed_headers(body, secret="another-secret-0123456789abcdef")["X-Signature"]
    return {
        "missing": None,
        "empty": {"X-Signature": ""},
        "wrong secret": {"X-Signature": other_secret},
        "flipped digit": {"X-Signature": good[:-1] + ("0" if good[-1] != "0" else "1")},
        "md5 algorithm": {"X-Signature": "md5=" + "0" * 32},
        "sha1 digest called sha256": {"X-Signature": "sha256=" + sha1.split("=", 1)[1]},
        "sha256 digest called sha1": {"X-Signature": "sha1=" + good.split("=", 1)[1]},
        "two digests": {"X-Signature": f"{good},{sha1}"},
        "not hex": {"X-Signature": "sha256=" + "z" * 64},
        "garbage": {"X-Signature": "hello"},
        "oversized": {"X-Signature": "sha256=" + "a" * 400},
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "wrong secret",
        "flipped digit",
        "md5 algorithm",
        "sha1 digest called sha256",
        "sha256 digest called sha1",
        "two digests",
        "not hex",
        "garbage",
        "oversized",
    ],
)
async def test_a_bad_or_missing_signature_is_401_and_stores_nothing(app_client, pool, case):
    tenant = await make_tenant(app_client.app)
    body = body_of(rc_event(tenant["id"]))
    header = _bad_signatures(body)[case]
    before = await _count(pool, "webhook_events")
    resp = await app_client.post(RC_PATH, data=body, headers={"Content-Type": "application/json", **(header or {})})
    code = "webhook_signature_missing" if case in ("missing", "empty") else "webhook_signature_invalid"
    await assert_error(resp, 401, code)
    assert await _count(pool, "webhook_events") == before
    assert await _count(pool, "ledger_entries", tenant["id"]) == 0


async def test_a_body_changed_by_one_byte_is_refused(app_client, pool):
    tenant = await make_tenant(app_client.app)
    body = body_of(rc_event(tenant["id"], price=9.99))
    before = await _count(pool, "webhook_events")
    headers = signed_headers(body)
    tampered = body.replace(b"9.99", b"9.98", 1)
    assert len(tampered) == len(body) and tampered != body
    await assert_error(await app_client.post(RC_PATH, data=tampered, headers=headers), 401, "webhook_signature_invalid")
    # one byte more (a trailing space) also breaks it: the MAC is over the raw bytes, not the JSON
    await assert_error(
        await app_client.post(RC_PATH, data=body + b" ", headers=headers), 401, "webhook_signature_invalid"
    )
    assert await _count(pool, "webhook_events") == before
    assert await _count(pool, "ledger_entries", tenant["id"]) == 0


async def test_a_replayed_timestamped_delivery_is_refused(app_client, pool):
    tenant = await make_tenant(app_client.app)
    body = body_of(rc_event(tenant["id"]))
    old = int(time.time()) - 301  # the tolerance is 300 s
    resp = await app_client.post(RC_PATH, data=body, headers=signed_headers(body, timestamp=old))
    error = await assert_error(resp, 401, "webhook_signature_expired")
    assert error["meta"]["tolerance_s"] == 300
    future = int(time.time()) + 400
    await assert_error(
        await app_client.post(RC_PATH, data=body, headers=signed_headers(body, timestamp=future)),
        401,
        "webhook_signature_expired",
    )
    # the timestamp is signed: moving it to now without re-signing breaks the MAC
    value = signed_headers(body, timestamp=old)["X-Signature"].replace(f"t={old}", f"t={int(time.time())}")
    await assert_error(
        await app_client.post(RC_PATH, data=body, headers={"X-Signature": value, "Content-Type": "application/json"}),
        401,
        "webhook_signature_invalid",
    )
    assert await _count(pool, "ledger_entries", tenant["id"]) == 0


async def test_sha1_can_be_turned_off(aiohttp_client, settings, ray_session, pool):
    from gateway.app import create_app

    client = await aiohttp_client(create_app(commerce_settings(settings, webhook_allow_sha1=False)))
    tenant = await make_tenant(client.app)
    await assert_error(
        await deliver(client, rc_event(tenant["id"]), algorithm="sha1"), 401, "webhook_signature_invalid"
    )
    assert (await deliver(client, rc_event(tenant["id"]))).status == 200


async def test_an_unconfigured_provider_is_503(aiohttp_client, settings, ray_session, pool):
    from gateway.app import create_app

    client = await aiohttp_client(create_app(settings))
    body = body_of(rc_event(1))
    await assert_error(
        await client.post(RC_PATH, data=body, headers=signed_headers(body)), 503, "webhook_not_configured"
    )


async def test_each_provider_has_its_own_secret(app_client):
    document = {"id": "media-evt-1", "type": "media.status", "data": {"photo_id": 1, "status": "ready"}}
    # signed with RevenueCat's secret: refused on the media path
    resp = await deliver(app_client, document, path="/api/v1/webhooks/media", provider="revenuecat")
    await assert_error(resp, 401, "webhook_signature_invalid")
    resp = await deliver(app_client, document, path="/api/v1/webhooks/deletion", provider="media")
    await assert_error(resp, 401, "webhook_signature_invalid")


async def test_a_too_large_body_is_413_before_the_signature(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    client = await aiohttp_client(create_app(commerce_settings(settings, webhook_max_bytes=1024)))
    body = b'{"event": {"id": "x", "type": "TEST", "pad": "' + b"a" * 2000 + b'"}}'
    await assert_error(await client.post(RC_PATH, data=body, headers=signed_headers(body)), 413, "payload_too_large")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"api_version": "1.0"}',
        b'{"event": {"type": "TEST"}}',
        b'{"event": {"id": "a b", "type": "X"}}',
        b'{"event": {"id": "e1", "type": "TEST", "note": "\\u0000"}}',
    ],
    ids=["not-json", "array", "no-event", "no-id", "bad-id", "nul"],
)
async def test_a_signed_body_that_is_not_an_event_is_400(app_client, pool, body):
    before = await _count(pool, "webhook_events")
    resp = await app_client.post(RC_PATH, data=body, headers=signed_headers(body))
    await assert_error(resp, 400, "webhook_payload_invalid")
    assert await _count(pool, "webhook_events") == before


# -- stored once --------------------------------------------------------------------------------------


async def test_duplicates_answer_200_and_change_nothing(app_client, pool):
    tenant = await make_tenant(app_client.app)
    document = rc_event(tenant["id"])
    event_id = document["event"]["id"]
    first = await deliver(app_client, document)
    assert (await first.json())["duplicate"] is False
    await processed(pool, "revenuecat", event_id)
    row_before = await pool.fetchrow("select * from webhook_events where event_id = $1", event_id)

    answers = await asyncio.gather(*(deliver(app_client, document) for _ in range(5)))
    for resp in answers:
        assert resp.status == 200
        body = await resp.json()
        assert body == {"received": True, "duplicate": True, "id": row_before["id"]}
    assert await pool.fetchrow("select * from webhook_events where event_id = $1", event_id) == row_before
    assert (
        await pool.fetchval("select count(*) from jobs where idempotency_key = $1", f"webhook:{row_before['id']}") == 1
    )
    assert await _count(pool, "ledger_entries", tenant["id"]) == 1
    assert await assert_ledger_consistent(pool, tenant["id"]) == 10


async def test_concurrent_first_deliveries_store_one_event(app_client, pool):
    tenant = await make_tenant(app_client.app)
    document = rc_event(tenant["id"])
    answers = await asyncio.gather(*(deliver(app_client, document) for _ in range(8)))
    flags = sorted([(await r.json())["duplicate"] for r in answers])
    assert flags == [False] + [True] * 7
    await processed(pool, "revenuecat", document["event"]["id"])
    assert await _count(pool, "ledger_entries", tenant["id"]) == 1


# -- processing ---------------------------------------------------------------------------------------


async def test_a_subscription_gives_the_package_until_it_expires(app_client, pool):
    tenant = await make_tenant(app_client.app, package="free")
    now = int(time.time() * 1000)
    sub = dict(product_id="roost.starter.monthly", original_transaction_id="orig-1", price=19.0)
    initial = rc_event(
        tenant["id"], "INITIAL_PURCHASE", at_ms=now, expires_ms=now + 30 * DAY_MS, transaction_id="t-1", **sub
    )
    await deliver(app_client, initial)
    await processed(pool, "revenuecat", initial["event"]["id"])
    assert (
        await pool.fetchval(
            "select p.slug from tenants t join packages p on p.id = t.package_id where t.id = $1", tenant["id"]
        )
        == "starter"
    )
    renewal = rc_event(
        tenant["id"], "RENEWAL", at_ms=now + 30 * DAY_MS, expires_ms=now + 60 * DAY_MS, transaction_id="t-2", **sub
    )
    await deliver(app_client, renewal)
    await processed(pool, "revenuecat", renewal["event"]["id"])
    cancel = rc_event(
        tenant["id"],
        "CANCELLATION",
        at_ms=now + 40 * DAY_MS,
        expires_ms=now + 60 * DAY_MS,
        transaction_id="t-2",
        cancel_reason="UNSUBSCRIBE",
        **sub,
    )
    await deliver(app_client, cancel)
    await processed(pool, "revenuecat", cancel["event"]["id"])
    sub_row = await pool.fetchrow("select * from tenant_subscriptions where subscription_key = 'orig-1'")
    assert sub_row["status"] == "cancelled"
    assert int(sub_row["expires_at"].timestamp() * 1000) == now + 60 * DAY_MS
    expiry = rc_event(tenant["id"], "EXPIRATION", at_ms=now + 60 * DAY_MS, transaction_id="t-2", **sub)
    await deliver(app_client, expiry)
    await processed(pool, "revenuecat", expiry["event"]["id"])

    types = [
        r["type"]
        for r in await pool.fetch("select type from ledger_entries where tenant_id = $1 order by id", tenant["id"])
    ]
    assert types == ["purchase", "purchase", "cancellation", "expiry"]
    assert (
        await pool.fetchval(
            "select p.slug from tenants t join packages p on p.id = t.package_id where t.id = $1", tenant["id"]
        )
        == "free"
    )
    assert (
        await pool.fetchval("select sum(amount_cents) from ledger_entries where tenant_id = $1", tenant["id"]) == 3800
    )
    await assert_ledger_consistent(pool, tenant["id"])


async def test_an_older_event_never_overwrites_a_newer_state(app_client, pool):
    tenant = await make_tenant(app_client.app, package="free")
    now = int(time.time() * 1000)
    sub = dict(product_id="roost.standard.monthly", original_transaction_id="orig-ooo")
    initial = rc_event(
        tenant["id"], "INITIAL_PURCHASE", at_ms=now, expires_ms=now + 30 * DAY_MS, transaction_id="o-1", **sub
    )
    expiry = rc_event(tenant["id"], "EXPIRATION", at_ms=now + 30 * DAY_MS, transaction_id="o-1", **sub)
    # the expiry arrives first
    await deliver(app_client, expiry)
    await processed(pool, "revenuecat", expiry["event"]["id"])
    await deliver(app_client, initial)
    row = await processed(pool, "revenuecat", initial["event"]["id"])
    assert row["outcome"] == "credited; the subscription's newer state kept"
    sub_row = await pool.fetchrow("select * from tenant_subscriptions where subscription_key = 'orig-ooo'")
    assert sub_row["status"] == "expired" and sub_row["last_event_id"] == expiry["event"]["id"]
    # the money is booked, the package stays the one the newest state says
    assert (
        await pool.fetchval(
            "select p.slug from tenants t join packages p on p.id = t.package_id where t.id = $1", tenant["id"]
        )
        == "free"
    )
    assert (
        await pool.fetchval(
            "select count(*) from ledger_entries where tenant_id = $1 and type = 'purchase'", tenant["id"]
        )
        == 1
    )
    # a stale cancellation writes nothing
    stale = rc_event(tenant["id"], "CANCELLATION", at_ms=now + DAY_MS, transaction_id="o-1", **sub)
    await deliver(app_client, stale)
    row = await processed(pool, "revenuecat", stale["event"]["id"])
    assert row["outcome"].startswith("older than")
    assert (await pool.fetchrow("select status from tenant_subscriptions where id = $1", sub_row["id"]))[
        "status"
    ] == "expired"
    await assert_ledger_consistent(pool, tenant["id"])


async def test_a_cancellation_that_overtakes_its_purchase_keeps_the_paid_package(app_client, pool):
    tenant = await make_tenant(app_client.app, package="free")
    now = int(time.time() * 1000)
    sub = dict(product_id="roost.starter.monthly", original_transaction_id="orig-c")
    cancel = rc_event(
        tenant["id"],
        "CANCELLATION",
        at_ms=now + HOUR_MS,
        expires_ms=now + 30 * DAY_MS,
        transaction_id="c-1",
        cancel_reason="UNSUBSCRIBE",
        **sub,
    )
    initial = rc_event(
        tenant["id"], "INITIAL_PURCHASE", at_ms=now, expires_ms=now + 30 * DAY_MS, transaction_id="c-1", **sub
    )
    await deliver(app_client, cancel)
    await processed(pool, "revenuecat", cancel["event"]["id"])
    await deliver(app_client, initial)
    await processed(pool, "revenuecat", initial["event"]["id"])
    assert (
        await pool.fetchval(
            "select p.slug from tenants t join packages p on p.id = t.package_id where t.id = $1", tenant["id"]
        )
        == "starter"
    )
    await assert_ledger_consistent(pool, tenant["id"])


async def test_a_refund_takes_back_credits_and_money(app_client, pool):
    tenant = await make_tenant(app_client.app)
    buy = rc_event(tenant["id"], transaction_id="r-1", product_id="roost.credits.50", price=39.99)
    await deliver(app_client, buy)
    await processed(pool, "revenuecat", buy["event"]["id"])
    refund = rc_event(
        tenant["id"],
        "CANCELLATION",
        transaction_id="r-1",
        product_id="roost.credits.50",
        price=-39.99,
        cancel_reason="CUSTOMER_SUPPORT",
        at_ms=int(time.time() * 1000) + 1000,
    )
    await deliver(app_client, refund)
    row = await processed(pool, "revenuecat", refund["event"]["id"])
    assert row["outcome"] == "refunded"
    entries = await pool.fetch(
        "select type, credits, amount_cents from ledger_entries where tenant_id = $1 order by id", tenant["id"]
    )
    assert [tuple(e) for e in entries] == [("purchase", 50, 3999), ("refund", -50, -3999)]
    assert await pool.fetchval("select status from purchases where provider_transaction_id = 'r-1'") == "refunded"
    assert await assert_ledger_consistent(pool, tenant["id"]) == 0


async def test_a_refunded_subscription_returns_the_earlier_package(app_client, pool):
    tenant = await make_tenant(app_client.app, package="starter")
    now = int(time.time() * 1000)
    sub = dict(product_id="roost.pro.yearly", original_transaction_id="orig-r")
    initial = rc_event(
        tenant["id"], "INITIAL_PURCHASE", at_ms=now, expires_ms=now + 365 * DAY_MS, transaction_id="p-1", **sub
    )
    await deliver(app_client, initial)
    await processed(pool, "revenuecat", initial["event"]["id"])
    refund = rc_event(
        tenant["id"], "CANCELLATION", at_ms=now + DAY_MS, transaction_id="p-1", cancel_reason="CUSTOMER_SUPPORT", **sub
    )
    await deliver(app_client, refund)
    await processed(pool, "revenuecat", refund["event"]["id"])
    assert (
        await pool.fetchval(
            "select p.slug from tenants t join packages p on p.id = t.package_id where t.id = $1", tenant["id"]
        )
        == "starter"
    )
    await assert_ledger_consistent(pool, tenant["id"])


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        (
            {"app_user_id": "someone", "original_app_user_id": "x", "aliases": []},
            "no app user id names a tenant (expected roost-tenant-<id>)",
        ),
        ({"product_id": "com.other.product"}, "unknown product com.other.product"),
        ({"type": "TEST"}, "TEST: nothing to do"),
        ({"environment": "SANDBOX"}, None),
    ],
    ids=["no-tenant", "unknown-product", "test-event", "sandbox-outside-production"],
)
async def test_events_that_cannot_apply_are_ignored_with_a_reason(app_client, pool, change, outcome):
    tenant = await make_tenant(app_client.app)
    document = rc_event(tenant["id"])
    document["event"].update(change)
    await deliver(app_client, document)
    row = await processed(pool, "revenuecat", document["event"]["id"])
    if outcome is None:  # the test app is not production: sandbox purchases are credited
        assert row["status"] == "processed"
        assert await _count(pool, "ledger_entries", tenant["id"]) == 1
    else:
        assert (row["status"], row["outcome"]) == ("ignored", outcome)
        assert await _count(pool, "ledger_entries", tenant["id"]) == 0


async def test_an_unknown_tenant_id_is_ignored(app_client, pool):
    document = rc_event(9_000_000_000)
    await deliver(app_client, document)
    row = await processed(pool, "revenuecat", document["event"]["id"])
    assert (row["status"], row["outcome"]) == ("ignored", "no tenant 9000000000")


async def test_a_media_failure_fails_a_pending_photo_and_a_deletion_is_recorded(app_client, pool):
    from tests.event_builders import make_event, make_photo

    tenant = await make_tenant(app_client.app)
    event = await make_event(app_client.app, tenant["id"])
    photo = await make_photo(app_client.app, event, approved=False, status="pending")
    document = {
        "id": "m-1",
        "type": "media.status",
        "data": {"photo_id": photo["id"], "status": "failed", "reason": "transcode_error"},
    }
    assert (await deliver(app_client, document, path="/api/v1/webhooks/media", provider="media")).status == 200
    row = await processed(pool, "media", "m-1")
    assert (row["status"], row["tenant_id"]) == ("processed", tenant["id"])
    assert await pool.fetchval("select status from photos where id = $1", photo["id"]) == "failed"
    # the same event id from another provider is another event
    deletion = {"id": "m-1", "type": "deletion.completed", "data": {"photo_id": photo["id"]}}
    resp = await deliver(app_client, deletion, path="/api/v1/webhooks/deletion", provider="deletion")
    assert (await resp.json())["duplicate"] is False
    row = await processed(pool, "deletion", "m-1")
    assert (row["status"], row["outcome"]) == ("processed", f"deletion of photo {photo['id']} confirmed")


@pytest.mark.parametrize("secret", ["short", "change-me-webhook-secret-value", "your-revenuecat-secret-here-please"])
def test_placeholder_or_short_secrets_are_refused_outside_development(secret):
    import secrets as random_secrets

    from domain.settings import Settings

    key = random_secrets.token_hex(32)
    with pytest.raises(ValueError, match="WEBHOOK_SECRET_REVENUECAT"):
        Settings(_env_file=None, app_env="production", app_key=key, webhook_secret_revenuecat=secret)
    # development takes any value, and a real secret is taken everywhere
    assert Settings(_env_file=None, app_env="development", webhook_secret_revenuecat=secret)
    real = random_secrets.token_hex(32)
    assert Settings(_env_file=None, app_env="production", app_key=key, webhook_secret_revenuecat=real)
