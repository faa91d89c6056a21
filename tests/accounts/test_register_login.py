"""003 at /api: register, login, logout, GET /api/user, and their throttles."""

from __future__ import annotations

import uuid

import pytest

from gateway.app import create_app
from gateway.kernel.keys import accounts_key, pool_key
from tests.accounts.account_helpers import (
    BROWSER_ACCEPT,
    JSON,
    assert_err,
    assert_no_password,
    assert_ok,
    auth,
    login,
    register,
    register_body,
)
from tests.builders import DEFAULT_PASSWORD, bearer, make_token, make_user, sha256_hex, unique_email
from tests.clock import FakeClock

VALIDATION_FAILED = "Validation failed"


# -- register ---------------------------------------------------------------------------------


async def test_register_creates_the_account_and_a_working_token(client):
    body = register_body(last_name="Lovelace")
    resp = await client.post("/api/auth/register", json=body)
    assert resp.status == 201
    data = assert_ok(await resp.json(), 201, "Registered")
    user, token = data["user"], data["token"]
    assert {k: user[k] for k in ("username", "first_name", "last_name", "email")} == {
        k: body[k] for k in ("username", "first_name", "last_name", "email")
    }
    assert user["avatar"] is None and user["email_verified_at"] is None
    assert isinstance(user["id"], int) and user["created_at"].endswith("Z")
    assert_no_password(user)

    token_id, _, secret = token.partition("|")
    assert token_id.isdigit() and len(secret) >= 40
    async with client.app[pool_key].acquire() as conn:
        row = await conn.fetchrow("select name, kind, user_id from personal_access_tokens where id = $1", int(token_id))
    assert dict(row) == {"name": "auth_token", "kind": "login", "user_id": user["id"]}

    me = await client.get("/api/user", headers=auth(token))
    assert me.status == 200
    assert assert_ok(await me.json(), 200, "User profile")["id"] == user["id"]


async def test_register_last_name_is_optional(client):
    body = register_body()
    del body["last_name"]
    resp = await client.post("/api/auth/register", json=body)
    assert resp.status == 201
    assert (await resp.json())["data"]["user"]["last_name"] is None


async def test_register_accepts_upper_case_hex_and_login_with_lower_case(client):
    hexed = sha256_hex("Upper-Case-Hex-1")
    body = register_body(password_hash=hexed.upper(), password_hash_confirmation=hexed.upper())
    assert (await client.post("/api/auth/register", json=body)).status == 201
    resp = await client.post("/api/auth/login", json={"email": body["email"], "password_hash": hexed})
    assert resp.status == 200


async def test_register_requires_the_documented_fields(client):
    resp = await client.post("/api/auth/register", json={})
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, VALIDATION_FAILED)
    assert set(errors) == {"username", "first_name", "email", "password_hash", "password_hash_confirmation"}
    assert errors["email"] == ["The email field is required."]
    assert errors["first_name"] == ["The first name field is required."]


@pytest.mark.parametrize(
    "bad",
    ["abc", "g" * 64, "a" * 65, "a" * 100_000, 12345, None, ""],
    ids=["short", "not-hex", "65-chars", "over-long", "number", "null", "empty"],
)
async def test_register_refuses_a_malformed_password_hash(client, bad):
    resp = await client.post(
        "/api/auth/register", json=register_body(password_hash=bad, password_hash_confirmation=bad)
    )
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, VALIDATION_FAILED)
    assert "password_hash" in errors


async def test_register_refuses_a_mismatched_confirmation(client):
    resp = await client.post(
        "/api/auth/register", json=register_body(password_hash_confirmation=sha256_hex("something else"))
    )
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, VALIDATION_FAILED)
    assert errors == {"password_hash": ["The password hash confirmation does not match."]}


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.test", "a b@c.test", "x" * 250 + "@e.test"])
async def test_register_refuses_an_invalid_email(client, email):
    resp = await client.post("/api/auth/register", json=register_body(email=email))
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, VALIDATION_FAILED)
    assert list(errors) == ["email"]


async def test_register_refuses_over_long_names(client):
    resp = await client.post("/api/auth/register", json=register_body(username="u" * 256, first_name="f" * 256))
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, VALIDATION_FAILED)
    assert errors["username"] == ["The username may not be greater than 255 characters."]
    assert "first_name" in errors


async def test_register_refuses_a_taken_email_and_username_together(client):
    first = await register(client)
    user = first["user"]
    resp = await client.post(
        "/api/auth/register",
        json=register_body(email=user["email"].upper(), username=user["username"].upper()),
    )
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, VALIDATION_FAILED)
    assert errors == {
        "username": ["The username has already been taken."],
        "email": ["The email has already been taken."],
    }


async def test_register_refuses_an_email_taken_through_another_contract(client):
    existing = await make_user(client.app)
    resp = await client.post("/api/auth/register", json=register_body(email=existing["email"]))
    assert resp.status == 422
    assert list(assert_err(await resp.json(), 422, VALIDATION_FAILED)) == ["email"]


async def test_register_refuses_a_body_that_is_not_an_object(client):
    resp = await client.post("/api/auth/register", json=["not", "an", "object"])
    assert resp.status == 422
    assert_err(await resp.json(), 422, VALIDATION_FAILED)


# -- login ------------------------------------------------------------------------------------


async def test_login_returns_the_user_and_a_new_token(client):
    reg = await register(client)
    resp = await login(client, reg["user"]["email"].upper())
    assert resp.status == 200
    data = assert_ok(await resp.json(), 200, "Logged in")
    assert data["user"]["id"] == reg["user"]["id"]
    assert_no_password(data["user"])
    assert data["token"] != reg["token"]
    assert (await client.get("/api/user", headers=auth(data["token"]))).status == 200


