"""002's account endpoints: registration (API-key guarded), email and OAuth2-form login, profile,
password change. Every account is the shared `users` row, so a user made here signs in through any
contract, and the reverse.

002 clients send plain passwords; they are prehashed to the SHA-256 hex every contract stores.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg
from aiohttp import web

from domain.accounts import Accounts, display_name
from domain.errors import BadRequest, Invalid, Unauthenticated
from domain.passwords import prehash
from gateway.kernel.auth.limits import throttle_auth, throttle_register
from gateway.kernel.auth.revocation import revoke_credentials
from gateway.kernel.json_io import json_response
from gateway.kernel.keys import accounts_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse
from gateway.petcare.account_models import (
    AccessTokenForm,
    EmailLoginIn,
    PasswordResetIn,
    UserCreateIn,
    UserUpdateIn,
)
from gateway.petcare.envelope import success
from gateway.petcare.guards import require_api_key, require_petcare_account_writer, require_petcare_user
from gateway.petcare.openapi import TAG_AUTH, TAG_USERS, THROTTLED_HEADERS
from gateway.petcare.user_views import (
    AccessTokenAnswer,
    LoginAnswer,
    UserPublic,
    UserWithToken,
    login_view,
    user_public,
    user_view,
)
from storage import groups as groups_sql
from storage import users as users_sql

TOKEN_TYPE: Final = "bearer"
# who may read the profile: any one of these; writes by a session also send the XSRF header
READERS = ("oauth2", "jwt", "pat", "session")
WRITERS = ("oauth2", "jwt", "pat", "session+xsrf")


async def _load(accounts: Accounts, user_id: int) -> tuple[asyncpg.Record, int | None]:
    """The user row and their personal group id (002 shows it on every profile)."""
    async with accounts.pool.acquire() as conn:
        user = await users_sql.get_or_404(conn, user_id)
        group_id = await groups_sql.personal_group_id(conn, user_id)
    return user, group_id


async def _profile(request: web.Request, user_id: int) -> tuple[asyncpg.Record, dict[str, Any]]:
    user, group_id = await _load(request.config_dict[accounts_key], user_id)
    return user, user_view(user, group_id, request.config_dict[settings_key])


@documented(
    "Register a user",
    tags=(TAG_USERS,),
    description="Guarded by an API key (`X-API-Key`, or the reference's `Authorization: Bearer "
    "<key_id>:<secret>`): without one 403, a wrong or revoked one 401. An email already registered "
    "(in any case) is a 400. Makes the user's personal group; `source` is the key's name.",
    response=UserPublic,
    body=UserCreateIn,
    auth=("api_key", "api_key_bearer"),
    errors=(403, 429),
    headers_out=THROTTLED_HEADERS,
)
async def create_user(request: web.Request) -> web.Response:
    await throttle_register(request)
    key = await require_api_key(request)
    body = await parse(request, UserCreateIn)
    accounts = request.config_dict[accounts_key]
    try:
        # Not marked verified: the API key vouches for the client, not for the mailbox, and a
        # verified address is what account linking by email trusts.
        user = await accounts.register(
            email=body.email, password_hex=prehash(body.pwd), name=body.name, source=key["name"]
        )
    except Invalid as exc:
        if exc.code == "already_taken" and "email" in exc.fields:
            raise BadRequest("User already exists", code="user_exists") from exc
        raise
    _, view = await _profile(request, user["id"])
    return success(view, "User registered successfully")


@documented(
    "Sign in with email and password",
    tags=(TAG_AUTH,),
    description="A JWT for the account; a wrong email or password is a 401.",
    response=LoginAnswer,
    body=EmailLoginIn,
    errors=(401, 403, 429),
    headers_out=THROTTLED_HEADERS,
)
async def email_login(request: web.Request) -> web.Response:
    body = await parse(request, EmailLoginIn)
    await throttle_auth(request, body.email)
    accounts = request.config_dict[accounts_key]
    user = await accounts.authenticate(body.email, prehash(body.pwd))
    if user is None:
        raise Unauthenticated("Incorrect email or password", code="invalid_credentials")
    data = login_view(user, accounts.issue_jwt(user), request.config_dict[settings_key])
    return success(data, "Email login successful")


@documented(
    "OAuth2 password grant",
    tags=(TAG_AUTH,),
    description="OAuth2's token endpoint for the password grant (RFC 6749 §4.3, FastAPI's "
    "OAuth2PasswordRequestForm): `username` is the account's username or email. The answer is the bare "
    "token response, not the envelope; errors are in the envelope (a wrong username or password is a 401).",
    response=AccessTokenAnswer,
    form=AccessTokenForm,
    errors=(401, 403, 429),
    headers_out=THROTTLED_HEADERS,
    enveloped=False,
)
async def access_token(request: web.Request) -> web.Response:
    form = await parse(request, AccessTokenForm)
    await throttle_auth(request, form.username)
    accounts = request.config_dict[accounts_key]
    user = await accounts.authenticate_by_name(form.username, prehash(form.password))
    if user is None:
        raise Unauthenticated("Incorrect username or password", code="invalid_credentials")
    # OAuth2 token responses are bare JSON (RFC 6749 §5.1), not the envelope; the reference adds `message`.
    answer = AccessTokenAnswer(
        access_token=accounts.issue_jwt(user), token_type=TOKEN_TYPE, message="Access token generated successfully"
    )
    return json_response(answer.model_dump(mode="json"))


@documented("The signed-in user's profile", response=UserPublic, auth=READERS, tags=(TAG_USERS,))
async def me(request: web.Request) -> web.Response:
    identity = require_petcare_user(request)
    user, view = await _profile(request, identity.user_id)
    return success(view, f"Welcome, {display_name(user) or ''}!")


@documented(
    "Change the name or picture",
    tags=(TAG_USERS,),
    description="Absent or null fields stay as they are; an empty picture clears it. A personal access "
    "token needs the `profile:write` ability (403 otherwise).",
    response=UserPublic,
    body=UserUpdateIn,
    auth=WRITERS,
    errors=(403,),
)
async def update_user(request: web.Request) -> web.Response:
    identity = require_petcare_account_writer(request)
    body = await parse(request, UserUpdateIn)
    fields: dict[str, Any] = {}
    if body.name is not None:
        fields["name"] = body.name
    if body.picture is not None:
        fields["avatar"] = body.picture or None
    await request.config_dict[accounts_key].update_user(identity.user_id, fields)
    _, view = await _profile(request, identity.user_id)
    return success(view, "User info updated successfully")


@documented(
    "Change the password",
    tags=(TAG_USERS,),
    description="A wrong old password is a 400. Every other credential of the account ends (every JWT "
    "issued before included); the answer carries a fresh JWT. A personal access token needs the "
    "`profile:write` ability (403 otherwise).",
    response=UserWithToken,
    body=PasswordResetIn,
    auth=WRITERS,
    errors=(403, 429),
    headers_out=THROTTLED_HEADERS,
)
async def reset_password(request: web.Request) -> web.Response:
    identity = require_petcare_account_writer(request)
    body = await parse(request, PasswordResetIn)
    accounts = request.config_dict[accounts_key]
    user, _ = await _load(accounts, identity.user_id)
    # Checking the old password is a guessing surface like a login: same throttle, same account key.
    await throttle_auth(request, user["email"])
    if not await accounts.check_password(identity.user_id, prehash(body.old_pwd)):
        # 400 as in the reference (the document's 401 is for missing or bad tokens, not this).
        raise BadRequest("Old password is incorrect", code="incorrect_password")
    # Every other credential of the account ends (sessions, tokens, and every JWT issued before,
    # the caller's included: a JWT caller gets a fresh one below; a session or token caller keeps its own).
    await accounts.set_password(identity.user_id, prehash(body.new_pwd))
    await revoke_credentials(
        request.config_dict, identity.user_id, keep_session_id=identity.session_id, keep_token_id=identity.token_id
    )
    user, group_id = await _load(accounts, identity.user_id)
    profile = user_public(user, group_id, request.config_dict[settings_key])
    answer = UserWithToken(**dict(profile), access_token=accounts.issue_jwt(user), token_type=TOKEN_TYPE)
    return success(answer.model_dump(mode="json"), "Password reset successfully")
