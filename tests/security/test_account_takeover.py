"""Issue 9, accounts and credentials: each test is an attack that worked before the fix.

- limited tokens (a /developer token, a `read` token, a 001 tenant token, the GPT connector
  token) changing the account: email, profile, avatar, password, deletion;
- an email change without the current password, keeping the verified flag, telling nobody;
- credentials (sessions, personal access tokens, JWTs) outliving a password reset;
- per-login tokens that never expire and that /developer neither listed nor revoked.
"""

from __future__ import annotations

import asyncio

import pytest

from domain.tokens import new_secret, sha256_hex
from gateway.app import create_app
from gateway.keys import accounts_key, pool_key, token_cache_key
from storage import reset_tokens
from tests.api.account_helpers import JSON, auth
from tests.builders import bearer, make_token, make_user
from tests.builders import sha256_hex as password_hex
from tests.web.session_helpers import sign_in

NEW_PASSWORD = "Brand-New-Password-7"


async def _reset_through_mail_token(client, email: str) -> str:
    """Runs 003's reset with a reset token planted as forgot would; returns the answer's token."""
    token = new_secret()
    async with client.app[pool_key].acquire() as conn:
        await reset_tokens.replace(conn, email, sha256_hex(token))
    hexed = password_hex(NEW_PASSWORD)
    resp = await client.post(
        "/api/auth/password/reset",
        json={"email": email, "token": token, "password_hash": hexed, "password_hash_confirmation": hexed},
    )
    assert resp.status == 200, await resp.text()
    return (await resp.json())["data"]["token"]


async def _refused_eventually(other, path: str, headers: dict[str, str]) -> None:
    for _ in range(100):
        if (await other.get(path, headers=headers)).status == 401:
            return
        await asyncio.sleep(0.01)
    pytest.fail("the other gateway kept accepting a revoked credential")


# -- credentials outlive a password reset ------------------------------------------------------


async def test_password_reset_ends_sessions_tokens_and_jwts_on_every_gateway(aiohttp_client, client, settings):
    other = await aiohttp_client(create_app(settings))
    await other.app[token_cache_key].wait_subscribed()
    user = await make_user(client.app)
    browser = await sign_in(client, user["email"])
    pat = await make_token(client.app, user["id"], abilities=("read",))
    jwt = client.app[accounts_key].issue_jwt(user)
    assert (await client.get("/api/user", cookies=browser.cookies)).status == 200
    assert (await client.get("/api/user", headers=auth(jwt))).status == 200
    assert (await other.get("/api/user", headers=auth(pat.plain_text))).status == 200  # cached there

    fresh = await _reset_through_mail_token(client, user["email"])

    assert (await client.get("/api/user", cookies=browser.cookies, headers=JSON)).status == 401
    assert (await client.get("/api/user", headers=auth(pat.plain_text))).status == 401
    assert (await client.get("/api/user", headers=auth(jwt))).status == 401
    await _refused_eventually(other, "/api/user", auth(pat.plain_text))
    assert (await other.get("/api/user", headers=auth(fresh))).status == 200
    async with client.app[pool_key].acquire() as conn:
        left = await conn.fetchval("select count(*) from personal_access_tokens where user_id = $1", user["id"])
    assert left == 1  # only the reset's own answer


async def test_002_password_reset_ends_other_credentials_and_keeps_the_callers(client):
    user = await make_user(client.app)
    browser = await sign_in(client, user["email"])
    pat = await make_token(client.app, user["id"])
    old_jwt = client.app[accounts_key].issue_jwt(user)
    from tests.builders import DEFAULT_PASSWORD

    resp = await client.post(
        "/user/reset_password",
        json={"old_pwd": DEFAULT_PASSWORD, "new_pwd": NEW_PASSWORD},
        headers=bearer(pat),
    )
    assert resp.status == 200, await resp.text()
    fresh_jwt = (await resp.json())["data"]["access_token"]
    assert (await client.get("/user/me", headers=bearer(pat))).status == 200  # the caller's own
    assert (await client.get("/user/me", headers={"Authorization": f"Bearer {fresh_jwt}"})).status == 200
    assert (await client.get("/user/me", headers={"Authorization": f"Bearer {old_jwt}"})).status == 401
    assert (await client.get("/api/user", cookies=browser.cookies, headers=JSON)).status == 401
