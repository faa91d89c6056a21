"""The one authentication middleware: every credential form, and the guards built on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from domain.tokens import issue_jwt, sha256_hex
from gateway.app import create_app
from gateway.kernel.auth.guards import require_abilities, require_session, require_user
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.contracts import Contract
from gateway.kernel.keys import accounts_key, pool_key, sessions_key, token_cache_key
from tests.builders import bearer, make_token, make_user
from tests.waiting import eventually


async def whoami(request: web.Request) -> web.Response:
    ident = identity_of(request)
    return web.json_response(
        {"user_id": ident.user_id, "mode": ident.mode, "via": ident.via, "abilities": ident.abilities}
    )


async def needs_user(request: web.Request) -> web.Response:
    return web.json_response({"user_id": require_user(request).user_id})


async def needs_read(request: web.Request) -> web.Response:
    require_abilities(request, "read", "pet:read")
    return web.json_response({"ok": True})


async def needs_session(request: web.Request) -> web.Response:
    require_session(request)
    return web.json_response({"ok": True})


@pytest.fixture
async def client(aiohttp_client, settings, ray_session):
    def add_routes(contract: Contract, app: web.Application) -> None:
        if contract is Contract.API:
            app.router.add_get("/_t/whoami", whoami)
            app.router.add_get("/_t/user", needs_user)
            app.router.add_get("/_t/read", needs_read)
            app.router.add_post("/_t/session", needs_session)
            app.router.add_get("/_t/session", needs_session)

    return await aiohttp_client(create_app(settings, add_routes=add_routes))


async def test_anonymous(client):
    body = await (await client.get("/api/_t/whoami")).json()
    assert body == {"user_id": None, "mode": "none", "via": None, "abilities": None}
    resp = await client.get("/api/_t/user")
    assert resp.status == 401
    assert (await resp.json())["message"] == "Unauthenticated."


async def test_pat_with_and_without_id_prefix(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], abilities=("read",))
    for value in (token.plain_text, token.secret):
        body = await (await client.get("/api/_t/whoami", headers=bearer(value))).json()
        assert body == {"user_id": user["id"], "mode": "pat", "via": "bearer", "abilities": ["read"]}


async def test_pat_with_wrong_id_prefix_or_unknown_secret_is_anonymous(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    wrong_id = f"{token.record['id'] + 1000}|{token.secret}"
    for value in (wrong_id, "nonsense-secret", f"{token.record['id']}|nonsense"):
        resp = await client.get("/api/_t/user", headers=bearer(value))
        assert resp.status == 401


async def test_expired_pat_and_inactive_user_are_refused(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    assert (await client.get("/api/_t/user", headers=bearer(token))).status == 200
    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update personal_access_tokens set expires_at = $2 where id = $1",
            token.record["id"],
            datetime.now(UTC) - timedelta(seconds=1),
        )
    # the row changed behind the cache's back; tell the gateways as a real change would
    await client.app[accounts_key].token_abilities_changed(sha256_hex(token.secret))
    assert (await client.get("/api/_t/user", headers=bearer(token))).status == 401

    other = await make_user(client.app)
    other_token = await make_token(client.app, other["id"])
    await client.app[accounts_key].update_user(other["id"], {"is_active": False})
    assert (await client.get("/api/_t/user", headers=bearer(other_token))).status == 401


async def test_api_token_cookie_authenticates(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    body = await (await client.get("/api/_t/whoami", cookies={"api_token": token.plain_text})).json()
    assert body["user_id"] == user["id"] and body["via"] == "cookie" and body["mode"] == "pat"


async def test_jwt_works_until_the_epoch_moves(client, settings):
    user = await make_user(client.app)
    token = client.app[accounts_key].issue_jwt(user)
    body = await (await client.get("/api/_t/whoami", headers=bearer(token))).json()
    assert body == {"user_id": user["id"], "mode": "pat", "via": "jwt", "abilities": None}
    # a password change voids every JWT issued before it
    await client.app[accounts_key].set_password(user["id"], "b" * 64)
    assert (await client.get("/api/_t/user", headers=bearer(token))).status == 401
    # a JWT for a user that does not exist, or signed with another key
    ghost = issue_jwt(settings.app_key, 10**12, 0, 60)
    assert (await client.get("/api/_t/user", headers=bearer(ghost))).status == 401
    forged = issue_jwt("x" * 40, user["id"], 1, 60)
    assert (await client.get("/api/_t/user", headers=bearer(forged))).status == 401


async def test_abilities(client):
    user = await make_user(client.app)
    reader = await make_token(client.app, user["id"], abilities=("pet:read",))
    star = await make_token(client.app, user["id"], abilities=("*",))
    writer = await make_token(client.app, user["id"], abilities=("create", "update"))
    assert (await client.get("/api/_t/read", headers=bearer(reader))).status == 200
    assert (await client.get("/api/_t/read", headers=bearer(star))).status == 200
    resp = await client.get("/api/_t/read", headers=bearer(writer))
    assert resp.status == 403
    assert (await resp.json())["message"] == "This personal access token does not have the required read ability."


async def sign_in(client, user_id: int) -> tuple[dict, dict]:
    session = await client.app[sessions_key].create(user_id)
    cookies = {"roost_session": session.session_id, "XSRF-TOKEN": session.xsrf}
    return cookies, {"X-XSRF-TOKEN": session.xsrf}


async def test_session_skips_abilities_and_needs_xsrf_to_change_state(client):
    user = await make_user(client.app)
    cookies, xsrf = await sign_in(client, user["id"])
    assert (await client.get("/api/_t/read", cookies=cookies)).status == 200
    assert (await client.get("/api/_t/session", cookies=cookies)).status == 200
    missing = await client.post("/api/_t/session", cookies=cookies)
    assert missing.status == 403
    assert (await missing.json())["message"] == "CSRF token mismatch."
    wrong = await client.post("/api/_t/session", cookies=cookies, headers={"X-XSRF-TOKEN": "nope"})
    assert wrong.status == 403
    assert (await client.post("/api/_t/session", cookies=cookies, headers=xsrf)).status == 200


async def test_session_only_route_refuses_tokens(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], abilities=("*",))
    resp = await client.get("/api/_t/session", headers=bearer(token))
    assert resp.status == 403


async def test_destroyed_session_no_longer_authenticates(client):
    user = await make_user(client.app)
    cookies, _ = await sign_in(client, user["id"])
    await client.app[sessions_key].destroy(cookies["roost_session"])
    assert (await client.get("/api/_t/user", cookies=cookies)).status == 401


async def test_revocation_reaches_another_gateway_at_once(aiohttp_client, client, settings):
    """Two gateways, one Redis: B has the token cached, A revokes it, B refuses it."""
    def add_routes(contract: Contract, app: web.Application) -> None:
        if contract is Contract.API:
            app.router.add_get("/_t/user", needs_user)

    other = await aiohttp_client(create_app(settings, add_routes=add_routes))
    await other.app[token_cache_key].wait_subscribed()
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    assert (await other.get("/api/_t/user", headers=bearer(token))).status == 200  # now cached in B
    assert await client.app[accounts_key].revoke_token(user["id"], token.record["id"])

    async def refused() -> bool:
        return (await other.get("/api/_t/user", headers=bearer(token))).status == 401

    await eventually(refused, timeout=2, interval=0.01, what="the other gateway refusing a revoked token")


async def test_last_used_at_is_written_behind(client, pool):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    await client.get("/api/_t/user", headers=bearer(token))
    last_used = "select last_used_at from personal_access_tokens where id = $1"
    assert await pool.fetchval(last_used, token.record["id"]) is None
    await client.app[token_cache_key].flush()
    assert await pool.fetchval(last_used, token.record["id"]) is not None