async def test_login_works_for_an_account_made_by_another_contract(client):
    user = await make_user(client.app)
    resp = await login(client, user["email"], DEFAULT_PASSWORD)
    assert resp.status == 200


async def test_login_refuses_a_wrong_password_and_an_unknown_email_alike(client):
    reg = await register(client)
    for email, password in ((reg["user"]["email"], "wrong password"), (unique_email("nobody"), DEFAULT_PASSWORD)):
        resp = await login(client, email, password)
        assert resp.status == 401
        assert assert_err(await resp.json(), 401, "Invalid credentials") is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "email"),
        ({"email": "someone@example.test"}, "password_hash"),
        ({"email": "someone@example.test", "password_hash": "x" * 5000}, "password_hash"),
        ({"email": "someone@example.test", "password_hash": "plain password"}, "password_hash"),
        ({"email": "not an email", "password_hash": "a" * 64}, "email"),
    ],
)
async def test_login_validation_failures(client, body, field):
    resp = await client.post("/api/auth/login", json=body)
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, VALIDATION_FAILED)
    assert field in errors


async def test_login_malformed_json_is_a_400(client):
    resp = await client.post("/api/auth/login", data=b"{nope", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["success"] is False


# -- GET /api/user ----------------------------------------------------------------------------


async def test_profile_needs_a_token(client):
    resp = await client.get("/api/user", headers=JSON)
    assert resp.status == 401
    assert_err(await resp.json(), 401, "Unauthenticated.")
    resp = await client.get("/api/user", headers=auth("123|not-a-real-secret"))
    assert resp.status == 401


# -- logout -----------------------------------------------------------------------------------


async def test_logout_revokes_the_bearer_token_and_expires_the_cookie(client):
    reg = await register(client)
    other = (await (await login(client, reg["user"]["email"])).json())["data"]["token"]
    resp = await client.post("/api/auth/logout", headers=auth(reg["token"]))
    assert resp.status == 200
    assert assert_ok(await resp.json(), 200, "Logged out") is None
    cookie = resp.cookies.get("api_token")
    assert cookie is not None and cookie.value == "" and cookie["max-age"] == "0"
    assert (await client.get("/api/user", headers=auth(reg["token"]))).status == 401
    # only the token that logged out
    assert (await client.get("/api/user", headers=auth(other))).status == 200


async def test_logout_is_public(client):
    resp = await client.post("/api/auth/logout", headers=JSON)
    assert resp.status == 200
    assert_ok(await resp.json(), 200, "Logged out")
    resp = await client.post("/api/auth/logout", headers=auth("999999|no-such-token"))
    assert resp.status == 200


async def test_logout_revokes_the_api_token_cookie(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], kind="oauth")
    resp = await client.post("/api/auth/logout", headers=JSON, cookies={"api_token": token.plain_text})
    assert resp.status == 200
    assert (await client.get("/api/user", headers=bearer(token))).status == 401


async def test_logout_from_a_browser_redirects_to_the_spa(client, settings):
    reg = await register(client)
    resp = await client.post(
        "/api/auth/logout",
        headers={"Accept": BROWSER_ACCEPT},
        cookies={"api_token": reg["token"]},
        allow_redirects=False,
    )
    assert resp.status == 302
    assert resp.headers["Location"] == f"{settings.frontend_url.rstrip('/')}/auth/logout"
    assert resp.cookies["api_token"]["max-age"] == "0"
    assert (await client.get("/api/user", headers=auth(reg["token"]))).status == 401


async def test_logout_with_a_jwt_answers_without_revoking_anything(client):
    user = await make_user(client.app)
    jwt = client.app[accounts_key].issue_jwt(user)
    resp = await client.post("/api/auth/logout", headers=auth(jwt))
    assert resp.status == 200


# -- throttles --------------------------------------------------------------------------------


def _assert_throttled(resp, body, limit: int) -> None:
    assert resp.status == 429
    assert_err(body, 429, "Too Many Attempts.")
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["X-RateLimit-Limit"] == str(limit)
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in resp.headers


async def _throttled_app(aiohttp_client, settings, **limits):
    """Counts of its own (every test calls from 127.0.0.1), in one window of a fake clock: the
    429 comes exactly after the limit's count."""
    isolated = settings.model_copy(update={"redis_prefix": f"t-{uuid.uuid4().hex[:8]}", **limits})
    return await aiohttp_client(create_app(isolated, clock=FakeClock()))


async def _statuses(send, attempts: int) -> tuple[list[int], object]:
    responses = [await send() for _ in range(attempts)]
    for resp in responses[:-1]:
        assert "X-RateLimit-Limit" in resp.headers
    return [r.status for r in responses], responses[-1]


async def test_register_is_throttled(aiohttp_client, settings, ray_session):
    app = await _throttled_app(aiohttp_client, settings, throttle_register_per_hour=2)
    statuses, resp = await _statuses(lambda: app.post("/api/auth/register", json=register_body()), 3)
    assert statuses == [201, 201, 429]
    _assert_throttled(resp, await resp.json(), 2)


async def test_login_is_throttled_per_account(aiohttp_client, settings, ray_session):
    app = await _throttled_app(aiohttp_client, settings, throttle_auth_per_minute=3)
    email = unique_email("throttled")
    statuses, resp = await _statuses(lambda: login(app, email, "wrong"), 4)
    assert statuses == [401, 401, 401, 429]
    _assert_throttled(resp, await resp.json(), 3)
