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
from datetime import timedelta

import asyncpg
import orjson
from aiohttp import web
from pydantic import BaseModel, Field

from domain.errors import Forbidden, Unauthenticated
from domain.passwords import prehash
from domain.tenant_abilities import TENANT_ABILITIES
from domain.tokens import sha256_hex
from gateway.events.common_schemas import Item
from gateway.events.envelope import success
from gateway.events.guards import require_tenant
from gateway.events.openapi import RATE_LIMITED, TENANT_READ, TENANT_WRITE
from gateway.events.tenant_schemas import SignInCode, TenantMe, TenantPublic, TenantSignIn, TenantUser
from gateway.kernel.auth.guards import require_user
from gateway.kernel.auth.limits import throttle_auth
from gateway.kernel.fields import LoginEmail, Password, raw_field
from gateway.kernel.keys import accounts_key, pool_key, redis_key, settings_key
from gateway.kernel.openapi.operation import NO_BODY, documented
from gateway.kernel.timeutil import utc_now
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
) -> TenantSignIn:
    """A new tenant token for an account that administers a tenant (403 for any other account;
    no token is minted for it)."""
    tenant = tenant or await _administered(request, user_id)
    if tenant is None:
        raise Forbidden("This account does not administer a tenant.", code="not_a_tenant_admin")
    issued = await request.config_dict[accounts_key].issue_token(
        user_id, name=TOKEN_NAME, kind=TOKEN_KIND, abilities=abilities
    )
    return TenantSignIn(token=issued.plain_text, abilities=abilities, tenant=TenantPublic.from_row(tenant))


@documented(
    "Sign in a tenant app",
    response=Item[TenantSignIn],
    body=LoginIn,
    errors=(401, 403, 429),  # 403: a live browser session without its XSRF header
    headers_out=RATE_LIMITED,
    description="Throttled per address and per account (before validation: malformed attempts count). A wrong "
    "password, an unknown email and an account that administers no tenant are all 401 `invalid_credentials`.",
)
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
    return success(Item(data=await _sign_in(request, user["id"], list(TENANT_ABILITIES), tenant)))


@documented(
    "The signed-in tenant admin", response=Item[TenantMe], auth=TENANT_READ, errors=(403, 429), headers_out=RATE_LIMITED
)
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
    data = TenantMe(
        user=TenantUser(id=user["id"], email=user["email"], name=user["name"]),
        tenant=TenantPublic.from_row(tenant),
        # sessions and JWTs are not ability-limited: "*" says so
        abilities=list(abilities) if abilities is not None else ["*"],
        role=caller.role,
    )
    return success(Item(data=data))


@documented("Revoke the token used", response=NO_BODY, status=204, auth=TENANT_WRITE, errors=(403,))
async def logout(request: web.Request) -> web.Response:
    """POST /tenant-auth/logout → 204; the token used is revoked everywhere at once (through the
    token cache's invalidation). A credential that is not a token has nothing to revoke."""
    identity = require_user(request)
    if identity.token_id is not None:
        await request.config_dict[accounts_key].revoke_token(identity.user_id, identity.token_id)
    return web.Response(status=204)


def _code_key(request: web.Request, code: str) -> str:
    return f"{request.config_dict[settings_key].redis_prefix}:tenant-auth:code:{sha256_hex(code)}"


@documented(
    "A one-time sign-in code for another device",
    response=Item[SignInCode],
    status=201,
    auth=TENANT_WRITE,
    errors=(403, 429),
    headers_out=RATE_LIMITED,
)
async def create_code(request: web.Request) -> web.Response:
    """POST /tenant-auth/codes → 201 {data: {code, expires_at}}: a one-time code for another device.
    The token it later yields carries no ability the caller's own token lacks."""
    caller = await require_tenant(request)
    code = secrets.token_urlsafe(CODE_BYTES)
    payload = orjson.dumps({"uid": caller.user_id, "abilities": _granted(caller.identity.abilities)})
    await request.config_dict[redis_key].set(_code_key(request, code), payload, ex=CODE_TTL_S)
    expires_at = utc_now() + timedelta(seconds=CODE_TTL_S)
    return success(Item(data=SignInCode(code=code, expires_at=expires_at)), status=201)


@documented(
    "Swap a sign-in code for a token",
    response=Item[TenantSignIn],
    body=ExchangeIn,
    errors=(401, 403, 429),
    headers_out=RATE_LIMITED,
)
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
    return success(Item(data=await _sign_in(request, user["id"], payload["abilities"])))
