"""`notifications.deliver`: a tenant alert to a local webhook receiver (signed, retried with
backoff, failed after NOTIFY_MAX_ATTEMPTS) and to a local SMTP server, and the delivery's own SSRF
check (the address a name resolves to)."""

from __future__ import annotations

import orjson
import pytest

from domain.notification_webhooks import RefusedUrl, UrlPolicy, resolve_checked
from tests.builders import bearer
from tests.event_builders import make_tenant, make_tenant_admin
from tests.events.notification_builders import (
    LOGS,
    SETTINGS,
    Receiver,
    notify_settings,
    raise_alert,
    settle,
    start_receiver,
)
from tests.waiting import eventually


@pytest.fixture
async def app_client(aiohttp_client, settings, ray_session, smtp_inbox):
    from gateway.app import create_app

    return await aiohttp_client(create_app(notify_settings(settings, smtp_inbox)))


async def _tenant_with_webhook(client, receiver: Receiver):
    tenant = await make_tenant(client.app)
    owner, token = await make_tenant_admin(client.app, tenant["id"], role="owner")
    resp = await client.put(SETTINGS, json={"webhook_url": receiver.url}, headers=bearer(token))
    assert resp.status == 200, await resp.text()
    receiver.secret = (await resp.json())["data"]["webhook_secret"]
    return tenant, owner, token


