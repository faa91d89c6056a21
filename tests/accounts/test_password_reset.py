"""003 at /api: password forgot / reset (mail over a real local SMTP server) and change."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.app import create_app
from gateway.kernel.keys import accounts_key, pool_key
from tests.accounts.account_helpers import JSON, assert_err, assert_no_password, assert_ok, auth, login, register
from tests.builders import DEFAULT_PASSWORD, make_token, make_user, sha256_hex, unique_email
from tests.smtp_inbox import FRONTEND_URL, mail_settings

INVALID = "The given data was invalid."
NEW_PASSWORD = "Brand-New-Password-7"


async def _forgot(client, email: str):
    resp = await client.post("/api/auth/password/forgot", json={"email": email})
    assert resp.status == 200
    assert assert_ok(await resp.json(), 200, "Password reset link sent if account exists") is None
    return resp


async def _mailed_token(inbox, email: str, nth: int = 1) -> tuple[str, str]:
    """(token, email) from the nth reset mail to `email`, following the link's query."""
    received = (await inbox.wait_for(email, nth))[nth - 1]
    assert received.message["Subject"] == "Reset your password"
    [link] = received.links()
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{FRONTEND_URL}/auth/reset-password"
    query = parse_qs(parts.query)
    return query["token"][0], query["email"][0]


def _reset_body(email: str, token: str, password: str = NEW_PASSWORD, **overrides):
    body = {
        "email": email,
        "token": token,
        "password_hash": sha256_hex(password),
        "password_hash_confirmation": sha256_hex(password),
    }
    body.update(overrides)
    return body


async def test_forgot_mails_a_link_that_resets_the_password(mail_client, smtp_inbox):
    reg = await register(mail_client)
    email = reg["user"]["email"]
    await _forgot(mail_client, email)
    token, linked_email = await _mailed_token(smtp_inbox, email)
    assert linked_email == email
    received = smtp_inbox.messages_to(email)[0]
    assert token in received.text and received.html is not None and "reset-password" in received.html
    async with mail_client.app[pool_key].acquire() as conn:
        stored = await conn.fetchval("select token_hash from password_reset_tokens where email = lower($1)", email)
    assert stored == sha256_hex(token) and token not in stored

    resp = await mail_client.post("/api/auth/password/reset", json=_reset_body(linked_email, token))
    assert resp.status == 200
    data = assert_ok(await resp.json(), 200, "Password reset successfully")
    assert data["user"]["id"] == reg["user"]["id"]
    assert_no_password(data["user"])
    assert (await mail_client.get("/api/user", headers=auth(data["token"]))).status == 200

    assert (await login(mail_client, email, NEW_PASSWORD)).status == 200
    assert (await login(mail_client, email, DEFAULT_PASSWORD)).status == 401
    async with mail_client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select count(*) from password_reset_tokens where email = lower($1)", email) == 0

    # the token worked once
    again = await mail_client.post("/api/auth/password/reset", json=_reset_body(email, token, "Third-Password-3"))
    assert again.status == 422
    assert assert_err(await again.json(), 422, "Invalid or expired token") == {"token": ["Invalid or expired token"]}


async def test_forgot_reveals_nothing_about_unknown_addresses(client):
    email = unique_email("ghost")
    await _forgot(client, email)
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select count(*) from password_reset_tokens where email = lower($1)", email) == 0
        jobs = await conn.fetchval(
            "select count(*) from jobs where kind = 'mail.send' and payload->>'to' = $1", email
        )
    assert jobs == 0


async def test_forgot_queues_a_job_without_the_smtp_password(aiohttp_client, settings, ray_session, smtp_inbox):
    app = await aiohttp_client(
        create_app(mail_settings(settings, smtp_inbox, mail_username="mailer", mail_password="never-stored"))
    )
    user = await make_user(app.app)
    await _forgot(app, user["email"])
    async with app.app[pool_key].acquire() as conn:
        payload = await conn.fetchval(
            "select payload from jobs where kind = 'mail.send' and payload->>'to' = $1", user["email"]
        )
    assert payload["transport"]["username"] == "mailer"
    assert "never-stored" not in str(payload) and "password" not in payload["transport"]


