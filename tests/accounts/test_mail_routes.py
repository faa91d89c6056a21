"""POST /api/mail/contact and /api/mail/password-reset through the whole app, over the real SMTP
path (the mail.send job on Ray, aiosmtplib, the aiosmtpd inbox of tests/smtp_inbox.py)."""

from __future__ import annotations

import uuid
from email.utils import getaddresses, parseaddr
from ipaddress import ip_network
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.app import create_app
from gateway.kernel.keys import pool_key
from tests.accounts.account_helpers import JSON, assert_err, assert_ok
from tests.builders import make_user, sha256_hex, unique_email
from tests.smtp_inbox import mail_settings

SITE = "contact-desk@roost.test"
API_HOST = "api.roost.test"


@pytest.fixture
def make_client(aiohttp_client, settings, ray_session, smtp_inbox):
    async def make(**update):
        # own throttle counters: every test posts from 127.0.0.1
        values = {"mail_from_address": SITE, "redis_prefix": f"t-mail-{uuid.uuid4().hex[:8]}"}
        values.update(update)
        return await aiohttp_client(create_app(mail_settings(settings, smtp_inbox, **values)))

    return make


async def contact_jobs(client, after: int = 0) -> int:
    """Contact mails queued with a job id above `after` (the session's jobs table is shared)."""
    async with client.app[pool_key].acquire() as conn:
        return await conn.fetchval(
            "select count(*) from jobs where kind = 'mail.send' and payload->>'kind' = 'contact' and id > $1",
            after,
        )


async def last_job(client) -> int:
    async with client.app[pool_key].acquire() as conn:
        return await conn.fetchval("select coalesce(max(id), 0) from jobs")


async def test_a_contact_message_goes_to_the_site_with_reply_to_the_sender(make_client, smtp_inbox):
    client = await make_client()
    body = {"name": "Ada Lovelace", "email": "ada@example.test", "message": "Hello!\nTwo lines."}
    resp = await client.post("/api/mail/contact", json=body, headers=JSON)
    assert resp.status == 200
    assert assert_ok(await resp.json(), 200, "Message sent") is None
    [mail] = await smtp_inbox.wait_for(SITE)
    assert mail.rcpt_tos == [SITE]
    assert parseaddr(mail.message["From"])[1] == SITE
    assert mail.message["Reply-To"] == "Ada Lovelace <ada@example.test>"
    assert mail.message["Subject"] == "Contact form: Ada Lovelace"
    assert "From: Ada Lovelace <ada@example.test>" in mail.text
    assert "Hello!\nTwo lines." in mail.text.replace("\r\n", "\n")


@pytest.mark.parametrize(
    "field,value",
    [
        ("name", "Eve\r\nBcc: victim@example.test"),
        ("name", "Eve\nBcc: victim@example.test"),
        ("name", "Eve\rBcc: victim@example.test"),
        ("name", "Eve\u2028Bcc: victim@example.test"),
        ("name", "Eve\x85Bcc: victim@example.test"),
        ("email", "eve@example.test\r\nBcc: victim@example.test"),
        ("email", "eve@example.test\nBcc: victim@example.test"),
        ("email", "eve@example.test\r\n"),
    ],
)
async def test_line_breaks_in_header_fields_are_refused(make_client, smtp_inbox, field, value):
    client = await make_client()
    before = await last_job(client)
    body = {"name": "Eve", "email": "eve@example.test", "message": "hi"} | {field: value}
    resp = await client.post("/api/mail/contact", json=body, headers=JSON)
    if value.endswith("\r\n") and field == "email":
        # a trailing line break is trimmed away like any surrounding whitespace: nothing left to inject
        assert resp.status == 200
        [mail] = await smtp_inbox.wait_for(SITE)
        assert mail.message["Reply-To"] == "Eve <eve@example.test>"
        return
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, "The given data was invalid.")
    assert errors is not None and list(errors) == [field]
    assert await contact_jobs(client, before) == 0
    assert smtp_inbox.messages_to("victim@example.test") == []


async def test_a_hostile_name_stays_one_reply_to_address(make_client, smtp_inbox):
    client = await make_client()
    name = 'Eve <attacker@evil.test>, "Mallory" <m@evil.test>;'
    resp = await client.post(
        "/api/mail/contact", json={"name": name, "email": "eve@example.test", "message": "hi"}, headers=JSON
    )
    assert resp.status == 200
    [mail] = await smtp_inbox.wait_for(SITE)
    addresses = getaddresses([mail.message["Reply-To"]])
    assert addresses == [(name, "eve@example.test")]
    assert mail.rcpt_tos == [SITE]


