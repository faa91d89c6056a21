"""000's GPT auth bridge: /api/gpt-auth/{register,telegram-link,confirm,exchange,revoke}."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.tokens import sha256_hex
from tests.builders import bearer, make_token, unique_email
from tests.pethealth.gpt_helpers import (
    CONNECTOR_URL,
    NINE,
    connector_auth,
    connector_client,
    new_session,
    sig,
)
from tests.web.session_helpers import SESSION_COOKIE, XSRF_COOKIE, forget_cookies, signed_in_user

ERROR_KEYS = {"success", "status", "data", "message", "error", "errors", "code", "timestamp"}
STRONG = "Strong-Passw0rd"


@pytest.fixture
async def gpt(aiohttp_client, settings, ray_session):
    return await connector_client(aiohttp_client, settings)


async def _confirm(client, signed, session: dict[str, str]):
    return await client.post("/api/gpt-auth/confirm", json=session, cookies=signed.cookies, headers=signed.headers)


async def _code_for(client, signed, session: dict[str, str]) -> str:
    resp = await _confirm(client, signed, session)
    assert resp.status == 200, await resp.text()
    url = (await resp.json())["data"]["redirect_url"]
    return parse_qs(urlsplit(url).query)["code"][0]


async def _exchange(client, code: str, key_headers=None):
    return await client.post("/api/gpt-auth/exchange", json={"code": code}, headers=key_headers or connector_auth())


async def _gpt_token_count(pool, user_id: int) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "select count(*) from personal_access_tokens where user_id = $1 and kind = 'gpt'", user_id
        )


# -- confirm + exchange --------------------------------------------------------------------------


async def test_confirm_then_exchange_mints_a_nine_ability_token(gpt, pool):
    signed = await signed_in_user(gpt, name="Linh")
    session = new_session()
    resp = await _confirm(gpt, signed, session)
    assert resp.status == 200
    body = await resp.json()
    assert body["success"] is True
    url = urlsplit(body["data"]["redirect_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{CONNECTOR_URL}/oauth/callback"
    query = parse_qs(url.query)
    assert query["session_id"] == [session["session_id"]]
    code = query["code"][0]
    # nothing is minted until the connector exchanges the code
    assert await _gpt_token_count(pool, signed.user["id"]) == 0

    resp = await _exchange(gpt, code)
    assert resp.status == 200
    data = (await resp.json())["data"]
    assert data["user_id"] == signed.user["id"]
    token = data["sanctum_token"]
    token_id, _, secret = token.partition("|")
    async with pool.acquire() as conn:
        row = await conn.fetchrow("select * from personal_access_tokens where id = $1", int(token_id))
    assert row["name"] == "gpt-connector" and row["kind"] == "gpt"
    assert row["abilities"] == NINE
    assert row["token_hash"] == sha256_hex(secret)

    forget_cookies(gpt)
    me = await gpt.get("/api/users/me", headers=bearer(token))
    assert me.status == 200
    assert (await me.json())["data"]["id"] == signed.user["id"]


async def test_code_works_once(gpt):
    signed = await signed_in_user(gpt)
    code = await _code_for(gpt, signed, new_session())
    forget_cookies(gpt)
    assert (await _exchange(gpt, code)).status == 200
    again = await _exchange(gpt, code)
    assert again.status == 400
    body = await again.json()
    assert set(body) == ERROR_KEYS and body["message"] == "Invalid or expired authorization code."


async def test_unknown_code_and_missing_code(gpt):
    assert (await _exchange(gpt, "not-a-code")).status == 400
    resp = await gpt.post("/api/gpt-auth/exchange", json={}, headers=connector_auth())
    assert resp.status == 422
    assert "code" in (await resp.json())["errors"]


async def test_code_lives_five_minutes_in_redis_without_secrets(gpt, redis_client, settings):
    signed = await signed_in_user(gpt)
    code = await _code_for(gpt, signed, new_session())
    key = f"{settings.redis_prefix}:gpt:code:{sha256_hex(code)}"
    ttl = await redis_client.ttl(key)
    assert 0 < ttl <= 300
    value = await redis_client.get(key)
    assert code.encode() not in value


async def test_reused_session_is_400(gpt):
    signed = await signed_in_user(gpt)
    session = new_session()
    assert (await _confirm(gpt, signed, session)).status == 200
    again = await _confirm(gpt, signed, session)
    assert again.status == 400
    assert (await again.json())["message"] == "This GPT connect session has already been used."
    # another person cannot take a used session either
    other = await signed_in_user(gpt)
    assert (await _confirm(gpt, other, session)).status == 400


async def test_bad_signature_is_400_and_consumes_nothing(gpt):
    signed = await signed_in_user(gpt)
    session = new_session()
    for bad in ("0" * 64, sig(session["session_id"], "other-secret"), "", "ünïcode"):
        resp = await _confirm(gpt, signed, {"session_id": session["session_id"], "session_sig": bad})
        assert resp.status == 400
        assert (await resp.json())["message"] == "Invalid or expired GPT connect session."
    missing = await _confirm(gpt, signed, {})
    assert missing.status == 400
    assert (await _confirm(gpt, signed, session)).status == 200


async def test_connector_url_unset_is_500_without_side_effects(aiohttp_client, settings, ray_session, gpt, pool):
    broken = await connector_client(aiohttp_client, settings, gpt_connector_url=None)
    signed = await signed_in_user(broken)
    session = new_session()
    resp = await _confirm(broken, signed, session)
    assert resp.status == 500
    body = await resp.json()
    assert set(body) == ERROR_KEYS and body["message"] == "GPT connector is not configured."
    assert await _gpt_token_count(pool, signed.user["id"]) == 0
    # the session was not consumed: the same one confirms on a configured gateway (same Redis)
    assert (await _confirm(gpt, signed, session)).status == 200


async def test_confirm_needs_a_browser_session(gpt):
    anonymous = await gpt.post("/api/gpt-auth/confirm", json=new_session())
    assert anonymous.status == 401
    signed = await signed_in_user(gpt)
    token = await make_token(gpt.app, signed.user["id"])
    with_token = await gpt.post("/api/gpt-auth/confirm", json=new_session(), headers=bearer(token))
    assert with_token.status == 403
    no_xsrf = await gpt.post("/api/gpt-auth/confirm", json=new_session(), cookies=signed.cookies)
    assert no_xsrf.status == 403


# -- connector key -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/gpt-auth/exchange", "/api/gpt-auth/revoke"])
async def test_wrong_connector_key_is_401(gpt, path):
    for headers in (connector_auth("wrong-key"), {}, {"Authorization": "Basic abc"}, connector_auth("ключ")):
        resp = await gpt.post(path, json={"code": "x", "token": "x"}, headers=headers)
        assert resp.status == 401
        body = await resp.json()
        assert set(body) == ERROR_KEYS and body["message"] == "Unauthorized."


@pytest.mark.parametrize("path", ["/api/gpt-auth/exchange", "/api/gpt-auth/revoke"])
async def test_no_connector_key_configured_is_503(aiohttp_client, settings, ray_session, path, caplog):
    unkeyed = await connector_client(aiohttp_client, settings, gpt_connector_api_key=None)
    resp = await unkeyed.post(path, json={"code": "x", "token": "x"}, headers=connector_auth())
    assert resp.status == 503
    body = await resp.json()
    assert set(body) == ERROR_KEYS and body["message"] == "GPT connector is not configured."
    assert any("GPT_CONNECTOR_API_KEY" in r.getMessage() for r in caplog.records)


# -- revoke --------------------------------------------------------------------------------------


async def test_revoke_is_idempotent(gpt):
    signed = await signed_in_user(gpt)
    code = await _code_for(gpt, signed, new_session())
    forget_cookies(gpt)
    token = (await (await _exchange(gpt, code)).json())["data"]["sanctum_token"]
    assert (await gpt.get("/api/users/me", headers=bearer(token))).status == 200

    for _ in range(2):
        resp = await gpt.post("/api/gpt-auth/revoke", json={"token": token}, headers=connector_auth())
        assert resp.status == 200
        assert (await resp.json())["data"] == {"revoked": True}
    assert (await gpt.get("/api/users/me", headers=bearer(token))).status == 401
    unknown = await gpt.post("/api/gpt-auth/revoke", json={"token": "12|nope"}, headers=connector_auth())
    assert unknown.status == 200 and (await unknown.json())["data"] == {"revoked": True}
    missing = await gpt.post("/api/gpt-auth/revoke", json={}, headers=connector_auth())
    assert missing.status == 422


async def test_revoke_leaves_other_kinds_of_token_alone(gpt):
    signed = await signed_in_user(gpt)
    own = await make_token(gpt.app, signed.user["id"], abilities=("read",))
    forget_cookies(gpt)
    resp = await gpt.post("/api/gpt-auth/revoke", json={"token": own.plain_text}, headers=connector_auth())
    assert resp.status == 200
    assert (await gpt.get("/api/users/me", headers=bearer(own))).status == 200


# -- register ------------------------------------------------------------------------------------


def _registration(session: dict[str, str], **fields: str) -> dict[str, str]:
    body = {"name": "Gia Bao", "email": unique_email("gpt"), "password": STRONG, "password_confirmation": STRONG}
    body.update(session)
    body.update(fields)
    return body


async def test_register_keeps_unverified_and_mails_then_can_confirm(gpt, pool):
    session = new_session()
    body = _registration(session)
    resp = await gpt.post("/api/gpt-auth/register", json=body)
    assert resp.status == 201
    data = (await resp.json())["data"]
    assert data["requires_verification"] is True and data["email_verified"] is False
    assert data["email_sent"] is True and data["message"]
    assert data["user"]["email"] == body["email"] and data["user"]["name"] == "Gia Bao"
    assert data["user"]["email_verified_at"] is None
    async with pool.acquire() as conn:
        user = await conn.fetchrow("select * from users where id = $1", data["user"]["id"])
        tokens = await conn.fetchval("select count(*) from email_verification_tokens where user_id = $1", user["id"])
        mails = await conn.fetchval(
            "select count(*) from jobs where kind = 'mail.send' and payload->>'to' = $1", body["email"]
        )
    assert user["email_verified_at"] is None and user["source"] == "gpt"
    assert tokens == 1 and mails == 1

    # the registration signed the person in: the cookies confirm the same session
    cookies = {SESSION_COOKIE: resp.cookies[SESSION_COOKIE].value, XSRF_COOKIE: resp.cookies[XSRF_COOKIE].value}
    forget_cookies(gpt)
    confirm = await gpt.post(
        "/api/gpt-auth/confirm", json=session, cookies=cookies, headers={"X-XSRF-TOKEN": cookies[XSRF_COOKIE]}
    )
    assert confirm.status == 200
    # and the password works for a later sign-in
    assert (await gpt.post("/login", json={"email": body["email"], "password": STRONG})).status == 200


async def test_register_without_verification_marks_verified(aiohttp_client, settings, ray_session, pool):
    client = await connector_client(aiohttp_client, settings, email_verification_required=False)
    body = _registration(new_session())
    resp = await client.post("/api/gpt-auth/register", json=body)
    assert resp.status == 201
    data = (await resp.json())["data"]
    assert data["requires_verification"] is False and data["email_verified"] is True
    assert data["email_sent"] is False and data["user"]["email_verified_at"] is not None
    async with pool.acquire() as conn:
        tokens = await conn.fetchval(
            "select count(*) from email_verification_tokens where user_id = $1", data["user"]["id"]
        )
    assert tokens == 0


async def test_one_registration_per_session(gpt):
    session = new_session()
    assert (await gpt.post("/api/gpt-auth/register", json=_registration(session))).status == 201
    forget_cookies(gpt)
    again = await gpt.post("/api/gpt-auth/register", json=_registration(session))
    assert again.status == 400
    assert (await again.json())["message"] == "This GPT connect session has already been used."


@pytest.mark.parametrize(
    ("password", "confirmation", "expected"),
    [
        ("Short1a", "Short1a", "The password field must be at least 10 characters."),
        (
            "alllowercase1",
            "alllowercase1",
            "The password field must contain at least one uppercase and one lowercase letter.",
        ),
        ("NoDigitsHere", "NoDigitsHere", "The password field must contain at least one number."),
        (STRONG, STRONG + "x", "The password field confirmation does not match."),
    ],
)
async def test_weak_or_unconfirmed_password_is_422(gpt, password, confirmation, expected):
    session = new_session()
    body = _registration(session, password=password, password_confirmation=confirmation)
    resp = await gpt.post("/api/gpt-auth/register", json=body)
    assert resp.status == 422
    errors = (await resp.json())["errors"]
    assert expected in errors["password"]
    # a refused form does not use the session up
    forget_cookies(gpt)
    assert (await gpt.post("/api/gpt-auth/register", json=_registration(session))).status == 201


async def test_register_validation_and_signature(gpt):
    resp = await gpt.post("/api/gpt-auth/register", json=_registration(new_session(), email="nope", name=""))
    assert resp.status == 422
    errors = (await resp.json())["errors"]
    assert set(errors) >= {"email", "name"}
    bad = _registration(new_session())
    bad["session_sig"] = "0" * 64
    assert (await gpt.post("/api/gpt-auth/register", json=bad)).status == 400


async def test_register_taken_email_is_422_and_keeps_the_session(gpt):
    session = new_session()
    first = _registration(new_session())
    assert (await gpt.post("/api/gpt-auth/register", json=first)).status == 201
    forget_cookies(gpt)
    resp = await gpt.post("/api/gpt-auth/register", json=_registration(session, email=first["email"]))
    assert resp.status == 422
    assert "email" in (await resp.json())["errors"]
    assert (await gpt.post("/api/gpt-auth/register", json=_registration(session))).status == 201


async def test_register_is_throttled(aiohttp_client, settings, ray_session):
    client = await connector_client(aiohttp_client, settings, throttle_register_per_hour=1,
                                    redis_prefix=f"{settings.redis_prefix}-thr")
    assert (await client.post("/api/gpt-auth/register", json=_registration(new_session()))).status == 201
    forget_cookies(client)
    resp = await client.post("/api/gpt-auth/register", json=_registration(new_session()))
    assert resp.status == 429
    assert "Retry-After" in resp.headers


# -- telegram-link -------------------------------------------------------------------------------


async def test_telegram_link_token(gpt, redis_client, settings):
    session = new_session()
    resp = await gpt.post("/api/gpt-auth/telegram-link", json=session)
    assert resp.status == 200
    token = (await resp.json())["data"]["telegram_login_token"]
    assert re.fullmatch(r"[a-z0-9]{20}", token)
    ttl = await redis_client.ttl(f"{settings.redis_prefix}:gpt:telegram:{sha256_hex(token)}")
    assert 1700 < ttl <= 1800
    bad = await gpt.post("/api/gpt-auth/telegram-link", json={**session, "session_sig": "f" * 64})
    assert bad.status == 400


async def test_hmac_secret_unset_is_500(aiohttp_client, settings, ray_session):
    client = await connector_client(aiohttp_client, settings, gpt_connector_hmac_secret="")
    resp = await client.post("/api/gpt-auth/telegram-link", json=new_session())
    assert resp.status == 500
    assert (await resp.json())["message"] == "GPT connector is not configured."
