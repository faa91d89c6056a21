"""000: session-only token management, /api/user/api-tokens, and what the tokens it makes can do."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from gateway.app import create_app
from gateway.kernel.keys import pool_key, token_cache_key
from tests.builders import bearer, make_token, make_user
from tests.waiting import eventually
from tests.web.session_helpers import SignedIn, forget_cookies, signed_in_user

API = "/api/user/api-tokens"
AVAILABLE = [
    "pet:read", "pet:write", "health:read", "health:write", "profile:read", "create", "read", "update", "delete",
]
TOKEN_KEYS = {"id", "name", "abilities", "created_at", "last_used_at", "last_used_ago"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def create(client, signed: SignedIn, body: dict) -> tuple[int, dict]:
    resp = await client.post(API, json=body, cookies=signed.cookies, headers=signed.headers)
    return resp.status, await resp.json()


async def tokens_of(client, signed: SignedIn) -> list[dict]:
    resp = await client.get(API, cookies=signed.cookies)
    assert resp.status == 200
    return (await resp.json())["data"]["tokens"]


# -- who may call ------------------------------------------------------------------------------


async def test_anonymous_is_401(client):
    forget_cookies(client)
    resp = await client.get(API)
    assert resp.status == 401 and (await resp.json())["message"] == "Unauthenticated."
    assert (await client.post(API, json={"name": "x"})).status == 401
    assert (await client.put(f"{API}/1", json={"permissions": []})).status == 401
    assert (await client.delete(f"{API}/1")).status == 401


@pytest.mark.parametrize("abilities", [("*",), tuple(AVAILABLE)])
async def test_any_personal_access_token_is_refused(client, abilities):
    signed = await signed_in_user(client)
    token = await make_token(client.app, signed.user["id"], abilities=abilities)
    tid = token.record["id"]
    for value in (token.plain_text, token.secret):
        calls = [
            client.get(API, headers=bearer(value)),
            client.post(API, json={"name": "minted-by-a-token"}, headers=bearer(value)),
            client.put(f"{API}/{tid}", json={"permissions": ["*"]}, headers=bearer(value)),
            client.delete(f"{API}/{tid}", headers=bearer(value)),
        ]
        for call in calls:
            resp = await call
            assert resp.status == 403
            body = await resp.json()
            assert body["success"] is False and body["data"] is None
    # nothing happened
    names = [t["name"] for t in await tokens_of(client, signed)]
    assert "minted-by-a-token" not in names and token.record["name"] in names


async def test_the_api_token_cookie_is_a_token_too(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    resp = await client.get(API, cookies={"api_token": token.plain_text})
    assert resp.status == 403
    forget_cookies(client)


# -- list ----------------------------------------------------------------------------------------


async def test_list_shape_and_which_tokens(client):
    signed = await signed_in_user(client)
    uid = signed.user["id"]
    api = await make_token(client.app, uid, name="cli", abilities=("read", "create"))
    gpt = await make_token(client.app, uid, name="gpt-connector", kind="gpt", abilities=tuple(AVAILABLE))
    await make_token(client.app, uid, name="login", kind="login")
    other = await make_user(client.app)
    await make_token(client.app, other["id"], name="not-mine")

    resp = await client.get(API, cookies=signed.cookies)
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = await resp.json()
    assert body["success"] is True
    data = body["data"]
    assert data["default_permissions"] == ["read"]
    assert data["available_permissions"] == AVAILABLE
    by_id = {t["id"]: t for t in data["tokens"]}
    assert set(by_id) == {api.record["id"], gpt.record["id"]}
    cli = by_id[api.record["id"]]
    assert set(cli) == TOKEN_KEYS
    assert cli["name"] == "cli" and cli["abilities"] == ["read", "create"]
    assert ISO_Z.match(cli["created_at"])
    assert cli["last_used_at"] is None and cli["last_used_ago"] is None
    # newest first
    assert [t["id"] for t in data["tokens"]] == [gpt.record["id"], api.record["id"]]


async def test_last_used_is_shown_after_the_write_behind(client):
    signed = await signed_in_user(client)
    status, body = await create(client, signed, {"name": "used"})
    secret = body["data"]["plain_text_token"]
    assert (await client.get("/api/users/me", headers=bearer(secret))).status == 200
    await client.app[token_cache_key].flush()
    [token] = await tokens_of(client, signed)
    assert ISO_Z.match(token["last_used_at"])
    assert re.match(r"^\d+ seconds? ago$", token["last_used_ago"]), token["last_used_ago"]

    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update personal_access_tokens set last_used_at = $2 where id = $1",
            token["id"],
            datetime.now(UTC) - timedelta(minutes=3, seconds=5),
        )
    [token] = await tokens_of(client, signed)
    assert token["last_used_ago"] == "3 minutes ago"


# -- create --------------------------------------------------------------------------------------


async def test_create_defaults_to_read_and_returns_the_secret_once(client):
    signed = await signed_in_user(client)
    resp = await client.post(API, json={"name": "  my script  "}, cookies=signed.cookies, headers=signed.headers)
    assert resp.status == 201
    assert resp.headers["Cache-Control"] == "no-store"
    body = await resp.json()
    assert body["success"] is True and body["code"] == 201
    token, secret = body["data"]["token"], body["data"]["plain_text_token"]
    assert set(token) == TOKEN_KEYS
    assert token["name"] == "my script" and token["abilities"] == ["read"]
    assert token["last_used_at"] is None and token["last_used_ago"] is None
    assert "|" not in secret and len(secret) >= 40
    # never again: the list has no secret in it
    listing = await client.get(API, cookies=signed.cookies)
    assert secret not in await listing.text()

    # the token works with and without `id|`
    for value in (secret, f"{token['id']}|{secret}"):
        me = await client.get("/api/users/me", headers=bearer(value))
        assert me.status == 200 and (await me.json())["data"]["id"] == signed.user["id"]


async def test_unknown_permissions_are_dropped_in_order(client):
    signed = await signed_in_user(client)
    status, body = await create(
        client, signed, {"name": "mixed", "permissions": ["delete", "bogus", "pet:read", "*", "delete", "read"]}
    )
    assert status == 201
    assert body["data"]["token"]["abilities"] == ["delete", "pet:read", "read"]
    status, body = await create(client, signed, {"name": "none", "permissions": []})
    assert status == 201 and body["data"]["token"]["abilities"] == []
    status, body = await create(client, signed, {"name": "null", "permissions": None})
    assert status == 201 and body["data"]["token"]["abilities"] == ["read"]


async def test_create_only_token_cannot_read_the_profile(client):
    signed = await signed_in_user(client)
    _, body = await create(client, signed, {"name": "writer", "permissions": ["create"]})
    resp = await client.get("/api/users/me", headers=bearer(body["data"]["plain_text_token"]))
    assert resp.status == 403
    assert (await resp.json())["message"] == "This personal access token does not have the required read ability."


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "name", "The name field is required."),
        ({"name": "   "}, "name", "The name field is required."),
        ({"name": "x" * 256}, "name", "The name may not be greater than 255 characters."),
        ({"name": 7}, "name", "The name must be a string."),
        ({"name": "ok", "permissions": "read"}, "permissions", "The permissions must be an array."),
        ({"name": "ok", "permissions": [1]}, "permissions", "Each permission must be a string."),
    ],
)
async def test_create_validation(client, body, field, message):
    signed = await signed_in_user(client)
    status, answer = await create(client, signed, body)
    assert status == 422
    assert answer["success"] is False
    assert answer["errors"][field] == [message]
    assert await tokens_of(client, signed) == []


async def test_duplicate_name_is_422_for_the_same_user_only(client):
    signed = await signed_in_user(client)
    assert (await create(client, signed, {"name": "deploy"}))[0] == 201
    status, body = await create(client, signed, {"name": "deploy", "permissions": ["create"]})
    assert status == 422
    assert body["errors"]["name"] == ["The name has already been taken."]
    # the GPT connector's token is in the same list, so its name is taken too
    await make_token(client.app, signed.user["id"], name="gpt-connector", kind="gpt")
    assert (await create(client, signed, {"name": "gpt-connector"}))[0] == 422

    other = await signed_in_user(client)
    assert (await create(client, other, {"name": "deploy"}))[0] == 201


async def test_create_needs_json_or_form(client):
    signed = await signed_in_user(client)
    headers = {**signed.headers, "Content-Type": "application/json"}
    resp = await client.post(API, data=b"{", cookies=signed.cookies, headers=headers)
    assert resp.status == 400
    resp = await client.post(API, json=["name"], cookies=signed.cookies, headers=signed.headers)
    assert resp.status == 422


# -- update ----------------------------------------------------------------------------------------


async def test_update_filters_and_takes_effect_at_once(client):
    signed = await signed_in_user(client)
    _, body = await create(client, signed, {"name": "changing"})
    token_id, secret = body["data"]["token"]["id"], body["data"]["plain_text_token"]
    assert (await client.get("/api/users/me", headers=bearer(secret))).status == 200  # cached now

    body = {"permissions": ["create", "nope", "update"]}
    resp = await client.put(f"{API}/{token_id}", json=body, cookies=signed.cookies, headers=signed.headers)
    assert resp.status == 200
    answer = await resp.json()
    assert answer["success"] is True
    assert set(answer["data"]["token"]) == TOKEN_KEYS
    assert answer["data"]["token"]["id"] == token_id and answer["data"]["token"]["abilities"] == ["create", "update"]
    assert (await client.get("/api/users/me", headers=bearer(secret))).status == 403
    [listed] = await tokens_of(client, signed)
    assert listed["abilities"] == ["create", "update"]


async def test_update_failures(client):
    signed = await signed_in_user(client)
    _, body = await create(client, signed, {"name": "mine"})
    token_id = body["data"]["token"]["id"]
    other = await make_user(client.app)
    theirs = await make_token(client.app, other["id"])
    login = await make_token(client.app, signed.user["id"], kind="login")

    async def put(path: str, json: dict) -> tuple[int, dict]:
        resp = await client.put(f"{API}/{path}", json=json, cookies=signed.cookies, headers=signed.headers)
        return resp.status, await resp.json()

    ok = {"permissions": ["read"]}
    for path in (str(token_id + 100_000), str(theirs.record["id"]), str(login.record["id"]), "abc", "1.5", "9" * 40):
        status, answer = await put(path, ok)
        assert status == 404, path
        assert answer["message"] == "Resource not found."
    status, answer = await put(str(token_id), {})
    assert status == 422 and answer["errors"]["permissions"] == ["The permissions field is required."]
    status, answer = await put(str(token_id), {"permissions": "read"})
    assert status == 422
    # the other user's token was not touched
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval(
            "select abilities from personal_access_tokens where id = $1", theirs.record["id"]
        ) == ["*"]


# -- revoke ----------------------------------------------------------------------------------------


async def test_revoke_is_immediate(client):
    signed = await signed_in_user(client)
    _, body = await create(client, signed, {"name": "doomed"})
    token_id, secret = body["data"]["token"]["id"], body["data"]["plain_text_token"]
    assert (await client.get("/api/users/me", headers=bearer(secret))).status == 200

    resp = await client.delete(f"{API}/{token_id}", cookies=signed.cookies, headers=signed.headers)
    assert resp.status == 200
    answer = await resp.json()
    assert answer["success"] is True and answer["data"] == {"revoked": True}
    assert (await client.get("/api/users/me", headers=bearer(secret))).status == 401
    assert await tokens_of(client, signed) == []
    again = await client.delete(f"{API}/{token_id}", cookies=signed.cookies, headers=signed.headers)
    assert again.status == 404


async def test_revoke_failures(client):
    signed = await signed_in_user(client)
    other = await make_user(client.app)
    theirs = await make_token(client.app, other["id"])
    login = await make_token(client.app, signed.user["id"], kind="login")
    for path in (str(theirs.record["id"]), str(login.record["id"]), "abc", "-1", "9" * 40):
        resp = await client.delete(f"{API}/{path}", cookies=signed.cookies, headers=signed.headers)
        assert resp.status == 404, path
    assert (await client.get("/api/users/me", headers=bearer(theirs))).status == 200
    missing_xsrf = await client.delete(f"{API}/{login.record['id']}", cookies=signed.cookies)
    assert missing_xsrf.status == 403


async def test_revocation_reaches_another_replica_within_a_second(aiohttp_client, client, settings):
    """Two gateways on one Redis and one database: B has the token cached, A revokes it."""
    replica = await aiohttp_client(create_app(settings))
    await replica.app[token_cache_key].wait_subscribed()
    await client.app[token_cache_key].wait_subscribed()
    signed = await signed_in_user(client)
    _, body = await create(client, signed, {"name": "shared"})
    token_id, secret = body["data"]["token"]["id"], body["data"]["plain_text_token"]
    assert (await replica.get("/api/users/me", headers=bearer(secret))).status == 200  # cached in B

    resp = await client.delete(f"{API}/{token_id}", cookies=signed.cookies, headers=signed.headers)
    assert resp.status == 200

    async def refused() -> bool:
        return (await replica.get("/api/users/me", headers=bearer(secret))).status == 401

    await eventually(refused, timeout=1.0, interval=0.01, what="the other replica refusing a revoked token")


async def test_ability_change_reaches_another_replica(aiohttp_client, client, settings):
    replica = await aiohttp_client(create_app(settings))
    await replica.app[token_cache_key].wait_subscribed()
    signed = await signed_in_user(client)
    _, body = await create(client, signed, {"name": "narrowed"})
    token_id, secret = body["data"]["token"]["id"], body["data"]["plain_text_token"]
    assert (await replica.get("/api/users/me", headers=bearer(secret))).status == 200
    resp = await client.put(
        f"{API}/{token_id}", json={"permissions": ["create"]}, cookies=signed.cookies, headers=signed.headers
    )
    assert resp.status == 200

    async def narrowed() -> bool:
        return (await replica.get("/api/users/me", headers=bearer(secret))).status == 403

    await eventually(narrowed, timeout=1.0, interval=0.01, what="the other replica seeing the new abilities")
