"""003's profile endpoints: GET/PUT/DELETE /api/user and GET /api/users/{id}/public."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.accounts import display_name
from domain.email_change import EmailChanges, changes_email
from domain.errors import Invalid, NotFound
from domain.mailer import Mailer
from gateway.accounts import avatar
from gateway.accounts.credentials import (
    CurrentPasswordHash,
    PasswordHash,
    require_confirmed,
    signed_in,
    with_message,
)
from gateway.accounts.openapi import READ_AUTH, WRITE_AUTH, WRITE_ERRORS
from gateway.accounts.schemas import UserToken
from gateway.kernel.account_views import PublicProfile, UserPublic, public_view, user_view
from gateway.kernel.api_envelope import success
from gateway.kernel.auth.guards import PROFILE_WRITE, require_abilities, require_user
from gateway.kernel.auth.limits import throttle_auth
from gateway.kernel.auth.revocation import revoke_credentials
from gateway.kernel.fields import FORM_CONFIG, Email
from gateway.kernel.keys import accounts_key, jobs_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import DEFAULT_MESSAGE, parse, path_id
from storage import users as users_sql

AVATAR_URL_MAX = 2048  # the column's limit
TOKEN_MAX = 512  # ours are 40 characters; anything much longer is not one of ours


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("The avatar format is invalid.")
    return value


# Every field is Laravel's `sometimes`: absent is fine, present must be a string (null is not).
# Hence a str type with a None default (pydantic never validates a default): the ignores below.
Name = Annotated[str, Field(min_length=1, max_length=255)]


def _no_null_defaults(schema: dict[str, Any]) -> None:
    """The document says what the model does: absent is fine, null is refused (no `default: null`
    on a string)."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is None:
            del prop["default"]


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(**FORM_CONFIG, json_schema_extra=_no_null_defaults)

    username: Name = None  # type: ignore[assignment]
    first_name: Name = None  # type: ignore[assignment]
    last_name: Name = None  # type: ignore[assignment]
    email: Email = None  # type: ignore[assignment]
    avatar: Annotated[str, Field(max_length=AVATAR_URL_MAX), AfterValidator(_url)] = None  # type: ignore[assignment]
    # needed only to change the email (an address is what a password reset trusts)
    current_password_hash: CurrentPasswordHash = None  # type: ignore[assignment]


class EmailRevertIn(BaseModel):
    """The old address's way back: the mailed token and the new password, as a reset takes."""

    model_config = FORM_CONFIG

    token: str = Field(min_length=1, max_length=TOKEN_MAX)
    password_hash: PasswordHash
    password_hash_confirmation: str = Field(max_length=255)


def _email_changes(request: web.Request) -> EmailChanges:
    settings = request.config_dict[settings_key]
    mailer = Mailer.from_settings(settings, request.config_dict[jobs_key])
    return EmailChanges(request.config_dict[accounts_key], mailer, frontend_url=settings.frontend_url)


@documented("Show the signed-in user", response=UserPublic, errors=(404,), auth=READ_AUTH)
async def show(request: web.Request) -> web.Response:
    """GET /api/user → 200 "User profile" (data is the user)."""
    identity = require_user(request)
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get_or_404(conn, identity.user_id)
    return success(user_view(user, request.config_dict[settings_key]), "User profile")


@documented(
    "Update the signed-in user's profile",
    response=UserPublic,
    body=ProfileUpdate,
    errors=(*WRITE_ERRORS, 404, 409),
    auth=WRITE_AUTH,
)
async def update(request: web.Request) -> web.Response:
    """PUT /api/user → 200 "Profile updated"; email and username unique except for oneself."""
    identity = require_abilities(request, PROFILE_WRITE)
    data = await parse(request, ProfileUpdate)
    fields = data.model_dump(include=data.model_fields_set - {"current_password_hash"})
    settings = request.config_dict[settings_key]
    async with request.config_dict[pool_key].acquire() as conn:
        before = await users_sql.get_or_404(conn, identity.user_id)
    if changes_email(before, fields):
        # the current password is checked: a guess, throttled like a sign-in
        await throttle_auth(request, before["email"])
    try:
        user = await _email_changes(request).update_profile(
            before, fields, data.current_password_hash, name=display_name(before)
        )
    except Invalid as exc:
        raise with_message(exc, DEFAULT_MESSAGE) from exc
    if "avatar" in fields and before["avatar"] != user["avatar"]:
        # an uploaded file replaced by a URL is no longer reachable from anything
        await avatar.remove_stored(settings.media_dir, identity.user_id, before["avatar"])
    return success(user_view(user, settings), "Profile updated")


@documented("Delete the signed-in user's account", response=None, errors=WRITE_ERRORS, auth=WRITE_AUTH)
async def destroy(request: web.Request) -> web.Response:
    """DELETE /api/user → 200 "Account deleted"; every token of the account stops working at once."""
    identity = require_abilities(request, PROFILE_WRITE)
    await request.config_dict[accounts_key].delete_user(identity.user_id)
    await avatar.remove_all(request.config_dict[settings_key].media_dir, identity.user_id)
    return success(None, "Account deleted")


@documented(
    "Undo an email change from the old address",
    response=UserToken,
    body=EmailRevertIn,
    errors=WRITE_ERRORS,
)
async def revert_email(request: web.Request) -> web.Response:
    """POST /api/user/email/revert {token, password_hash, password_hash_confirmation} (public: the
    link went to the old address) → 200 "Email restored" {user, token}. Every other credential
    of the account ends; the answer's token is the only one left."""
    await throttle_auth(request)
    data = await parse(request, EmailRevertIn)
    require_confirmed(data.password_hash, data.password_hash_confirmation)
    user = await _email_changes(request).revert(data.token, data.password_hash)
    await revoke_credentials(request.config_dict, user["id"])
    return success(await signed_in(request, user), "Email restored")


@documented(
    "Show a user's public profile",
    response=PublicProfile,
    errors=(404,),
    path_params={"id": "The user's id."},
)
async def public(request: web.Request) -> web.Response:
    """GET /api/users/{id}/public → exactly {id, username, first_name, last_name, avatar, created_at}."""
    user_id = path_id(request, "id", not_found=NotFound("User not found", code="user_not_found"))
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get_or_404(conn, user_id)
    return success(public_view(user, request.config_dict[settings_key]), "Public profile")
