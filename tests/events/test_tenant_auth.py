"""001 /tenant-auth: login, me, logout, one-time codes and their exchange."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

from domain.tenant_abilities import EVENTS_READ, TENANT_ABILITIES
from domain.tokens import sha256_hex
from gateway.app import create_app
from gateway.kernel.keys import pool_key
from tests.builders import DEFAULT_PASSWORD, bearer, make_token, make_user
from tests.event_builders import assert_error, make_tenant, make_tenant_admin
from tests.waiting import eventually

LOGIN = "/api/v1/tenant-auth/login"
ME = "/api/v1/tenant-auth/me"
LOGOUT = "/api/v1/tenant-auth/logout"
CODES = "/api/v1/tenant-auth/codes"
EXCHANGE = "/api/v1/tenant-auth/exchange"



async def token_count(client, user_id: int) -> int:
    return await client.app[pool_key].fetchval(
        "select count(*) from personal_access_tokens where user_id = $1", user_id
    )


async def admin_with_password(client, **tenant_fields):
    tenant = await make_tenant(client.app, **tenant_fields)
    user, token = await make_tenant_admin(client.app, tenant["id"])
    return tenant, user, token


# -- login ----------------------------------------------------------------------------------------


async def test_login_issues_a_tenant_token_with_every_ability(client):
    tenant, user, _ = await admin_with_password(client, package="starter", name="Hochzeit GmbH")
    resp = await client.post(LOGIN, json={"email": user["email"], "password": DEFAULT_PASSWORD})
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert data["abilities"] == list(TENANT_ABILITIES)
    assert data["tenant"] == {
        "id": tenant["id"],
        "name": "Hochzeit GmbH",
        "slug": tenant["slug"],
        "package": {"slug": "starter", "name": "Starter", "photo_limit": 120, "gallery_days": 30, "event_limit": 3},
        "theme": {"primary_color": "#112233", "secondary_color": "#ddeeff"},
    }
    token_id = int(data["token"].split("|")[0])
    row = await client.app[pool_key].fetchrow("select * from personal_access_tokens where id = $1", token_id)
    assert (row["user_id"], row["kind"], row["name"]) == (user["id"], "tenant", "tenant-app")
    assert row["abilities"] == list(TENANT_ABILITIES)
    me = await client.get(ME, headers=bearer(data["token"]))
    assert me.status == 200
    assert (await me.json())["data"]["tenant"]["id"] == tenant["id"]


async def test_login_email_is_case_insensitive(client):
    _, user, _ = await admin_with_password(client)
    resp = await client.post(LOGIN, json={"email": f"  {user['email'].upper()} ", "password": DEFAULT_PASSWORD})
    assert resp.status == 200


async def test_wrong_password_is_401_invalid_credentials_localized(client):
    _, user, _ = await admin_with_password(client)
    resp = await client.post(LOGIN, json={"email": user["email"], "password": "wrong"})
    error = await assert_error(resp, 401, "invalid_credentials")
    assert error["message"] == "The email address or password is incorrect."
    resp = await client.post(
        LOGIN, json={"email": user["email"], "password": "wrong"}, headers={"Accept-Language": "de-DE,de;q=0.9"}
    )
    error = await assert_error(resp, 401, "invalid_credentials")
    assert error["message"] == "Die E-Mail-Adresse oder das Passwort ist falsch."
    assert resp.headers["Content-Language"] == "de"


async def test_unknown_email_is_the_same_401(client):
    resp = await client.post(LOGIN, json={"email": "nobody-" + uuid.uuid4().hex + "@example.test", "password": "x"})
    await assert_error(resp, 401, "invalid_credentials")


async def test_account_without_a_tenant_is_the_same_401_and_gets_no_token(client):
    user = await make_user(client.app)
    resp = await client.post(LOGIN, json={"email": user["email"], "password": DEFAULT_PASSWORD})
    error = await assert_error(resp, 401, "invalid_credentials")
    assert error["message"] == "The email address or password is incorrect."
    count = await token_count(client, user["id"])
    assert count == 0


async def test_login_validation_names_the_fields(client):
    resp = await client.post(LOGIN, json={})
    error = await assert_error(resp, 422, "validation_failed")
    assert set(error["meta"]["fields"]) == {"email", "password"}
    too_long = {"email": "a@example.test", "password": "x" * 2000}
    resp = await client.post(LOGIN, json=too_long, headers={"Accept-Language": "de"})
    error = await assert_error(resp, 422, "validation_failed")
    assert set(error["meta"]["fields"]) == {"password"}
    assert error["message"] == "Die übermittelten Daten sind ungültig."


async def test_login_refuses_bodies_that_are_not_json_objects(client):
    resp = await client.post(LOGIN, data=b"{nope", headers={"Content-Type": "application/json"})
    await assert_error(resp, 400, "malformed_json")
    resp = await client.post(LOGIN, data=b"email=x", headers={"Content-Type": "text/plain"})
    await assert_error(resp, 415, "unsupported_media_type")
    await assert_error(await client.post(LOGIN, json=["a"]), 422, "validation_failed")


async def test_login_is_throttled_per_account(aiohttp_client, settings, ray_session):
    tight = settings.model_copy(update={"throttle_auth_per_minute": 3, "redis_prefix": f"t-{uuid.uuid4().hex[:8]}"})
    app = await aiohttp_client(create_app(tight))
    body = {"email": "throttled-" + uuid.uuid4().hex[:8] + "@example.test", "password": "wrong"}
    for _ in range(3):
        resp = await app.post(LOGIN, json=body)
        assert resp.status == 401
        assert resp.headers["X-RateLimit-Limit"] == "3"
    resp = await app.post(LOGIN, json=body)
    error = await assert_error(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert error["meta"]["limit"] == 3


# -- me and logout --------------------------------------------------------------------------------


async def test_me_shows_user_tenant_abilities_and_role(client):
    tenant = await make_tenant(client.app)
    user, token = await make_tenant_admin(client.app, tenant["id"], role="owner")
    resp = await client.get(ME, headers=bearer(token))
    assert resp.status == 200
    data = (await resp.json())["data"]
    assert data["user"] == {"id": user["id"], "email": user["email"], "name": user["name"]}
    assert data["tenant"]["id"] == tenant["id"] and data["tenant"]["package"]["slug"] == "standard"
    assert data["abilities"] == list(TENANT_ABILITIES)
    assert data["role"] == "owner"


async def test_me_needs_a_tenant_admin(client):
    await assert_error(await client.get(ME), 401, "unauthenticated")
    await assert_error(await client.get(ME, headers=bearer("1|not-a-token")), 401, "unauthenticated")
    user = await make_user(client.app)
    resp = await client.get(ME, headers={**bearer(await make_token(client.app, user["id"])), "Accept-Language": "de"})
    error = await assert_error(resp, 403, "not_a_tenant_admin")
    assert error["message"] == "Dieses Konto verwaltet keinen Mandanten."


async def test_logout_revokes_only_the_token_used(client):
    tenant = await make_tenant(client.app)
    user, token = await make_tenant_admin(client.app, tenant["id"])
    other = await make_token(client.app, user["id"], kind="tenant", name="tenant-app")
    assert (await client.get(ME, headers=bearer(token))).status == 200  # cached by the gateway now
    resp = await client.post(LOGOUT, headers=bearer(token))
    assert resp.status == 204
    assert await resp.read() == b""
    await assert_error(await client.get(ME, headers=bearer(token)), 401, "unauthenticated")
    assert (await client.get(ME, headers=bearer(other))).status == 200
    gone = await client.app[pool_key].fetchval(
        "select id from personal_access_tokens where id = $1", token.record["id"]
    )
    assert gone is None


async def test_logout_needs_a_token(client):
    await assert_error(await client.post(LOGOUT), 401, "unauthenticated")


# -- one-time codes -------------------------------------------------------------------------------


def code_key(settings, code: str) -> str:
    return f"{settings.redis_prefix}:tenant-auth:code:{sha256_hex(code)}"


async def new_code(client, token) -> dict:
    resp = await client.post(CODES, headers=bearer(token))
    assert resp.status == 201, await resp.text()
    return (await resp.json())["data"]


async def test_code_lives_five_minutes_and_is_stored_hashed(client, settings, redis_client):
    tenant = await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    data = await new_code(client, token)
    assert len(data["code"]) >= 32
    expires = datetime.strptime(data["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert 280 <= expires.timestamp() - time.time() <= 301
    ttl = await redis_client.ttl(code_key(settings, data["code"]))
    assert 290 <= ttl <= 300
    assert not [k async for k in redis_client.scan_iter(match=f"*{data['code']}*")]


async def test_codes_need_a_tenant_admin(client):
    await assert_error(await client.post(CODES), 401, "unauthenticated")
    user = await make_user(client.app)
    plain = await make_token(client.app, user["id"])
    await assert_error(await client.post(CODES, headers=bearer(plain)), 403, "not_a_tenant_admin")


async def test_exchange_gives_a_new_token_once(client):
    tenant = await make_tenant(client.app)
    user, token = await make_tenant_admin(client.app, tenant["id"])
    code = (await new_code(client, token))["code"]
    resp = await client.post(EXCHANGE, json={"code": code})
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert data["token"] != token.plain_text
    assert data["abilities"] == list(TENANT_ABILITIES)
    assert data["tenant"]["id"] == tenant["id"]
    me = await client.get(ME, headers=bearer(data["token"]))
    assert (await me.json())["data"]["user"]["id"] == user["id"]
    # the original token keeps working: the code adds a device, it does not move the session
    assert (await client.get(ME, headers=bearer(token))).status == 200
    again = await client.post(EXCHANGE, json={"code": code}, headers={"Accept-Language": "de"})
    error = await assert_error(again, 401, "invalid_code")
    assert error["message"] == "Dieser Anmeldecode ist ungültig, abgelaufen oder wurde bereits verwendet."


async def test_concurrent_exchanges_of_one_code_have_one_winner(client):
    tenant = await make_tenant(client.app)
    user, token = await make_tenant_admin(client.app, tenant["id"])
    code = (await new_code(client, token))["code"]
    before = await token_count(client, user["id"])
    responses = await asyncio.gather(*(client.post(EXCHANGE, json={"code": code}) for _ in range(6)))
    assert sorted(r.status for r in responses) == [200] + [401] * 5
    after = await token_count(client, user["id"])
    assert after == before + 1


async def test_expired_and_unknown_codes_are_refused(client, settings, redis_client):
    tenant = await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    code = (await new_code(client, token))["code"]
    await redis_client.pexpire(code_key(settings, code), 1)

    async def expired() -> bool:
        return not await redis_client.exists(code_key(settings, code))

    await eventually(expired, what="Redis expiring the code")
    await assert_error(await client.post(EXCHANGE, json={"code": code}), 401, "invalid_code")
    await assert_error(await client.post(EXCHANGE, json={"code": "made-up"}), 401, "invalid_code")


async def test_exchange_validation(client):
    error = await assert_error(await client.post(EXCHANGE, json={}), 422, "validation_failed")
    assert set(error["meta"]["fields"]) == {"code"}
    error = await assert_error(await client.post(EXCHANGE, json={"code": "x" * 500}), 422, "validation_failed")
    assert set(error["meta"]["fields"]) == {"code"}


async def test_a_narrow_token_passes_on_only_its_own_abilities(client):
    tenant = await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"], abilities=(EVENTS_READ,))
    code = (await new_code(client, token))["code"]
    data = (await (await client.post(EXCHANGE, json={"code": code})).json())["data"]
    assert data["abilities"] == [EVENTS_READ]


async def test_a_code_of_an_admin_removed_since_yields_no_token(client):
    tenant = await make_tenant(client.app)
    user, token = await make_tenant_admin(client.app, tenant["id"])
    code = (await new_code(client, token))["code"]
    await client.app[pool_key].execute("delete from tenant_users where user_id = $1", user["id"])
    await assert_error(await client.post(EXCHANGE, json={"code": code}), 403, "not_a_tenant_admin")
