"""001 tenant notifications: alerts created once where they happen (photo limits, a failed
payment, a package about to expire), delivered by mail, and the routes that list and configure them."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from domain.tenant_abilities import TENANT_READ
from gateway.events.notifications import run_notifications_once
from tests.builders import bearer, make_token, make_user
from tests.clock import FakeClock
from tests.event_builders import (
    assert_error,
    make_event,
    make_package,
    make_photo,
    make_tenant,
    make_tenant_admin,
)
from tests.events.commerce_builders import deliver, processed
from tests.events.notification_builders import LOGS, SETTINGS, alerts, notify_settings, raise_alert, settle
from tests.events.photo_fixtures import device, guest_photo, guest_upload
from tests.revenuecat_fakes import HOUR_MS, rc_event

DAY_MS = 24 * HOUR_MS


@pytest.fixture
async def app_client(aiohttp_client, settings, ray_session, smtp_inbox):
    from gateway.app import create_app

    return await aiohttp_client(create_app(notify_settings(settings, smtp_inbox)))


async def _owner(client, tenant_id: int):
    return await make_tenant_admin(client.app, tenant_id, role="owner")


async def _photo_tenant(client, photo_limit: int):
    package = await make_package(client.app, photo_limit=photo_limit)
    tenant = await make_tenant(client.app, package=package["slug"])
    event = await make_event(client.app, tenant["id"], name="Summer party")
    return tenant, event


# -- photo limits ------------------------------------------------------------------------------------


async def test_80_and_100_percent_alerts_are_made_once_and_mailed(app_client, pool, smtp_inbox):
    tenant, event = await _photo_tenant(app_client, photo_limit=5)
    owner, token = await _owner(app_client, tenant["id"])
    for n in range(5):
        resp = await guest_photo(app_client, event, headers=device())
        assert resp.status == 201, await resp.text()
        types = [a["type"] for a in await alerts(pool, tenant["id"])]
        # 80 % of 5 is the 4th photo, 100 % the 5th
        assert types == {0: [], 1: [], 2: [], 3: ["photo_limit_80"], 4: ["photo_limit_80", "photo_limit_100"]}[n]
    # a freed slot taken again crosses 100 % a second time: still one alert
    await pool.execute("update events set photo_count = photo_count - 1 where id = $1", event["id"])
    assert (await guest_photo(app_client, event, headers=device())).status == 201
    made = await alerts(pool, tenant["id"])
    assert [a["type"] for a in made] == ["photo_limit_80", "photo_limit_100"]

    for alert in made:
        settled = await settle(pool, alert["id"])
        assert (settled["status"], settled["attempts"]) == ("delivered", 1)
    mails = await smtp_inbox.wait_for(owner["email"], 2)
    subjects = sorted(m.message["Subject"] for m in mails)
    assert subjects == ["Summer party: 80 % of the photo limit used", "Summer party: photo limit reached"]

    body = await (await app_client.get(LOGS, headers=bearer(token))).json()
    assert [n["type"] for n in body["data"]] == ["photo_limit_100", "photo_limit_80"]  # newest first
    first = body["data"][0]
    assert first["data"] == {
        "event_id": event["id"], "event_name": "Summer party", "percent": 100, "photo_count": 5, "photo_limit": 5,
    }
    assert first["channels"]["email"]["status"] == "delivered"
    assert first["channels"]["email"]["target"] == owner["email"]
    assert first["next_attempt_at"] is None and first["last_error"] is None
    assert first["event_id"] == event["id"] and first["delivered_at"] is not None


async def test_concurrent_uploads_over_the_line_make_each_alert_once(app_client, pool):
    tenant, event = await _photo_tenant(app_client, photo_limit=10)
    headers = [device() for _ in range(12)]
    uploads = [await guest_upload(app_client, event, headers=h) for h in headers]

    async def create(upload_id, h):
        return await app_client.post(
            f"/api/v1/events/{event['guest_token']}/photos", json={"upload_id": upload_id}, headers=h
        )

    answers = await asyncio.gather(*(create(u, h) for u, h in zip(uploads, headers, strict=True)))
    assert sorted(r.status for r in answers) == [201] * 10 + [403] * 2
    made = await alerts(pool, tenant["id"])
    assert sorted(a["type"] for a in made) == ["photo_limit_100", "photo_limit_80"]


async def test_a_refused_upload_makes_no_alert(app_client, pool):
    tenant, event = await _photo_tenant(app_client, photo_limit=1)
    headers = [device(), device()]
    uploads = [await guest_upload(app_client, event, headers=h) for h in headers]
    path = f"/api/v1/events/{event['guest_token']}/photos"
    first = await app_client.post(path, json={"upload_id": uploads[0]}, headers=headers[0])
    assert first.status == 201
    second = await app_client.post(path, json={"upload_id": uploads[1]}, headers=headers[1])
    await assert_error(second, 403, "photo_limit_exceeded")
    # 80 % of 1 rounds up to the one photo: both thresholds at once, each once
    assert sorted(a["type"] for a in await alerts(pool, tenant["id"])) == ["photo_limit_100", "photo_limit_80"]


async def test_a_rejected_photo_approved_again_can_cross_the_line(app_client, pool):
    tenant, event = await _photo_tenant(app_client, photo_limit=5)
    _, token = await _owner(app_client, tenant["id"])
    for _ in range(3):
        await make_photo(app_client.app, event)  # written straight to the database: no alerts
    photo = await make_photo(app_client.app, event, approved=False)
    assert (await app_client.post(f"/api/v1/tenant/photos/{photo['id']}/reject", headers=bearer(token))).status == 200
    assert await alerts(pool, tenant["id"]) == []
    # approving it again takes its slot back: the 4th of 5, 80 %
    assert (await app_client.post(f"/api/v1/tenant/photos/{photo['id']}/approve", headers=bearer(token))).status == 200
    (alert,) = await alerts(pool, tenant["id"])
    assert (alert["type"], alert["job_id"]) == ("photo_limit_80", None)
    await run_notifications_once(app_client.app)  # moderation leaves the queueing to the loop
    assert (await settle(pool, alert["id"]))["status"] == "delivered"


# -- payments and packages ------------------------------------------------------------------------


async def test_a_billing_issue_webhook_makes_one_payment_failed_alert(app_client, pool, smtp_inbox):
    tenant = await make_tenant(app_client.app, package="free")
    owner, _ = await _owner(app_client, tenant["id"])
    now = int(time.time() * 1000)
    sub = dict(product_id="roost.starter.monthly", original_transaction_id=f"o-{now}", price=19.0)
    # 30 days left: not also a package_expiring alert (a billing issue's subscription ending within
    # NOTIFY_PACKAGE_EXPIRY_DAYS would be one)
    document = rc_event(tenant["id"], "BILLING_ISSUE", at_ms=now, expires_ms=now + 30 * DAY_MS, **sub)
    assert (await deliver(app_client, document)).status == 200
    await processed(pool, "revenuecat", document["event"]["id"])
    assert (await deliver(app_client, document)).status == 200  # a redelivery changes nothing
    made = await alerts(pool, tenant["id"])
    assert [(a["type"], a["job_id"]) for a in made] == [("payment_failed", None)]
    assert made[0]["dedup_key"] == f"payment_failed:revenuecat:{document['event']['id']}"
    # made inside the Ray job: the gateway's loop queues it
    assert await run_notifications_once(app_client.app) >= 1
    assert (await settle(pool, made[0]["id"]))["status"] == "delivered"
    (mail,) = await smtp_inbox.wait_for(owner["email"])
    assert mail.message["Subject"] == "A payment failed"
    assert "roost.starter.monthly" in mail.text


async def test_a_stale_billing_issue_makes_no_alert(app_client, pool):
    tenant = await make_tenant(app_client.app, package="free")
    now = int(time.time() * 1000)
    sub = dict(product_id="roost.starter.monthly", original_transaction_id=f"s-{now}", price=19.0)
    paid = rc_event(tenant["id"], "INITIAL_PURCHASE", at_ms=now, expires_ms=now + 30 * DAY_MS, **sub)
    stale = rc_event(tenant["id"], "BILLING_ISSUE", at_ms=now - HOUR_MS, **sub)
    for document in (paid, stale):
        await deliver(app_client, document)
        await processed(pool, "revenuecat", document["event"]["id"])
    assert await alerts(pool, tenant["id"]) == []


async def test_a_cancelled_package_about_to_expire_is_alerted_once(aiohttp_client, settings, ray_session, smtp_inbox,
                                                                   pool):
    from gateway.app import create_app

    clock = FakeClock()
    client = await aiohttp_client(create_app(notify_settings(settings, smtp_inbox), clock=clock))
    tenant = await make_tenant(client.app, package="free")
    owner, _ = await _owner(client, tenant["id"])
    now = int(clock.time() * 1000)
    sub = dict(product_id="roost.starter.monthly", original_transaction_id=f"e-{now}", price=19.0)
    paid = rc_event(tenant["id"], "INITIAL_PURCHASE", at_ms=now, expires_ms=now + 30 * DAY_MS, **sub)
    cancel = rc_event(tenant["id"], "CANCELLATION", at_ms=now + HOUR_MS, expires_ms=now + 30 * DAY_MS,
                      cancel_reason="UNSUBSCRIBE", **sub)
    for document in (paid, cancel):
        await deliver(client, document)
        await processed(pool, "revenuecat", document["event"]["id"])

    await run_notifications_once(client.app)
    assert await alerts(pool, tenant["id"]) == []  # 30 days left: not yet
    clock.advance(24 * 86400)  # 6 days left, inside NOTIFY_PACKAGE_EXPIRY_DAYS (7)
    await run_notifications_once(client.app)
    await run_notifications_once(client.app)
    (alert,) = await alerts(pool, tenant["id"])
    assert alert["type"] == "package_expiring"
    assert (alert["payload"]["package"], alert["payload"]["days_left"]) == ("starter", 6)
    assert (await settle(pool, alert["id"]))["status"] == "delivered"
    (mail,) = await smtp_inbox.wait_for(owner["email"])
    assert mail.message["Subject"] == "Your starter package expires soon"


# -- the log ----------------------------------------------------------------------------------------


async def test_the_log_filters_pages_and_is_the_tenants_own(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await _owner(app_client, tenant["id"])
    other = await make_tenant(app_client.app)
    ids = [await raise_alert(app_client.app, tenant["id"]) for _ in range(3)]
    await raise_alert(app_client.app, other["id"])
    for nid in ids:
        await settle(pool, nid)
    await pool.execute(
        "insert into tenant_notifications (tenant_id, type, dedup_key, payload)"
        " values ($1, 'photo_limit_80', 'k', '{}')",
        tenant["id"],
    )

    page = await (await app_client.get(f"{LOGS}?per_page=2&page=2", headers=bearer(token))).json()
    assert page["meta"]["total"] == 4 and [n["id"] for n in page["data"]] == [ids[1], ids[0]]
    only = await (await app_client.get(f"{LOGS}?type=payment_failed", headers=bearer(token))).json()
    assert [n["id"] for n in only["data"]] == ids[::-1]
    pending = await (await app_client.get(f"{LOGS}?status=pending", headers=bearer(token))).json()
    assert [n["type"] for n in pending["data"]] == ["photo_limit_80"]
    delivered = await app_client.get(f"{LOGS}?status=delivered&type=photo_limit_80", headers=bearer(token))
    assert (await delivered.json())["data"] == []


async def test_super_admins_read_any_tenants_log(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await _owner(app_client, tenant["id"])
    nid = await raise_alert(app_client.app, tenant["id"])
    admin = await make_user(app_client.app, admin=True)
    admin_token = await make_token(app_client.app, admin["id"])
    path = f"/api/v1/tenants/{tenant['id']}/notifications/logs"
    seen = await (await app_client.get(path, headers=bearer(admin_token))).json()
    assert [n["id"] for n in seen["data"]] == [nid]
    # a tenant app's token is no super admin's, not even for its own tenant
    await assert_error(await app_client.get(path, headers=bearer(token)), 403, "missing_ability")
    missing = "/api/v1/tenants/999999999/notifications/logs"
    await assert_error(await app_client.get(missing, headers=bearer(admin_token)), 404, "not_found")


@pytest.mark.parametrize(
    ("query", "field"),
    [("type=nope", "type"), ("status=DELIVERED", "status"), ("per_page=101", "per_page"), ("page=0", "page")],
)
async def test_bad_log_filters_are_422(app_client, query, field):
    tenant = await make_tenant(app_client.app)
    _, token = await _owner(app_client, tenant["id"])
    error = await assert_error(await app_client.get(f"{LOGS}?{query}", headers=bearer(token)), 422, "validation_failed")
    assert field in error["meta"]["fields"]


async def test_auth_failures(app_client):
    tenant = await make_tenant(app_client.app)
    await assert_error(await app_client.get(LOGS), 401, "unauthenticated")
    _, read_only = await make_tenant_admin(app_client.app, tenant["id"], abilities=(TENANT_READ,))
    assert (await app_client.get(LOGS, headers=bearer(read_only))).status == 200
    await assert_error(
        await app_client.put(SETTINGS, json={"email": "a@example.com"}, headers=bearer(read_only)), 403,
        "missing_ability",
    )
    await assert_error(await app_client.post(f"{SETTINGS}/secret", headers=bearer(read_only)), 403, "missing_ability")
    plain = await make_user(app_client.app)
    await assert_error(
        await app_client.get(LOGS, headers=bearer(await make_token(app_client.app, plain["id"]))), 403,
        "not_a_tenant_admin",
    )


# -- settings ----------------------------------------------------------------------------------------


async def test_settings_default_to_the_owner_and_show_the_secret_once(app_client):
    tenant = await make_tenant(app_client.app)
    owner, token = await _owner(app_client, tenant["id"])
    await make_tenant_admin(app_client.app, tenant["id"])  # an admin who is not the owner
    shown = (await (await app_client.get(SETTINGS, headers=bearer(token))).json())["data"]
    assert shown == {
        "email": None, "effective_email": owner["email"], "webhook_url": None, "webhook_secret_set": False,
        "secret_rotated_at": None, "webhook_secret": None,
    }
    body = {"email": "alerts@example.com", "webhook_url": "https://hooks.example.com/roost"}
    made = (await (await app_client.put(SETTINGS, json=body, headers=bearer(token))).json())["data"]
    assert made["effective_email"] == "alerts@example.com" and made["webhook_secret"].startswith("whsec_")
    again = (await (await app_client.put(SETTINGS, json=body, headers=bearer(token))).json())["data"]
    assert again["webhook_secret"] is None and again["webhook_secret_set"] is True
    read = (await (await app_client.get(SETTINGS, headers=bearer(token))).json())["data"]
    assert read["webhook_secret"] is None and read["webhook_url"] == body["webhook_url"]
    rotated = await app_client.post(f"{SETTINGS}/secret", headers=bearer(token))
    assert rotated.status == 200
    new = (await rotated.json())["data"]["webhook_secret"]
    assert new.startswith("whsec_") and new != made["webhook_secret"]
    cleared = (await (await app_client.put(SETTINGS, json={}, headers=bearer(token))).json())["data"]
    assert (cleared["email"], cleared["webhook_url"], cleared["effective_email"]) == (None, None, owner["email"])


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-address"},
        {"webhook_url": "ftp://hooks.example.com/x"},
        {"webhook_url": "hooks.example.com/no-scheme"},
        {"webhook_url": "https://user:pw@hooks.example.com/x"},
        {"webhook_url": "https://hooks.example.com/a b"},
        {"email": "a@example.com\r\nBcc: victim@example.com"},
        {"webhook_url": 12345678901},
        {"colour": "red"},
    ],
)
async def test_settings_validation(app_client, body):
    tenant = await make_tenant(app_client.app)
    _, token = await _owner(app_client, tenant["id"])
    await assert_error(await app_client.put(SETTINGS, json=body, headers=bearer(token)), 422, "validation_failed")


async def test_a_nul_in_the_webhook_url_is_refused_before_anything_reads_it(app_client):
    tenant = await make_tenant(app_client.app)
    _, token = await _owner(app_client, tenant["id"])
    body = {"webhook_url": "https://hooks.example.com/\u0000nul"}
    resp = await app_client.put(SETTINGS, json=body, headers=bearer(token))
    error = await assert_error(resp, 422, "forbidden_characters")
    assert "webhook_url" in error["meta"]["fields"]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "https://api.localhost/hook",
        "http://hooks.example.com/plain-http",
    ],
)
async def test_private_addresses_and_plain_http_are_refused(aiohttp_client, settings, ray_session, url):
    from gateway.app import create_app

    client = await aiohttp_client(create_app(settings))  # NOTIFY_WEBHOOK_ALLOW_PRIVATE off, APP_ENV testing
    tenant = await make_tenant(client.app)
    _, token = await _owner(client, tenant["id"])
    resp = await client.put(SETTINGS, json={"webhook_url": url}, headers=bearer(token))
    error = await assert_error(resp, 422, "validation_failed")
    assert "webhook_url" in error["meta"]["fields"]


async def test_an_expiry_scan_on_the_wall_clock_sees_nothing_early(app_client, pool):
    # an expired subscription is not `about to expire`; the scan's window starts now
    tenant = await make_tenant(app_client.app)
    past = datetime.now(UTC) - timedelta(days=1)
    await pool.execute(
        """insert into tenant_subscriptions (tenant_id, provider, subscription_key, product_id, package_id,
               fallback_package_id, status, expires_at, state_at, last_event_id)
           select $1, 'revenuecat', $2, c.id, c.package_id, c.package_id, 'cancelled', $3, $3, 'x'
           from commerce_products c where c.provider_product_id = 'roost.starter.monthly'""",
        tenant["id"], f"past-{time.time_ns()}", past,
    )
    await run_notifications_once(app_client.app)
    assert await alerts(pool, tenant["id"]) == []