async def test_validation(make_client):
    client = await make_client()
    before = await last_job(client)
    cases = [
        ({}, {"name", "email", "message"}),
        ({"name": " ", "email": "a@example.test", "message": "x"}, {"name"}),
        ({"name": "A", "email": "not-an-address", "message": "x"}, {"email"}),
        ({"name": "A", "email": "a@example.test", "message": ""}, {"message"}),
        ({"name": "A", "email": "a@example.test", "message": "x" * 5001}, {"message"}),
        ({"name": "A" * 256, "email": "a@example.test", "message": "x"}, {"name"}),
        ({"name": 5, "email": "a@example.test", "message": "x"}, {"name"}),
        ({"name": "A\x00", "email": "a@example.test", "message": "x"}, {"name"}),
    ]
    for body, fields in cases:
        resp = await client.post("/api/mail/contact", json=body, headers=JSON)
        assert resp.status == 422, body
        errors = assert_err(await resp.json(), 422, "The given data was invalid.")
        assert errors is not None and set(errors) == fields, (body, errors)
    resp = await client.post("/api/mail/contact", json={}, headers=JSON)
    assert (await resp.json())["errors"]["name"] == ["The name field is required."]
    resp = await client.post(
        "/api/mail/contact", json={"name": "A\nB", "email": "a@example.test", "message": "x"}, headers=JSON
    )
    assert (await resp.json())["errors"]["name"] == ["The name may not contain line breaks."]
    assert await contact_jobs(client, before) == 0


async def test_throttled_per_client_address(make_client):
    client = await make_client(throttle_contact_per_hour=2, trusted_proxies=(ip_network("127.0.0.1/32"),))
    body = {"name": "A", "email": "a@example.test", "message": "x"}
    before = await last_job(client)

    async def send(address: str) -> int:
        resp = await client.post("/api/mail/contact", json=body, headers=JSON | {"X-Forwarded-For": address})
        return resp.status

    assert [await send("203.0.113.20") for _ in range(3)] == [200, 200, 429]
    resp = await client.post("/api/mail/contact", json=body, headers=JSON | {"X-Forwarded-For": "203.0.113.20"})
    assert_err(await resp.json(), 429, "Too Many Attempts.")
    assert int(resp.headers["Retry-After"]) >= 1
    assert await send("203.0.113.21") == 200
    assert await contact_jobs(client, before) == 3


async def test_password_reset_behaves_as_forgot(make_client, smtp_inbox):
    client = await make_client()
    email = unique_email("reset")
    await make_user(client.app, email=email)
    resp = await client.post("/api/mail/password-reset", json={"email": email}, headers=JSON)
    assert resp.status == 200
    assert_ok(await resp.json(), 200, "Password reset link sent if account exists")
    [mail] = await smtp_inbox.wait_for(email)
    [link] = [link for link in mail.links() if "/auth/reset-password" in link]
    token = parse_qs(urlsplit(link).query)["token"][0]
    new = sha256_hex("A-new-password-7")
    resp = await client.post(
        "/api/auth/password/reset",
        json={"email": email, "token": token, "password_hash": new, "password_hash_confirmation": new},
        headers=JSON,
    )
    assert resp.status == 200
    # an unknown address: the same answer, and no mail
    nobody = unique_email("nobody")
    resp = await client.post("/api/mail/password-reset", json={"email": nobody}, headers=JSON)
    assert_ok(await resp.json(), 200, "Password reset link sent if account exists")
    assert smtp_inbox.messages_to(nobody) == []
    resp = await client.post("/api/mail/password-reset", json={"email": "nope"}, headers=JSON)
    assert resp.status == 422


async def test_password_reset_shares_forgots_throttle(make_client):
    client = await make_client(throttle_mail_per_hour=1)
    email = unique_email("reset")
    await make_user(client.app, email=email)
    assert (await client.post("/api/auth/password/forgot", json={"email": email}, headers=JSON)).status == 200
    assert (await client.post("/api/mail/password-reset", json={"email": email}, headers=JSON)).status == 429


async def test_on_the_api_domain_host(make_client, smtp_inbox):
    client = await make_client(api_domain=API_HOST, api_prefix_fallback=True)
    body = {"name": "Domain", "email": "d@example.test", "message": "via the api host"}
    host = JSON | {"Host": API_HOST}
    assert (await client.post("/mail/contact", json=body, headers=host)).status == 200
    assert (await client.post("/api/mail/contact", json=body, headers=host)).status == 200
    email = unique_email("reset")
    await make_user(client.app, email=email)
    assert (await client.post("/mail/password-reset", json={"email": email}, headers=host)).status == 200
    await smtp_inbox.wait_for(SITE, count=2)
    await smtp_inbox.wait_for(email)
