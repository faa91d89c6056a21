"""001 tenant-app sign-in: POST /tenant-auth/login|codes|exchange|logout, GET /tenant-auth/me.

A tenant app holds a personal access token (kind 'tenant', name 'tenant-app') with the tenant
abilities. Login checks the password the way every contract does (Accounts.authenticate on the
SHA-256 hex, here computed from the plain password the app sends) and is throttled per address
and per account like the other logins. An account that administers no tenant gets the same 401
`invalid_credentials` as a wrong password, so login never confirms a guessed password. To move a
signed-in session to another device, the app asks for a one-time code (`/codes`) and the other
device swaps it for a token of its own (`/exchange`). Codes live five minutes in Redis under the
SHA-256 of the code; GETDEL consumes one atomically, so of two concurrent exchanges of the same
code exactly one wins.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import asyncpg
import orjson
from aiohttp import web
from pydantic import BaseModel, Field

from domain.errors import Forbidden, Unauthenticated
from domain.passwords import prehash
from domain.tenant_abilities import TENANT_ABILITIES
from domain.tokens import sha256_hex
from gateway.events.envelope import success
from gateway.events.guards import require_tenant
from gateway.kernel.auth.guards import require_user
from gateway.kernel.auth.limits import throttle_auth
from gateway.kernel.fields import LoginEmail, Password, raw_field
from gateway.kernel.keys import accounts_key, pool_key, redis_key, settings_key
from gateway.kernel.timeutil import iso_z, utc_now
from gateway.kernel.validation import parse, read_body, validate
from storage import tenants as tenants_sql
from storage import users as users_sql

TOKEN_NAME = "tenant-app"
TOKEN_KIND = "tenant"
# Long enough to read a code off one screen and type it on another, short enough that a code
# seen over someone's shoulder is soon useless.
CODE_TTL_S = 5 * 60
# 24 random bytes: 32 URL-safe characters, far beyond guessing within five minutes.
CODE_BYTES = 24
CODE_MAX = 128


class LoginIn(BaseModel):
    email: LoginEmail
    password: Password


class ExchangeIn(BaseModel):
    code: str = Field(min_length=1, max_length=CODE_MAX)


def package_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "slug": row["package_slug"],
        "name": row["package_name"],
        "photo_limit": row["photo_limit"],
        "gallery_days": row["gallery_days"],
        "event_limit": row["event_limit"],
    }


def tenant_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A tenant as its own apps see it (storage.tenants rows)."""
    return {
        "id": row["id"],
        "name": row["name"],
        "slug": row["slug"],
        "package": package_view(row),
        "theme": row["theme"],
    }


def _granted(abilities: tuple[str, ...] | None) -> list[str]:
    """The tenant abilities a caller holding `abilities` may pass on (never more than it has)."""
    if abilities is None or "*" in abilities:
        return list(TENANT_ABILITIES)
    return [a for a in TENANT_ABILITIES if a in abilities]


def _invalid_credentials() -> Unauthenticated:
    return Unauthenticated("The email or password is incorrect.", code="invalid_credentials")


async def _administered(request: web.Request, user_id: int) -> asyncpg.Record | None:
    async with request.config_dict[pool_key].acquire() as conn:
        return await tenants_sql.administered_by(conn, user_id)


async def _sign_in(
    request: web.Request, user_id: int, abilities: list[str], tenant: asyncpg.Record | None = None
) -> dict[str, Any]:
    """A new tenant token for an account that administers a tenant (403 for any other account;
    no token is minted for it)."""
    tenant = tenant or await _administered(request, user_id)
    if tenant is None:
        raise Forbidden("This account does not administer a tenant.", code="not_a_tenant_admin")
    issued = await request.config_dict[accounts_key].issue_token(
        user_id, name=TOKEN_NAME, kind=TOKEN_KIND, abilities=abilities
    )
    return {"token": issued.plain_text, "abilities": abilities, "tenant": tenant_view(tenant)}


async def login(request: web.Request) -> web.Response:
    """POST /tenant-auth/login {email, password} → {data: {token, abilities, tenant}}."""
    body = await read_body(request)
    # Throttled before validation: malformed attempts count against the address too.
    await throttle_auth(request, raw_field(body, "email"))
    data = validate(LoginIn, body)
    user = await request.config_dict[accounts_key].authenticate(data.email, prehash(data.password))
    tenant = await _administered(request, user["id"]) if user is not None else None
    if user is None or tenant is None:
        # One answer for an unknown email, a wrong password and the right password of an account
        # that administers no tenant: a distinct one would confirm the password to whoever
        # guessed it (and authenticate() takes as long for unknown emails).
        raise _invalid_credentials()
    return success({"data": await _sign_in(request, user["id"], list(TENANT_ABILITIES), tenant)})


async def me(request: web.Request) -> web.Response:
    """GET /tenant-auth/me → {data: {user, tenant, abilities, role}}."""
    caller = await require_tenant(request)
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get(conn, caller.user_id)
        tenant = await tenants_sql.get(conn, caller.tenant_id)
    # require_tenant has just read the account's membership of the tenant (a deletion racing this
    # request is a 500, not a wrong answer)
    assert user is not None and tenant is not None
    abilities = caller.identity.abilities
    data = {
        "user": {"id": user["id"], "email": user["email"], "name": user["name"]},
        "tenant": tenant_view(tenant),
        # sessions and JWTs are not ability-limited: "*" says so
        "abilities": list(abilities) if abilities is not None else ["*"],
        "role": caller.role,
    }
    return success({"data": data})


async def logout(request: web.Request) -> web.Response:
    """POST /tenant-auth/logout → 204; the token used is revoked everywhere at once (through the
    token cache's invalidation). A credential that is not a token has nothing to revoke."""
    identity = require_user(request)
    if identity.token_id is not None:
        await request.config_dict[accounts_key].revoke_token(identity.user_id, identity.token_id)
    return web.Response(status=204)


def _code_key(request: web.Request, code: str) -> str:
    return f"{request.config_dict[settings_key].redis_prefix}:tenant-auth:code:{sha256_hex(code)}"


async def create_code(request: web.Request) -> web.Response:
    """POST /tenant-auth/codes → 201 {data: {code, expires_at}}: a one-time code for another device.
    The token it later yields carries no ability the caller's own token lacks."""
    caller = await require_tenant(request)
    code = secrets.token_urlsafe(CODE_BYTES)
    payload = orjson.dumps({"uid": caller.user_id, "abilities": _granted(caller.identity.abilities)})
    await request.config_dict[redis_key].set(_code_key(request, code), payload, ex=CODE_TTL_S)
    expires_at = utc_now() + timedelta(seconds=CODE_TTL_S)
    return success({"data": {"code": code, "expires_at": iso_z(expires_at)}}, status=201)


async def exchange(request: web.Request) -> web.Response:
    """POST /tenant-auth/exchange {code} → {data: {token, abilities, tenant}}; a used, expired or
    unknown code is 401 `invalid_code`."""
    # Codes are guessable only in theory; the throttle keeps it so.
    await throttle_auth(request)
    data = await parse(request, ExchangeIn)
    raw = await request.config_dict[redis_key].getdel(_code_key(request, data.code))
    if raw is None:
        raise Unauthenticated("The code is invalid, expired or already used.", code="invalid_code")
    payload = orjson.loads(raw)
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get(conn, payload["uid"])
    if user is None or not user["is_active"]:
        raise Unauthenticated("The code is invalid, expired or already used.", code="invalid_code")
    return success({"data": await _sign_in(request, user["id"], payload["abilities"])})
