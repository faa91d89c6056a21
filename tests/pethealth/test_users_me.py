"""000: GET /api/users/me, with every way of calling it (token abilities, sessions, failures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.kernel.keys import accounts_key, pool_key, token_cache_key
from tests.builders import bearer, make_token, make_user
from tests.web.session_helpers import forget_cookies, signed_in_user

ENVELOPE_KEYS = {"success", "status", "data", "message", "code", "timestamp"}
ERROR_KEYS = {"success", "status", "data", "message", "error", "errors", "code", "timestamp"}


async def test_without_credentials_is_401(client):
    forget_cookies(client)
    resp = await client.get("/api/users/me")
    assert resp.status == 401
    body = await resp.json()
    assert set(body) == ERROR_KEYS
    assert body["success"] is False and body["data"] is None
    assert body["message"] == "Unauthenticated." and body["error"] == "Unauthenticated."


async def test_read_token_gets_the_profile(client, settings):
    user = await make_user(client.app, name="Mai", first_name="Mai", last_name="Tran", avatar="avatars/m.png")
    token = await make_token(client.app, user["id"], abilities=("read",))
    resp = await client.get("/api/users/me", headers=bearer(token))
    assert resp.status == 200
    body = await resp.json()
    assert set(body) == ENVELOPE_KEYS and body["success"] is True
    data = body["data"]
    assert data["id"] == user["id"] and data["email"] == user["email"] and data["name"] == "Mai"
    assert data["first_name"] == "Mai" and data["last_name"] == "Tran"
    assert data["avatar"] == f"{settings.app_url}/storage/avatars/m.png"
    assert not any("password" in k for k in data)


async def test_full_and_bare_token_both_work(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], abilities=("read",))
    for value in (token.plain_text, token.secret):
        resp = await client.get("/api/users/me", headers=bearer(value))
        assert resp.status == 200, value


async def test_token_without_read_is_403_with_the_ability_message(client):
    user = await make_user(client.app)
    for abilities in (("create",), ("pet:read", "profile:read"), ()):
        token = await make_token(client.app, user["id"], abilities=abilities)
        resp = await client.get("/api/users/me", headers=bearer(token))
        assert resp.status == 403
        body = await resp.json()
        assert body["message"] == "This personal access token does not have the required read ability."
        assert body["success"] is False


async def test_star_token_and_session_pass(client):
    user = await make_user(client.app)
    star = await make_token(client.app, user["id"], abilities=("*",))
    assert (await client.get("/api/users/me", headers=bearer(star))).status == 200
    signed = await signed_in_user(client)
    resp = await client.get("/api/users/me", cookies=signed.cookies)
    assert resp.status == 200 and (await resp.json())["data"]["id"] == signed.user["id"]


async def test_expired_token_is_401(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], abilities=("read",))
    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update personal_access_tokens set expires_at = $2 where id = $1",
            token.record["id"],
            datetime.now(UTC) - timedelta(minutes=1),
        )
    resp = await client.get("/api/users/me", headers=bearer(token))
    assert resp.status == 401 and (await resp.json())["message"] == "Unauthenticated."


async def test_unknown_and_malformed_tokens_are_401(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], abilities=("read",))
    for value in (f"{token.record['id'] + 10_000}|{token.secret}", "nonsense", "x|y", "|"):
        assert (await client.get("/api/users/me", headers=bearer(value))).status == 401, value


async def test_deleted_user_token_is_401(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], abilities=("read",))
    assert (await client.get("/api/users/me", headers=bearer(token))).status == 200
    await client.app[accounts_key].delete_user(user["id"])
    assert (await client.get("/api/users/me", headers=bearer(token))).status == 401


async def test_use_is_recorded_behind(client, pool):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], abilities=("read",))
    assert (await client.get("/api/users/me", headers=bearer(token))).status == 200
    await client.app[token_cache_key].flush()
    used = await pool.fetchval("select last_used_at from personal_access_tokens where id = $1", token.record["id"])
    assert used is not None and datetime.now(UTC) - used < timedelta(seconds=30)
