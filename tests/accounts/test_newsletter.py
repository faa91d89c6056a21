"""The newsletter's double opt-in through the whole app and the real SMTP path: sign-up, the
confirmation mail and its one-time link, the welcome, an unsubscribe link (and List-Unsubscribe
headers) in every mail, and what the sign-up never reveals or allows."""

from __future__ import annotations

import asyncio
import uuid
from ipaddress import ip_network
from urllib.parse import urlsplit

import pytest

from gateway.app import create_app
from gateway.kernel.keys import pool_key
from tests.accounts.account_helpers import BROWSER_ACCEPT, JSON, assert_err, assert_ok
from tests.builders import unique_email
from tests.smtp_inbox import FRONTEND_URL, mail_settings

SIGNED_UP = "Please confirm your subscription: we sent a link to your address"
API_HOST = "api.roost.test"


@pytest.fixture
def make_client(aiohttp_client, settings, ray_session, smtp_inbox):
    async def make(**update):
        values = {"redis_prefix": f"t-news-{uuid.uuid4().hex[:8]}"}
        values.update(update)
        return await aiohttp_client(create_app(mail_settings(settings, smtp_inbox, **values)))

    return make


async def sign_up(client, email: str, **headers: str):
    resp = await client.post("/api/mail/newsletter", json={"email": email}, headers=JSON | headers)
    assert resp.status == 200, await resp.text()
    assert assert_ok(await resp.json(), 200, SIGNED_UP) is None
    return resp


def link(mail, kind: str) -> str:
    [found] = [u for u in mail.links() if f"/api/mail/newsletter/{kind}/" in u]
    return found


def path(url: str) -> str:
    return urlsplit(url).path


async def subscription(client, email: str):
    async with client.app[pool_key].acquire() as conn:
        return await conn.fetchrow("select * from newsletter_subscriptions where lower(email) = lower($1)", email)


async def confirmation_jobs(client, email: str) -> int:
    async with client.app[pool_key].acquire() as conn:
        return await conn.fetchval(
            "select count(*) from jobs where kind = 'mail.send' and payload->>'kind' = 'newsletter_confirm'"
            " and lower(payload->>'to') = lower($1)",
            email,
        )


async def test_double_opt_in_from_sign_up_to_unsubscribe(make_client, smtp_inbox):
    client = await make_client()
    email = unique_email("news")
    await sign_up(client, email)
    row = await subscription(client, email)
    assert row["status"] == "pending"
    [mail] = await smtp_inbox.wait_for(email)
    assert mail.message["Subject"] == "Confirm your newsletter subscription"
    confirm, unsubscribe = link(mail, "confirm"), link(mail, "unsubscribe")
    assert confirm.startswith("http://127.0.0.1:8000/api/mail/newsletter/confirm/")
    assert mail.message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # only a hash of the link's token is kept
    token = path(confirm).rsplit("/", 1)[1]
    assert token not in str(dict(row))

    resp = await client.get(path(confirm), headers=JSON)
    assert resp.status == 200
    assert_ok(await resp.json(), 200, "Newsletter subscription confirmed")
    assert (await subscription(client, email))["status"] == "confirmed"
    # the welcome carries the unsubscribe link too: the same one
    [_, welcome] = await smtp_inbox.wait_for(email, count=2)
    assert welcome.message["Subject"] == "Your newsletter subscription is confirmed"
    assert link(welcome, "unsubscribe") == unsubscribe
    assert welcome.message["List-Unsubscribe"] == f"<{unsubscribe}>"
    # the confirmation link works once
    resp = await client.get(path(confirm), headers=JSON)
    assert resp.status == 400
    assert_err(await resp.json(), 400, "Invalid or expired confirmation link")

    resp = await client.get(path(unsubscribe), headers=JSON)
    assert resp.status == 200
    assert_ok(await resp.json(), 200, "Unsubscribed from the newsletter")
    row = await subscription(client, email)
    assert row["status"] == "unsubscribed" and row["unsubscribed_at"] is not None
    # again, and by RFC 8058's one-click POST: still fine, still unsubscribed
    assert (await client.get(path(unsubscribe), headers=JSON)).status == 200
    resp = await client.post(path(unsubscribe), data={"List-Unsubscribe": "One-Click"}, headers=JSON)
    assert resp.status == 200
    assert (await subscription(client, email))["status"] == "unsubscribed"