async def test_a_new_request_replaces_the_previous_token(mail_client, smtp_inbox):
    user = await make_user(mail_client.app)
    await _forgot(mail_client, user["email"])
    first, _ = await _mailed_token(smtp_inbox, user["email"], 1)
    await _forgot(mail_client, user["email"])
    second, _ = await _mailed_token(smtp_inbox, user["email"], 2)
    assert first != second
    resp = await mail_client.post("/api/auth/password/reset", json=_reset_body(user["email"], first))
    assert resp.status == 422
    assert_err(await resp.json(), 422, "Invalid or expired token")
    resp = await mail_client.post("/api/auth/password/reset", json=_reset_body(user["email"], second))
    assert resp.status == 200


async def test_a_token_older_than_120_minutes_has_expired(mail_client, smtp_inbox):
    user = await make_user(mail_client.app)
    await _forgot(mail_client, user["email"])
    token, _ = await _mailed_token(smtp_inbox, user["email"])
    async with mail_client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update password_reset_tokens set created_at = now() - interval '121 minutes' where email = lower($1)",
            user["email"],
        )
    resp = await mail_client.post("/api/auth/password/reset", json=_reset_body(user["email"], token))
    assert resp.status == 422
    assert assert_err(await resp.json(), 422, "Token expired") == {"token": ["Token expired"]}
    assert (await login(mail_client, user["email"], DEFAULT_PASSWORD)).status == 200
    # an expired token is gone, not merely refused
    resp = await mail_client.post("/api/auth/password/reset", json=_reset_body(user["email"], token))
    assert_err(await resp.json(), 422, "Invalid or expired token")


async def test_a_token_of_119_minutes_still_works(mail_client, smtp_inbox):
    client = mail_client
    user = await make_user(client.app)
    await _forgot(client, user["email"])
    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update password_reset_tokens set created_at = now() - interval '119 minutes' where email = lower($1)",
            user["email"],
        )
    token, _ = await _mailed_token(smtp_inbox, user["email"])
    resp = await client.post("/api/auth/password/reset", json=_reset_body(user["email"], token))
    assert resp.status == 200


async def test_reset_refuses_a_wrong_token_or_a_wrong_email(mail_client, smtp_inbox):
    client = mail_client
    user, other = await make_user(client.app), await make_user(client.app)
    await _forgot(client, user["email"])
    token, _ = await _mailed_token(smtp_inbox, user["email"])
    for body in (
        _reset_body(user["email"], "not-the-token"),
        _reset_body(other["email"], token),
        _reset_body(unique_email("nobody"), token),
    ):
        resp = await client.post("/api/auth/password/reset", json=body)
        assert resp.status == 422
        assert_err(await resp.json(), 422, "Invalid or expired token")
    # the right pair still works: failed guesses did not consume it
    assert (await client.post("/api/auth/password/reset", json=_reset_body(user["email"], token))).status == 200


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"password_hash": "short"}, "password_hash"),
        ({"password_hash": "f" * 10_000}, "password_hash"),
        ({"password_hash_confirmation": sha256_hex("other")}, "password_hash"),
        ({"token": ""}, "token"),
        ({"token": "t" * 600}, "token"),
        ({"email": "nope"}, "email"),
    ],
)
async def test_reset_validation_failures(client, overrides, field):
    body = {**_reset_body(unique_email(), "tok"), **overrides}
    resp = await client.post("/api/auth/password/reset", json=body)
    assert resp.status == 422
    assert field in assert_err(await resp.json(), 422, INVALID)


