"""003's credential sign-in at /api: register, login, logout.

The other account endpoints live beside this module (profile, avatar, password_reset,
verification); gateway/accounts/routes.py lists them all.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from domain.errors import Invalid, Unauthenticated
from domain.tokens import looks_like_jwt, parse_pat
from gateway.accounts.browser import redirect
from gateway.accounts.credentials import (
    VALIDATION_FAILED,
    PasswordHash,
    require_confirmed,
    signed_in,
    with_message,
)
from gateway.accounts.openapi import WRITE_ERRORS
from gateway.accounts.schemas import UserToken
from gateway.kernel.api_envelope import success
from gateway.kernel.auth.limits import throttle_auth, throttle_register
from gateway.kernel.auth.middleware import API_TOKEN_COOKIE
from gateway.kernel.fields import FORM_CONFIG, Email, raw_field
from gateway.kernel.keys import accounts_key, pool_key, settings_key
from gateway.kernel.negotiation import prefers_html
from gateway.kernel.openapi.operation import NO_BODY, documented
from gateway.kernel.validation import parse, read_body, validate
from storage import users as users_sql


class RegisterIn(BaseModel):
    model_config = FORM_CONFIG

    username: str = Field(min_length=1, max_length=255)
    first_name: str = Field(min_length=1, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    email: Email
    password_hash: PasswordHash
    password_hash_confirmation: str = Field(max_length=255)


class LoginIn(BaseModel):
    model_config = FORM_CONFIG

    email: Email
    password_hash: PasswordHash


async def _taken_fields(request: web.Request, email: str, username: str) -> dict[str, list[str]]:
    """Both duplicates at once, as Laravel's validator reports them (the unique indexes still
    decide a race; see the except in `register`)."""
    async with request.config_dict[pool_key].acquire() as conn:
        email_taken = await users_sql.by_email(conn, email) is not None
        username_taken = await users_sql.username_taken(conn, username)
    fields: dict[str, list[str]] = {}
    if username_taken:
        fields["username"] = ["The username has already been taken."]
    if email_taken:
        fields["email"] = ["The email has already been taken."]
    return fields


@documented(
    "Register an account",
    response=UserToken,
    status=201,
    body=RegisterIn,
    errors=(*WRITE_ERRORS, 409),
)
async def register(request: web.Request) -> web.Response:
    """POST /api/auth/register → 201 "Registered" {user, token}."""
    await throttle_register(request)
    data = await parse(request, RegisterIn, message=VALIDATION_FAILED)
    require_confirmed(data.password_hash, data.password_hash_confirmation, message=VALIDATION_FAILED)
    taken = await _taken_fields(request, data.email, data.username)
    if taken:
        raise Invalid(VALIDATION_FAILED, code="already_taken", fields=taken)
    try:
        user = await request.config_dict[accounts_key].register(
            email=data.email,
            password_hex=data.password_hash,
            username=data.username,
            first_name=data.first_name,
            last_name=data.last_name or None,
            source="email",
        )
    except Invalid as exc:
        raise with_message(exc, VALIDATION_FAILED) from exc
    return success(await signed_in(request, user), "Registered", status=201)


@documented("Sign in with email and password hash", response=UserToken, body=LoginIn, errors=(401, *WRITE_ERRORS))
async def login(request: web.Request) -> web.Response:
    """POST /api/auth/login → 200 "Logged in" {user, token}; 401 "Invalid credentials"."""
    body = await read_body(request)
    # Throttled before validation: malformed attempts count against the address too.
    await throttle_auth(request, raw_field(body, "email"))
    data = validate(LoginIn, body, message=VALIDATION_FAILED)
    user = await request.config_dict[accounts_key].authenticate(data.email, data.password_hash)
    if user is None:
        raise Unauthenticated("Invalid credentials", code="invalid_credentials")
    return success(await signed_in(request, user), "Logged in")


def _token_hash(raw: str | None) -> str | None:
    if not raw or looks_like_jwt(raw):  # a JWT cannot be revoked on its own; it expires
        return None
    parsed = parse_pat(raw)
    return parsed.secret_hash if parsed else None


@documented(
    "Sign out",
    response=None,
    also={302: NO_BODY},
    headers_out={
        "Location": "302 only (a browser, Accept ranking HTML first): `${FRONTEND_URL}/auth/logout`.",
        "Set-Cookie": "Expires the `api_token` cookie.",
    },
    errors=WRITE_ERRORS,
)
async def logout(request: web.Request) -> web.Response:
    """POST /api/auth/logout, public: revokes the Bearer token and the `api_token` cookie's
    token, expires the cookie; JSON 200 "Logged out", or a 302 to the SPA for browsers."""
    header = request.headers.get("Authorization", "")
    bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
    hashes = {h for h in (_token_hash(bearer), _token_hash(request.cookies.get(API_TOKEN_COOKIE))) if h}
    accounts = request.config_dict[accounts_key]
    for token_hash in hashes:
        await accounts.revoke_token_hash(token_hash)
    if prefers_html(request.headers.get("Accept", "")):
        response = redirect(f"{request.config_dict[settings_key].frontend_url.rstrip('/')}/auth/logout")
    else:
        response = success(None, "Logged out")
    response.del_cookie(API_TOKEN_COOKIE, path="/")
    return response