async def test_browsers_are_sent_to_the_spa(make_client, smtp_inbox):
    client = await make_client()
    email = unique_email("news")
    await sign_up(client, email)
    [mail] = await smtp_inbox.wait_for(email)
    resp = await client.get(path(link(mail, "confirm")), headers={"Accept": BROWSER_ACCEPT}, allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == f"{FRONTEND_URL}/newsletter/confirmed"
    resp = await client.get(path(link(mail, "unsubscribe")), headers={"Accept": BROWSER_ACCEPT}, allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == f"{FRONTEND_URL}/newsletter/unsubscribed"


async def test_one_click_unsubscribe_before_confirming_kills_the_confirmation(make_client, smtp_inbox):
    client = await make_client()
    email = unique_email("news")
    await sign_up(client, email)
    [mail] = await smtp_inbox.wait_for(email)
    resp = await client.post(path(link(mail, "unsubscribe")), data={"List-Unsubscribe": "One-Click"}, headers=JSON)
    assert resp.status == 200
    assert (await client.get(path(link(mail, "confirm")), headers=JSON)).status == 400
    assert (await subscription(client, email))["status"] == "unsubscribed"


async def test_forged_unsubscribe_links_are_refused(make_client, smtp_inbox):
    client = await make_client()
    email = unique_email("news")
    await sign_up(client, email)
    [mail] = await smtp_inbox.wait_for(email)
    token = path(link(mail, "unsubscribe")).rsplit("/", 1)[1]
    sub_id, mac = token.split(".")
    forged = [
        f"{sub_id}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
        f"{int(sub_id) + 1}.{mac}",
        f"{sub_id}.",
        sub_id,
        f"0.{mac}",
        f"0{sub_id}.{mac}",
        f"{sub_id}.{mac.upper()}",
        "x" * 600,
    ]
    for bad in forged:
        resp = await client.get(f"/api/mail/newsletter/unsubscribe/{bad}", headers=JSON)
        assert resp.status == 400, bad
        assert_err(await resp.json(), 400, "Invalid unsubscribe link")
    assert (await subscription(client, email))["status"] == "pending"


async def test_an_unsubscribe_link_is_signed_with_app_key(
    aiohttp_client, settings, ray_session, make_client, smtp_inbox
):
    client = await make_client()
    email = unique_email("news")
    await sign_up(client, email)
    [mail] = await smtp_inbox.wait_for(email)
    rekeyed = await aiohttp_client(create_app(settings.model_copy(update={"app_key": uuid.uuid4().hex * 2})))
    assert (await rekeyed.get(path(link(mail, "unsubscribe")), headers=JSON)).status == 400
    assert (await client.get(path(link(mail, "unsubscribe")), headers=JSON)).status == 200


async def test_the_answer_is_the_same_whatever_the_state_and_mail_goes_only_when_due(make_client, smtp_inbox):
    client = await make_client()
    email = unique_email("news")
    await sign_up(client, email)
    await sign_up(client, email.upper())  # pending, mailed a moment ago: no second mail
    assert await confirmation_jobs(client, email) == 1
    [mail] = await smtp_inbox.wait_for(email)
    await client.get(path(link(mail, "confirm")), headers=JSON)
    await sign_up(client, email)  # confirmed: nothing to send, same answer
    assert await confirmation_jobs(client, email) == 1
    assert (await subscription(client, email))["status"] == "confirmed"
    async with client.app[pool_key].acquire() as conn:
        assert (
            await conn.fetchval("select count(*) from newsletter_subscriptions where lower(email) = lower($1)", email)
            == 1
        )


async def test_an_expired_link_is_refused_and_a_new_sign_up_replaces_it(make_client, smtp_inbox):
    client = await make_client()
    email = unique_email("news")
    await sign_up(client, email)
    [first] = await smtp_inbox.wait_for(email)
    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update newsletter_subscriptions set confirm_sent_at = now() - interval '49 hours'"
            " where lower(email) = lower($1)",
            email,
        )
    assert (await client.get(path(link(first, "confirm")), headers=JSON)).status == 400
    await sign_up(client, email)  # the last mail is old enough: a new one goes out
    [_, second] = await smtp_inbox.wait_for(email, count=2)
    assert link(second, "confirm") != link(first, "confirm")
    assert (await client.get(path(link(first, "confirm")), headers=JSON)).status == 400
    assert (await client.get(path(link(second, "confirm")), headers=JSON)).status == 200


async def test_signing_up_again_after_unsubscribing_starts_over(make_client, smtp_inbox):
    client = await make_client()
    email = unique_email("news")
    await sign_up(client, email)
    [mail] = await smtp_inbox.wait_for(email)
    await client.get(path(link(mail, "unsubscribe")), headers=JSON)
    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update newsletter_subscriptions set confirm_sent_at = now() - interval '1 hour'"
            " where lower(email) = lower($1)",
            email,
        )
    await sign_up(client, email)
    assert (await subscription(client, email))["status"] == "pending"
    [_, again] = await smtp_inbox.wait_for(email, count=2)
    assert (await client.get(path(link(again, "confirm")), headers=JSON)).status == 200
    assert (await subscription(client, email))["status"] == "confirmed"