async def test_reset_voids_jwts_and_personal_access_tokens(mail_client, smtp_inbox):
    """A reset ends every credential; the token it answers with is the account's only one."""
    client = mail_client
    user = await make_user(client.app)
    jwt = client.app[accounts_key].issue_jwt(user)
    pat = await make_token(client.app, user["id"])
    assert (await client.get("/api/user", headers=auth(jwt))).status == 200
    await _forgot(client, user["email"])
    token, _ = await _mailed_token(smtp_inbox, user["email"])
    resp = await client.post("/api/auth/password/reset", json=_reset_body(user["email"], token))
    assert resp.status == 200
    fresh = (await resp.json())["data"]["token"]
    assert (await client.get("/api/user", headers=auth(jwt))).status == 401
    assert (await client.get("/api/user", headers=auth(pat.plain_text))).status == 401
    assert (await client.get("/api/user", headers=auth(fresh))).status == 200


async def test_forgot_validation(client):
    for body in ({}, {"email": "not-an-email"}, {"email": 5}):
        resp = await client.post("/api/auth/password/forgot", json=body)
        assert resp.status == 422
        assert list(assert_err(await resp.json(), 422, INVALID)) == ["email"]


# -- change -----------------------------------------------------------------------------------


def _change_body(current: str, new: str, confirmation: str | None = None) -> dict[str, str]:
    return {
        "current_password_hash": sha256_hex(current),
        "password_hash": sha256_hex(new),
        "password_hash_confirmation": sha256_hex(confirmation or new),
    }


async def test_change_password(client):
    reg = await register(client)
    other = (await (await login(client, reg["user"]["email"])).json())["data"]["token"]
    resp = await client.post(
        "/api/auth/password/change", headers=auth(reg["token"]), json=_change_body(DEFAULT_PASSWORD, NEW_PASSWORD)
    )
    assert resp.status == 200
    assert assert_ok(await resp.json(), 200, "Password changed successfully") is None
    assert (await login(client, reg["user"]["email"], NEW_PASSWORD)).status == 200
    assert (await login(client, reg["user"]["email"], DEFAULT_PASSWORD)).status == 401
    # the caller's token stays; every other credential of the account (here another sign-in) ends
    assert (await client.get("/api/user", headers=auth(reg["token"]))).status == 200
    assert (await client.get("/api/user", headers=auth(other))).status == 401


async def test_change_refuses_a_wrong_current_password(client):
    reg = await register(client)
    resp = await client.post(
        "/api/auth/password/change", headers=auth(reg["token"]), json=_change_body("not my password", NEW_PASSWORD)
    )
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, "Current password is incorrect")
    assert errors == {"current_password_hash": ["Current password is incorrect"]}
    assert (await login(client, reg["user"]["email"], DEFAULT_PASSWORD)).status == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "current_password_hash"),
        ({"current_password_hash": "x" * 5000, "password_hash": "a" * 64, "password_hash_confirmation": "a" * 64},
         "current_password_hash"),
        (
            {"current_password_hash": "a" * 64, "password_hash": "zz", "password_hash_confirmation": "zz"},
            "password_hash",
        ),
        ({"current_password_hash": "a" * 64, "password_hash": "a" * 64, "password_hash_confirmation": "b" * 64},
         "password_hash"),
    ],
)
async def test_change_validation_failures(client, body, field):
    reg = await register(client)
    resp = await client.post("/api/auth/password/change", headers=auth(reg["token"]), json=body)
    assert resp.status == 422
    assert field in assert_err(await resp.json(), 422, INVALID)


async def test_change_needs_a_token(client):
    resp = await client.post("/api/auth/password/change", headers=JSON, json=_change_body("a", "b"))
    assert resp.status == 401
    assert_err(await resp.json(), 401, "Unauthenticated.")


# -- throttles --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/auth/password/forgot", "/api/auth/password/reset"])
async def test_forgot_and_reset_are_throttled_per_address(aiohttp_client, settings, ray_session, path):
    app = await aiohttp_client(create_app(settings.model_copy(update={"throttle_mail_per_hour": 2})))
    email = unique_email("throttle")
    body = {"email": email} if path.endswith("forgot") else _reset_body(email, "whatever")
    statuses = []
    for _ in range(3):
        resp = await app.post(path, json=body)
        statuses.append(resp.status)
    assert 429 not in statuses[:2] and statuses[2] == 429
    assert_err(await resp.json(), 429, "Too Many Attempts.")
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["X-RateLimit-Limit"] == "2"
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in resp.headers
