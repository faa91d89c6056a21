"""Issue 9, accounts and credentials: each test is an attack that worked before the fix.

- limited tokens (a /developer token, a `read` token, a 001 tenant token, the GPT connector
  token) changing the account: email, profile, avatar, password, deletion;
- an email change without the current password, keeping the verified flag, telling nobody;
- credentials (sessions, personal access tokens, JWTs) outliving a password reset;
- per-login tokens that never expire and that /developer neither listed nor revoked.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import FormData

from domain.tokens import new_secret, sha256_hex
from gateway.app import create_app
from gateway.kernel.keys import accounts_key, pool_key, token_cache_key
from gateway.pethealth.gpt_bridge import TOKEN_ABILITIES as GPT_ABILITIES
from gateway.pethealth.gpt_bridge import TOKEN_KIND as GPT_KIND
from gateway.pethealth.gpt_bridge import TOKEN_NAME as GPT_NAME
from storage import reset_tokens
from tests.accounts.account_helpers import JSON, auth
from tests.accounts.test_profile import tiny_png
from tests.builders import DEFAULT_PASSWORD, bearer, make_token, make_user
from tests.builders import sha256_hex as password_hex
from tests.event_builders import make_tenant
from tests.smtp_inbox import FRONTEND_URL
from tests.waiting import eventually
from tests.web.session_helpers import sign_in

NEW_PASSWORD = "Brand-New-Password-7"
TINY_PNG = tiny_png()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # never read: the guard answers first


# -- token abilities on account routes ---------------------------------------------------------

# (method, path, body, contract): every route that changes the account itself
ACCOUNT_ROUTES = [
    ("PUT", "/api/user", {"email": "taken-over@attacker.test", "first_name": "Mallory"}, "003"),
    ("DELETE", "/api/user", None, "003"),
    ("POST", "/api/user/avatar", "avatar", "003"),
    (
        "POST",
        "/api/auth/password/change",
        {
            "current_password_hash": password_hex(DEFAULT_PASSWORD),
            "password_hash": password_hex(NEW_PASSWORD),
            "password_hash_confirmation": password_hex(NEW_PASSWORD),
        },
        "003",
    ),
    ("POST", "/user/update", {"name": "Mallory", "picture": "https://attacker.test/p.png"}, "002"),
    ("POST", "/user/reset_password", {"old_pwd": DEFAULT_PASSWORD, "new_pwd": NEW_PASSWORD}, "002"),
]
LIMITED_TOKENS = ["developer-no-permissions", "developer-read", "tenant", "gpt-connector"]


async def _limited_token(client, kind: str, user) -> str:
    if kind == "developer-no-permissions":  # what POST /api/user/api-tokens {permissions: []} mints
        return (await make_token(client.app, user["id"], abilities=())).plain_text
    if kind == "developer-read":
        return (await make_token(client.app, user["id"], abilities=("read",))).plain_text
    if kind == "gpt-connector":
        issued = await make_token(client.app, user["id"], name=GPT_NAME, kind=GPT_KIND, abilities=GPT_ABILITIES)
        return issued.plain_text
    tenant = await make_tenant(client.app)
    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "insert into tenant_users (user_id, tenant_id, role) values ($1, $2, 'admin')", user["id"], tenant["id"]
        )
    resp = await client.post("/api/v1/tenant-auth/login", json={"email": user["email"], "password": DEFAULT_PASSWORD})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["data"]["token"]


async def _call(client, method: str, path: str, body, **kwargs):
    if body == "avatar":
        form = FormData()
        form.add_field("avatar", PNG, filename="me.png", content_type="image/png")
        return await client.request(method, path, data=form, **kwargs)
    return await client.request(method, path, json=body, **kwargs)


async def _account_row(client, user_id: int):
    async with client.app[pool_key].acquire() as conn:
        return await conn.fetchrow(
            "select email, email_verified_at, name, first_name, avatar, password_hash, token_epoch"
            " from users where id = $1",
            user_id,
        )


@pytest.mark.parametrize("kind", LIMITED_TOKENS)
@pytest.mark.parametrize("method, path, body, contract", ACCOUNT_ROUTES, ids=[f"{r[0]} {r[1]}" for r in ACCOUNT_ROUTES])
async def test_limited_tokens_cannot_change_the_account(client, kind, method, path, body, contract):
    user = await make_user(client.app)
    token = await _limited_token(client, kind, user)
    before = await _account_row(client, user["id"])

    resp = await _call(client, method, path, body, headers=auth(token))

    assert resp.status == 403, await resp.text()
    answer = await resp.json()
    if contract == "003":
        assert answer["success"] is False and answer["status"] == "error" and answer["code"] == 403
        assert answer["message"] == "This personal access token does not have the required profile:write ability."
    else:
        assert answer["status"] == 0 and answer["data"] is None
        assert answer["message"] == "This token does not have the required profile:write ability."
    assert await _account_row(client, user["id"]) == before  # nothing changed (and the account is there)
    # read-only account routes keep working for the same token
    assert (await client.get("/api/user", headers=auth(token))).status == 200


@pytest.mark.parametrize("method, path, body, contract", ACCOUNT_ROUTES, ids=[f"{r[0]} {r[1]}" for r in ACCOUNT_ROUTES])
@pytest.mark.parametrize("credential", ["session", "star-token", "profile-write-token"])
async def test_full_account_credentials_still_change_the_account(client, credential, method, path, body, contract):
    user = await make_user(client.app)
    if isinstance(body, dict) and "email" in body:  # an email change needs the current password
        moved = f"moved-{user['id']}@example.test"
        body = {**body, "email": moved, "current_password_hash": password_hex(DEFAULT_PASSWORD)}
    if credential == "session":
        browser = await sign_in(client, user["email"])
        kwargs = {"cookies": browser.cookies, "headers": {**browser.headers, **JSON}}
    else:
        abilities = ("*",) if credential == "star-token" else ("profile:write",)
        kwargs = {"headers": auth((await make_token(client.app, user["id"], abilities=abilities)).plain_text)}
    before = await _account_row(client, user["id"])
    if body == "avatar":
        form = FormData()
        form.add_field("avatar", TINY_PNG, filename="me.png", content_type="image/png")
        resp = await client.request(method, path, data=form, **kwargs)
    else:
        resp = await client.request(method, path, json=body, **kwargs)
    assert resp.status == 200, await resp.text()
    assert await _account_row(client, user["id"]) != before


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
    async def refused() -> bool:
        return (await other.get(path, headers=headers)).status == 401

    await eventually(refused, timeout=2, interval=0.01, what="the other gateway refusing a revoked credential")


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


# -- email change ------------------------------------------------------------------------------


async def _verified_user(client):
    user = await make_user(client.app, verified=True)
    token = (await make_token(client.app, user["id"])).plain_text
    return user, token


@pytest.mark.parametrize("current", [None, "wrong"], ids=["no-current-password", "wrong-current-password"])
async def test_email_change_needs_the_current_password(client, current):
    user, token = await _verified_user(client)
    body = {"email": "attacker@attacker.test"}
    if current is not None:
        body["current_password_hash"] = password_hex("not the password")
    before = await _account_row(client, user["id"])
    resp = await client.put("/api/user", headers=auth(token), json=body)
    assert resp.status == 422
    answer = await resp.json()
    assert answer["success"] is False and answer["code"] == 422
    assert list(answer["errors"]) == ["current_password_hash"]
    assert await _account_row(client, user["id"]) == before


async def test_email_change_guesses_are_throttled_like_sign_ins(aiohttp_client, settings, ray_session):
    """A stolen full-account token must not brute-force the password behind it via email changes."""
    # its own Redis prefix: the per-IP sign-in window is not shared with earlier tests' sign-ins
    tight = settings.model_copy(update={"throttle_auth_per_minute": 3, "redis_prefix": f"t{uuid.uuid4().hex[:8]}"})
    client = await aiohttp_client(create_app(tight))
    user, token = await _verified_user(client)
    body = {"email": "attacker@attacker.test", "current_password_hash": password_hex("guess")}
    statuses = [(await client.put("/api/user", headers=auth(token), json=body)).status for _ in range(4)]
    assert statuses == [422, 422, 422, 429]


async def test_email_change_clears_verification_and_mails_both_addresses(mail_client, smtp_inbox):
    client = mail_client
    user, token = await _verified_user(client)
    old, new = user["email"], f"moved-{user['id']}@example.test"
    resp = await client.put(
        "/api/user", headers=auth(token), json={"email": new, "current_password_hash": password_hex(DEFAULT_PASSWORD)}
    )
    assert resp.status == 200, await resp.text()
    row = await _account_row(client, user["id"])
    assert row["email"] == new and row["email_verified_at"] is None

    [verification] = await smtp_inbox.wait_for(new)
    assert verification.message["Subject"] == "Verify your email address"
    [notice] = await smtp_inbox.wait_for(old)
    assert notice.message["Subject"] == "Your email address was changed"
    assert new in notice.text
    [link] = notice.links()
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{FRONTEND_URL}/auth/revert-email"
    revert_token = parse_qs(parts.query)["token"][0]
    async with client.app[pool_key].acquire() as conn:
        stored = await conn.fetchval("select token_hash from email_change_reverts where user_id = $1", user["id"])
    assert stored == sha256_hex(revert_token)

    # the verification link verifies the new address
    [verify_link] = verification.links()
    assert (await client.get(urlsplit(verify_link).path, headers=JSON)).status == 200
    assert (await _account_row(client, user["id"]))["email_verified_at"] is not None


async def test_revert_link_restores_the_old_address_once_and_ends_every_credential(mail_client, smtp_inbox):
    client = mail_client
    user, token = await _verified_user(client)
    old, new = user["email"], f"intruder-{user['id']}@attacker.test"
    intruder = await sign_in(client, user["email"])
    resp = await client.put(
        "/api/user",
        cookies=intruder.cookies,
        headers={**intruder.headers, **JSON},
        json={"email": new, "current_password_hash": password_hex(DEFAULT_PASSWORD)},
    )
    assert resp.status == 200, await resp.text()
    [notice] = await smtp_inbox.wait_for(old)
    revert_token = parse_qs(urlsplit(notice.links()[0]).query)["token"][0]

    hexed = password_hex(NEW_PASSWORD)
    body = {"token": revert_token, "password_hash": hexed, "password_hash_confirmation": hexed}
    resp = await client.post("/api/user/email/revert", json=body)
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert data["user"]["email"] == old
    row = await _account_row(client, user["id"])
    assert row["email"] == old and row["email_verified_at"] is not None
    # the intruder's session and the old token are gone; the old password no longer signs in
    assert (await client.get("/api/user", cookies=intruder.cookies, headers=JSON)).status == 401
    assert (await client.get("/api/user", headers=auth(token))).status == 401
    assert (await client.get("/api/user", headers=auth(data["token"]))).status == 200
    login_old = await client.post(
        "/api/auth/login", json={"email": old, "password_hash": password_hex(DEFAULT_PASSWORD)}
    )
    assert login_old.status == 401

    again = await client.post("/api/user/email/revert", json=body)
    assert again.status == 422
    assert list((await again.json())["errors"]) == ["token"]


async def test_revert_link_expires(mail_client, smtp_inbox):
    client = mail_client
    user, token = await _verified_user(client)
    resp = await client.put(
        "/api/user",
        headers=auth(token),
        json={"email": f"later-{user['id']}@example.test", "current_password_hash": password_hex(DEFAULT_PASSWORD)},
    )
    assert resp.status == 200
    [notice] = await smtp_inbox.wait_for(user["email"])
    revert_token = parse_qs(urlsplit(notice.links()[0]).query)["token"][0]
    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update email_change_reverts set expires_at = now() - interval '1 second' where user_id = $1", user["id"]
        )
    hexed = password_hex(NEW_PASSWORD)
    resp = await client.post(
        "/api/user/email/revert",
        json={"token": revert_token, "password_hash": hexed, "password_hash_confirmation": hexed},
    )
    assert resp.status == 422
    assert (await _account_row(client, user["id"]))["email"] == f"later-{user['id']}@example.test"


# -- sign-in tokens expire and are listed, revocable, on /developer ----------------------------


async def test_login_token_expires_after_the_ttl(client, settings):
    user = await make_user(client.app)
    resp = await client.post(
        "/api/auth/login", json={"email": user["email"], "password_hash": password_hex(DEFAULT_PASSWORD)}
    )
    assert resp.status == 200
    token = (await resp.json())["data"]["token"]
    token_id = int(token.split("|")[0])
    async with client.app[pool_key].acquire() as conn:
        expires_at, created_at = await conn.fetchrow(
            "select expires_at, created_at from personal_access_tokens where id = $1", token_id
        )
    assert abs((expires_at - created_at) - timedelta(days=settings.login_token_ttl_days)) < timedelta(seconds=5)
    assert (await client.get("/api/user", headers=auth(token))).status == 200
    async with client.app[pool_key].acquire() as conn:
        await conn.execute(
            "update personal_access_tokens set expires_at = now() - interval '1 second' where id = $1", token_id
        )
    # the cached lookup carries expires_at, so the refusal needs no eviction
    await client.app[accounts_key].token_abilities_changed(sha256_hex(token.split("|")[1]))
    assert (await client.get("/api/user", headers=auth(token))).status == 401


async def test_developer_lists_and_revokes_a_login_token(client):
    user = await make_user(client.app)
    resp = await client.post(
        "/api/auth/login", json={"email": user["email"], "password_hash": password_hex(DEFAULT_PASSWORD)}
    )
    token = (await resp.json())["data"]["token"]
    token_id = int(token.split("|")[0])
    browser = await sign_in(client, user["email"])
    html = await (await client.get("/developer", cookies=browser.cookies)).text()
    row = html.split(f'data-sign-in-id="{token_id}"')[1].split("</tr>")[0]
    assert "<code>login</code>" in row and "Never" in row and "<time" in row

    # a cross-site form (no _token) is refused
    forged = await client.post("/developer/sign-ins/revoke", cookies=browser.cookies, data={"token_id": str(token_id)})
    assert forged.status == 403
    assert (await client.get("/api/user", headers=auth(token))).status == 200

    resp = await client.post(
        "/developer/sign-ins/revoke",
        cookies=browser.cookies,
        data={"_token": browser.xsrf, "token_id": str(token_id)},
        allow_redirects=False,
    )
    assert resp.status == 302 and resp.headers["Location"] == "/developer"
    assert (await client.get("/api/user", headers=auth(token))).status == 401
    html = await (await client.get("/developer", cookies=browser.cookies)).text()
    assert f'data-sign-in-id="{token_id}"' not in html


async def test_sign_out_everywhere_ends_other_sessions_and_tokens(client):
    user = await make_user(client.app)
    here = await sign_in(client, user["email"])
    elsewhere = await sign_in(client, user["email"])
    pat = await make_token(client.app, user["id"], abilities=("read",))
    jwt = client.app[accounts_key].issue_jwt(user)
    # a token is not a session
    assert (await client.post("/developer/sign-out-everywhere", headers=auth(pat.plain_text))).status == 403

    resp = await client.post(
        "/developer/sign-out-everywhere", cookies=here.cookies, data={"_token": here.xsrf}, allow_redirects=False
    )
    assert resp.status == 302
    assert (await client.get("/api/user", cookies=elsewhere.cookies, headers=JSON)).status == 401
    assert (await client.get("/api/user", headers=auth(pat.plain_text))).status == 401
    assert (await client.get("/api/user", headers=auth(jwt))).status == 401
    assert (await client.get("/api/user", cookies=here.cookies, headers=JSON)).status == 200
