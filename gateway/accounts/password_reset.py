"""003's password endpoints: forgot (mail a reset link), reset (with the mailed token), change.

Reset tokens are random; only their SHA-256 is stored, one row per address (a new request
replaces the old token). The mailed link goes to the SPA, which posts the token back to reset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web
from pydantic import BaseModel, Field

from domain.accounts import display_name
from domain.errors import Invalid
from domain.mailer import RESET_TTL_MINUTES, Mailer
from domain.tokens import new_secret, sha256_hex
from gateway.accounts.credentials import CurrentPasswordHash, PasswordHash, require_confirmed, signed_in
from gateway.accounts.openapi import WRITE_AUTH, WRITE_ERRORS
from gateway.accounts.schemas import UserToken
from gateway.kernel.api_envelope import success
from gateway.kernel.auth.guards import PROFILE_WRITE, require_abilities
from gateway.kernel.auth.limits import throttle_auth, throttle_mail
from gateway.kernel.auth.revocation import revoke_credentials
from gateway.kernel.fields import FORM_CONFIG, Email, raw_field
from gateway.kernel.keys import accounts_key, jobs_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse, read_body, validate
from storage import reset_tokens
from storage import users as users_sql

TOKEN_MAX = 512  # ours are 40 characters; anything much longer is not one of ours


class ForgotIn(BaseModel):
    model_config = FORM_CONFIG

    email: Email


class ResetIn(BaseModel):
    model_config = FORM_CONFIG

    email: Email
    token: str = Field(min_length=1, max_length=TOKEN_MAX)
    password_hash: PasswordHash
    password_hash_confirmation: str = Field(max_length=255)


class ChangeIn(BaseModel):
    model_config = FORM_CONFIG

    current_password_hash: CurrentPasswordHash
    password_hash: PasswordHash
    password_hash_confirmation: str = Field(max_length=255)


def _bad_token(message: str = "Invalid or expired token") -> Invalid:
    return Invalid(message, code="invalid_reset_token", fields={"token": [message]})


@documented("Mail a password reset link", response=None, body=ForgotIn, errors=WRITE_ERRORS)
async def forgot(request: web.Request) -> web.Response:
    """POST /api/auth/password/forgot → always 200; mails a link only if the account exists."""
    body = await read_body(request)
    await throttle_mail(request, raw_field(body, "email"))
    data = validate(ForgotIn, body)
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.by_email(conn, data.email)
        if user is not None and user["is_active"]:
            token = new_secret()
            await reset_tokens.replace(conn, user["email"], sha256_hex(token))
        else:
            user = None
    if user is not None:
        mailer = Mailer.from_settings(request.config_dict[settings_key], request.config_dict[jobs_key])
        await mailer.send_password_reset(user["email"], token, name=display_name(user))
    return success(None, "Password reset link sent if account exists")


@documented("Reset the password with the mailed token", response=UserToken, body=ResetIn, errors=WRITE_ERRORS)
async def reset(request: web.Request) -> web.Response:
    """POST /api/auth/password/reset → 200 "Password reset successfully" {user, token}."""
    body = await read_body(request)
    await throttle_mail(request, raw_field(body, "email"))
    data = validate(ResetIn, body)
    require_confirmed(data.password_hash, data.password_hash_confirmation)
    async with request.config_dict[pool_key].acquire() as conn:
        # Taken (deleted) before it is judged: a token works at most once, even under a race.
        issued_at = await reset_tokens.take(conn, data.email, sha256_hex(data.token))
        if issued_at is None:
            raise _bad_token()
        if datetime.now(UTC) - issued_at > timedelta(minutes=RESET_TTL_MINUTES):
            raise _bad_token("Token expired")
        user = await users_sql.by_email(conn, data.email)
    if user is None or not user["is_active"]:
        raise _bad_token()
    # A reset is what someone does who lost the password, or whose password was taken: every
    # JWT, token and browser session of the account ends; the answer's token is the only one left.
    await request.config_dict[accounts_key].set_password(user["id"], data.password_hash)
    await revoke_credentials(request.config_dict, user["id"])
    return success(await signed_in(request, user), "Password reset successfully")


@documented(
    "Change the signed-in user's password",
    response=None,
    body=ChangeIn,
    errors=(*WRITE_ERRORS, 404),
    auth=WRITE_AUTH,
)
async def change(request: web.Request) -> web.Response:
    """POST /api/auth/password/change (signed in) → 200 "Password changed successfully"."""
    identity = require_abilities(request, PROFILE_WRITE)
    data = await parse(request, ChangeIn)
    require_confirmed(data.password_hash, data.password_hash_confirmation)
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get_or_404(conn, identity.user_id)
    # Checking the current password is a password guess: throttled like a sign-in, so a stolen
    # token cannot be used to brute-force the password behind it.
    await throttle_auth(request, user["email"])
    accounts = request.config_dict[accounts_key]
    if not await accounts.check_password(identity.user_id, data.current_password_hash):
        message = "Current password is incorrect"
        raise Invalid(message, code="current_password_incorrect", fields={"current_password_hash": [message]})
    # A new password signs out everything else (the old one may be what an intruder holds); the
    # caller keeps the session or token it called with. A JWT cannot be kept apart from the
    # account's other JWTs: a JWT caller signs in again (003 clients use tokens, not JWTs).
    await accounts.set_password(identity.user_id, data.password_hash)
    await revoke_credentials(
        request.config_dict, identity.user_id, keep_session_id=identity.session_id, keep_token_id=identity.token_id
    )
    return success(None, "Password changed successfully")