async def test_concurrent_sign_ups_make_one_row_and_one_mail(make_client):
    client = await make_client()
    email = unique_email("news")
    responses = await asyncio.gather(
        *(client.post("/api/mail/newsletter", json={"email": email}, headers=JSON) for _ in range(5))
    )
    assert [r.status for r in responses] == [200] * 5
    assert await confirmation_jobs(client, email) == 1


async def test_bad_tokens_and_bad_input(make_client):
    client = await make_client()
    for token in ("nope", "x" * 600, "a.b"):
        resp = await client.get(f"/api/mail/newsletter/confirm/{token}", headers=JSON)
        assert resp.status == 400, token
    resp = await client.get("/api/mail/newsletter/confirm/nope", headers=JSON)
    assert_err(await resp.json(), 400, "Invalid or expired confirmation link")
    for body in ({}, {"email": "not-an-address"}, {"email": "a@b.test\r\nBcc: x@y.test"}, {"email": 5}):
        resp = await client.post("/api/mail/newsletter", json=body, headers=JSON)
        assert resp.status == 422, body
        assert list(assert_err(await resp.json(), 422, "The given data was invalid.") or {}) == ["email"]


async def test_sign_ups_are_throttled_per_client_address(make_client):
    client = await make_client(throttle_contact_per_hour=2, trusted_proxies=(ip_network("127.0.0.1/32"),))

    async def attempt(address: str) -> int:
        resp = await client.post(
            "/api/mail/newsletter", json={"email": unique_email("flood")}, headers=JSON | {"X-Forwarded-For": address}
        )
        return resp.status

    assert [await attempt("203.0.113.30") for _ in range(3)] == [200, 200, 429]
    assert await attempt("203.0.113.31") == 200


async def test_on_the_api_domain_host(make_client, smtp_inbox):
    client = await make_client(api_domain=API_HOST)
    host = JSON | {"Host": API_HOST}
    email = unique_email("news")
    resp = await client.post("/mail/newsletter", json={"email": email}, headers=host)
    assert resp.status == 200
    [mail] = await smtp_inbox.wait_for(email)
    token = path(link(mail, "confirm")).rsplit("/", 1)[1]
    assert (await client.get(f"/mail/newsletter/confirm/{token}", headers=host)).status == 200
    unsubscribe = path(link(mail, "unsubscribe")).removeprefix("/api")
    assert (await client.post(unsubscribe, headers=host)).status == 200
    assert (await subscription(client, email))["status"] == "unsubscribed"