async def test_a_receiver_failing_twice_gets_it_on_the_third_attempt(app_client, aiohttp_server, pool, smtp_inbox):
    receiver = await start_receiver(aiohttp_server, Receiver(fail_first=2))
    tenant, owner, token = await _tenant_with_webhook(app_client, receiver)
    nid = await raise_alert(app_client.app, tenant["id"])
    row = await settle(pool, nid)
    assert (row["status"], row["attempts"]) == ("delivered", 3)
    assert len(receiver.requests) == 3
    assert all(r["signed"] and r["fresh"] for r in receiver.requests)
    assert {r["headers"]["X-Roost-Notification-Id"] for r in receiver.requests} == {str(nid)}
    assert [r["headers"]["X-Roost-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    body = orjson.loads(receiver.requests[-1]["body"])
    assert (body["id"], body["type"], body["tenant_id"]) == (nid, "payment_failed", tenant["id"])
    assert body["data"]["product_id"] == "roost.starter.monthly"
    # mail went out on the first attempt and was not sent again by the retries
    assert len(await smtp_inbox.wait_for(owner["email"])) == 1
    assert len(smtp_inbox.messages_to(owner["email"])) == 1

    (shown,) = (await (await app_client.get(LOGS, headers=bearer(token))).json())["data"]
    assert (shown["status"], shown["attempts"]) == ("delivered", 3)
    assert shown["last_error"] == "webhook: the webhook answered HTTP 500"  # the retry context stays
    assert shown["channels"]["webhook"] == {
        "status": "delivered", "target": receiver.url, "http_status": 200,
        "delivered_at": shown["channels"]["webhook"]["delivered_at"], "error": None, "permanent": None,
    }


async def test_a_receiver_that_always_fails_ends_failed_with_the_error(app_client, aiohttp_server, pool):
    receiver = await start_receiver(aiohttp_server, Receiver(always_fail=True))
    tenant, _, token = await _tenant_with_webhook(app_client, receiver)
    nid = await raise_alert(app_client.app, tenant["id"])

    async def waiting_to_retry():
        (shown,) = (await (await app_client.get(LOGS, headers=bearer(token))).json())["data"]
        # the alert says pending a moment before the runtime has written the job's next run_after
        waiting = shown["status"] == "pending" and shown["attempts"] >= 1 and shown["next_attempt_at"] is not None
        return shown if waiting else None

    between = await eventually(waiting_to_retry, timeout=20, interval=0.02, what="a retry waiting")
    assert between["attempts"] in (1, 2) and between["last_error"] == "webhook: the webhook answered HTTP 500"

    row = await settle(pool, nid)
    assert (row["status"], row["attempts"]) == ("failed", 3)  # NOTIFY_MAX_ATTEMPTS in these tests
    assert row["last_error"] == "webhook: the webhook answered HTTP 500"
    assert len(receiver.requests) == 3
    # the job's row is written just after the alert's, when the handler's error reaches the runtime
    job_failed = await eventually(
        lambda: pool.fetchval("select status = 'failed' from jobs where id = $1", row["job_id"]),
        timeout=10, what="the job failed",
    )
    assert job_failed is True
    (shown,) = (await (await app_client.get(f"{LOGS}?status=failed", headers=bearer(token))).json())["data"]
    assert shown["next_attempt_at"] is None and shown["channels"]["email"]["status"] == "delivered"


async def test_the_secret_signs_after_rotation(app_client, aiohttp_server, pool):
    receiver = await start_receiver(aiohttp_server, Receiver())
    tenant, _, token = await _tenant_with_webhook(app_client, receiver)
    old = receiver.secret
    rotated = await app_client.post(f"{SETTINGS}/secret", headers=bearer(token))
    receiver.secret = (await rotated.json())["data"]["webhook_secret"]
    assert receiver.secret != old
    nid = await raise_alert(app_client.app, tenant["id"])
    assert (await settle(pool, nid))["status"] == "delivered"
    assert receiver.requests[0]["signed"] is True


async def test_a_url_resolving_to_a_private_address_fails_at_once(aiohttp_client, settings, ray_session, smtp_inbox,
                                                                  pool):
    from gateway.app import create_app

    # private addresses not allowed: the settings route would refuse this URL, so it is written
    # straight to the row, as if its name had resolved somewhere public when it was set
    client = await aiohttp_client(create_app(notify_settings(settings, smtp_inbox, notify_webhook_allow_private=False)))
    tenant = await make_tenant(client.app)
    await make_tenant_admin(client.app, tenant["id"], role="owner")
    await pool.execute(
        """insert into tenant_notification_settings (tenant_id, webhook_url, webhook_secret)
           values ($1, 'https://127.0.0.1:9/hook', 'whsec_0123456789abcdef0123456789abcdef')""",
        tenant["id"],
    )
    nid = await raise_alert(client.app, tenant["id"])
    row = await settle(pool, nid)
    assert (row["status"], row["attempts"]) == ("failed", 1)  # not retried: a retry meets the same refusal
    assert row["channels"]["webhook"]["permanent"] is True
    assert "private or local address" in row["last_error"]
    assert row["channels"]["email"]["status"] == "delivered"


async def test_an_alert_with_nowhere_to_go_fails(app_client, pool):
    tenant = await make_tenant(app_client.app)  # no admin, no settings: no address, no webhook
    nid = await raise_alert(app_client.app, tenant["id"])
    row = await settle(pool, nid)
    assert (row["status"], row["last_error"]) == ("failed", "no recipient")


async def test_a_refused_recipient_is_not_retried(app_client, pool):
    tenant = await make_tenant(app_client.app)
    _, token = await make_tenant_admin(app_client.app, tenant["id"], role="owner")
    put = await app_client.put(SETTINGS, json={"email": "refuse-me@example.com"}, headers=bearer(token))
    assert put.status == 200
    nid = await raise_alert(app_client.app, tenant["id"])
    row = await settle(pool, nid)
    assert (row["status"], row["attempts"]) == ("failed", 1)  # the inbox answers 550 to `refuse`
    assert row["channels"]["email"]["permanent"] is True


async def test_names_are_checked_by_what_they_resolve_to():
    closed = UrlPolicy(allow_private=False, allow_http=False)
    with pytest.raises(RefusedUrl, match="private or local"):
        await resolve_checked("localhost", 443, closed)
    with pytest.raises(RefusedUrl, match="private or local"):
        await resolve_checked("169.254.169.254", 443, closed)
    with pytest.raises(RefusedUrl, match="cannot be resolved"):
        await resolve_checked("no-such-host.invalid", 443, closed)
    with pytest.raises(RefusedUrl, match="cannot be resolved"):
        await resolve_checked("x" * 70 + ".example.com", 443, closed)  # a label IDNA refuses
    assert await resolve_checked("127.0.0.1", 443, UrlPolicy(allow_private=True, allow_http=True))


def test_the_signature_is_the_scheme_roost_accepts():
    from domain.notification_webhooks import signature
    from domain.webhooks import sign

    assert signature("whsec_k", b'{"a":1}', 1764590000) == sign("whsec_k", b'{"a":1}', timestamp=1764590000)


async def test_an_alert_whose_job_was_given_up_is_marked_failed(app_client, pool):
    from domain import notifications
    from gateway.events.notifications import run_notifications_once
    from gateway.kernel.keys import settings_key

    tenant = await make_tenant(app_client.app)
    delivery = notifications.Delivery.from_settings(app_client.app[settings_key])
    async with pool.acquire() as conn, conn.transaction():
        job_id = await notifications.create(
            conn, tenant_id=tenant["id"], type_=notifications.NotificationType.PAYMENT_FAILED,
            dedup_key="payment_failed:given-up", payload={}, delivery=delivery,
        )
    # as the runtime leaves it when the worker died on the last attempt (jobs.give_up)
    await pool.execute("update jobs set status = 'failed', error = 'gave up after 3 attempts' where id = $1", job_id)
    await pool.execute("update tenant_notifications set status = 'sending', attempts = 3 where job_id = $1", job_id)
    await run_notifications_once(app_client.app)
    row = await pool.fetchrow("select * from tenant_notifications where job_id = $1", job_id)
    assert (row["status"], row["last_error"]) == ("failed", "gave up after 3 attempts")
