"""003 at /api: email verification (send a link, follow it), over a real local SMTP server; and
the mail_outbox of MAIL_MAILER=log, which keeps the message with its link redacted."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from gateway.app import create_app
from gateway.kernel.keys import jobs_key, pool_key, token_cache_key
from tests.accounts.account_helpers import BROWSER_ACCEPT, JSON, assert_err, assert_ok, auth, register
from tests.builders import make_token, make_user, sha256_hex, unique_email
from tests.smtp_inbox import FRONTEND_URL

INVALID = "The given data was invalid."


async def _send(client, headers=None, **body):
    return await client.post("/api/auth/verify/send", json=body if body else None, headers=headers or JSON)


async def _mailed_link(inbox, email: str, settings) -> str:
    [received] = await inbox.wait_for(email)
    assert received.message["Subject"] == "Verify your email address"
    [link] = received.links()
    assert link.startswith(f"{settings.app_url.rstrip('/')}/api/auth/verify/")
    return link


async def test_send_and_follow_the_link(mail_client, smtp_inbox, settings):
    reg = await register(mail_client)
    email = reg["user"]["email"]
    resp = await _send(mail_client, email=email)
    assert resp.status == 200
    assert assert_ok(await resp.json(), 200, "Verification email sent") is None

    link = await _mailed_link(smtp_inbox, email, settings)
    token = link.rsplit("/", 1)[1]
    async with mail_client.app[pool_key].acquire() as conn:
        row = await conn.fetchrow(
            "select token_hash, expires_at - created_at as ttl from email_verification_tokens where user_id = $1",
            reg["user"]["id"],
        )
    assert row["token_hash"] == sha256_hex(token)
    assert row["ttl"].total_seconds() == pytest.approx(24 * 3600, abs=60)

    resp = await mail_client.get(urlsplit(link).path, headers=JSON)
    assert resp.status == 200
    user = assert_ok(await resp.json(), 200, "Email verified")["user"]
    assert user["id"] == reg["user"]["id"] and user["email_verified_at"] is not None
    me = await (await mail_client.get("/api/user", headers=auth(reg["token"]))).json()
    assert me["data"]["email_verified_at"] == user["email_verified_at"]

    # once only
    again = await mail_client.get(urlsplit(link).path, headers=JSON)
    assert again.status == 400
    assert_err(await again.json(), 400, "Invalid verification token")
    # and now there is nothing to send, which only the account itself is told
    resp = await _send(mail_client, email=email)
    assert assert_ok(await resp.json(), 200, "Verification email sent") is None
    resp = await mail_client.post("/api/auth/verify/send", headers=auth(reg["token"]))
    assert assert_ok(await resp.json(), 200, "Email already verified") is None
    assert len(smtp_inbox.messages_to(email)) == 1


async def test_send_to_the_signed_in_user_without_a_body(mail_client, smtp_inbox, settings):
    reg = await register(mail_client)
    resp = await mail_client.post("/api/auth/verify/send", headers=auth(reg["token"]))
    assert resp.status == 200
    assert_ok(await resp.json(), 200, "Verification email sent")
    link = await _mailed_link(smtp_inbox, reg["user"]["email"], settings)
    assert (await mail_client.get(urlsplit(link).path, headers=JSON)).status == 200


async def test_a_browser_following_the_link_is_sent_to_the_spa(mail_client, smtp_inbox, settings):
    user = await make_user(mail_client.app)
    await _send(mail_client, email=user["email"])
    link = await _mailed_link(smtp_inbox, user["email"], settings)
    resp = await mail_client.get(urlsplit(link).path, headers={"Accept": BROWSER_ACCEPT}, allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == f"{FRONTEND_URL}/auth/verified"
    async with mail_client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select email_verified_at from users where id = $1", user["id"]) is not None
        assert await conn.fetchval(
            "select count(*) from email_verification_tokens where user_id = $1", user["id"]
        ) == 0


async def test_verification_reaches_cached_credentials(mail_client, smtp_inbox, settings):
    client = mail_client
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    cache = client.app[token_cache_key]
    await cache.wait_subscribed()  # unsubscribed, the cache is bypassed and proves nothing
    # warm the token cache with the unverified state
    assert (await client.get("/api/user", headers=auth(token.plain_text))).status == 200
    assert (await cache.lookup(sha256_hex(token.secret))).email_verified is False
    await _send(client, email=user["email"])
    link = await _mailed_link(smtp_inbox, user["email"], settings)
    assert (await client.get(urlsplit(link).path, headers=JSON)).status == 200
    entry = await cache.lookup(sha256_hex(token.secret))
    assert entry.email_verified is True


async def _outbox_row(client, email: str):
    async with client.app[pool_key].acquire() as conn:
        job_id = await conn.fetchval(
            "select id from jobs where kind = 'mail.send' and payload->>'to' = $1 order by id desc limit 1", email
        )
    job = await client.app[jobs_key].wait(job_id, 30)
    assert job.status == "finished", job.error
    assert job.result["mailer"] == "log" and job.result["stored"] is True
    async with client.app[pool_key].acquire() as conn:
        row = await conn.fetchrow(
            "select * from mail_outbox where to_address = $1 order by id desc limit 1", email
        )
    assert row["kind"] == "verification" and row["subject"] == "Verify your email address"
    assert row["message_id"] == job.result["message_id"] and str(job_id) in row["message_id"]
    assert row["body_html"] and "/api/auth/verify/" in row["body_html"]
    return row


async def test_mail_mailer_log_writes_the_outbox_with_the_link_redacted(client, settings):
    assert settings.mail_mailer == "log"
    user = await make_user(client.app)
    resp = await _send(client, email=user["email"])
    assert_ok(await resp.json(), 200, "Verification email sent")
    row = await _outbox_row(client, user["email"])
    link = next(line.strip() for line in row["body_text"].splitlines() if "/api/auth/verify/" in line)
    async with client.app[pool_key].acquire() as conn:
        token_hash = await conn.fetchval(
            "select token_hash from email_verification_tokens where user_id = $1", user["id"]
        )
    # the stand-in names the token's hash (to match the row), and is no link that works
    assert link == f"{settings.app_url.rstrip('/')}/api/auth/verify/REDACTED-{token_hash[:12]}"
    assert f"REDACTED-{token_hash[:12]}" in row["body_html"]
    resp = await client.get(urlsplit(link).path, headers=JSON)
    assert_err(await resp.json(), 400, "Invalid verification token")


async def test_an_expired_token_is_refused(mail_client, smtp_inbox, settings):
    client = mail_client
    user = await make_user(client.app)
    await _send(client, email=user["email"])
    link = await _mailed_link(smtp_inbox, user["email"], settings)
    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update email_verification_tokens set expires_at = now() - interval '1 second' where user_id = $1",
            user["id"],
        )
    resp = await client.get(urlsplit(link).path, headers=JSON)
    assert resp.status == 400
    assert_err(await resp.json(), 400, "Invalid verification token")
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select email_verified_at from users where id = $1", user["id"]) is None


@pytest.mark.parametrize("token", ["nope", "a" * 40, "x" * 2000, "%00"])
async def test_unknown_tokens_are_400(client, token):
    resp = await client.get(f"/api/auth/verify/{token}", headers=JSON)
    assert resp.status == 400
    assert_err(await resp.json(), 400, "Invalid verification token")


async def test_send_to_an_unknown_address_looks_like_a_send(client):
    email = unique_email("nobody")
    resp = await _send(client, email=email)
    assert resp.status == 200
    assert_ok(await resp.json(), 200, "Verification email sent")
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval(
            "select count(*) from jobs where kind = 'mail.send' and payload->>'to' = $1", email
        ) == 0


async def test_send_to_a_verified_address(client):
    user = await make_user(client.app, verified=True)
    resp = await _send(client, email=user["email"])
    assert resp.status == 200
    assert_ok(await resp.json(), 200, "Verification email sent")  # not "already verified": that would tell
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval(
            "select count(*) from jobs where kind = 'mail.send' and payload->>'to' = $1", user["email"]
        ) == 0


async def test_send_needs_an_email_or_a_signed_in_user(client):
    for kwargs in ({}, {"email": ""}):
        resp = await _send(client, **kwargs)
        assert resp.status == 422
        assert assert_err(await resp.json(), 422, INVALID) == {"email": ["The email field is required."]}
    resp = await _send(client, email="not-an-email")
    assert resp.status == 422
    assert list(assert_err(await resp.json(), 422, INVALID)) == ["email"]


async def test_send_is_throttled_per_address(aiohttp_client, settings, ray_session):
    app = await aiohttp_client(create_app(settings.model_copy(update={"throttle_mail_per_hour": 2})))
    user = await make_user(app.app, verified=True)  # nothing is mailed; the throttle counts anyway
    statuses = [(await _send(app, email=user["email"])).status for _ in range(2)]
    assert statuses == [200, 200]
    resp = await _send(app, email=user["email"])
    assert resp.status == 429
    assert_err(await resp.json(), 429, "Too Many Attempts.")
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["X-RateLimit-Limit"] == "2"
    assert resp.headers["X-RateLimit-Remaining"] == "0"
