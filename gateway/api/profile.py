"""003's profile endpoints: GET/PUT/DELETE /api/user and GET /api/users/{id}/public."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import AfterValidator, BaseModel, Field

from domain.errors import Invalid, NotFound
from gateway.api import avatar
from gateway.api.credentials import FORM_CONFIG, Email, with_message
from gateway.api.envelope import success
from gateway.api.user_views import public_view, user_view
from gateway.auth.guards import PROFILE_WRITE, require_abilities, require_user
from gateway.keys import accounts_key, pool_key, settings_key
from gateway.validation import DEFAULT_MESSAGE, parse, path_id
from storage import users as users_sql

AVATAR_URL_MAX = 2048  # the column's limit
BIGINT_MAX = 2**63 - 1


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("The avatar format is invalid.")
    return value


# Every field is Laravel's `sometimes`: absent is fine, present must be a string (null is not).
Name = Annotated[str, Field(min_length=1, max_length=255)]


class ProfileUpdate(BaseModel):
    model_config = FORM_CONFIG

    username: Name = None  # type: ignore[assignment]
    first_name: Name = None  # type: ignore[assignment]
    last_name: Name = None  # type: ignore[assignment]
    email: Email = None  # type: ignore[assignment]
    avatar: Annotated[str, Field(max_length=AVATAR_URL_MAX), AfterValidator(_url)] = None  # type: ignore[assignment]


async def show(request: web.Request) -> web.Response:
    """GET /api/user → 200 "User profile" (data is the user)."""
    identity = require_user(request)
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get_or_404(conn, identity.user_id)
    return success(user_view(user, request.config_dict[settings_key]), "User profile")


async def update(request: web.Request) -> web.Response:
    """PUT /api/user → 200 "Profile updated"; email and username unique except for oneself."""
    identity = require_abilities(request, PROFILE_WRITE)
    data = await parse(request, ProfileUpdate)
    fields = data.model_dump(include=data.model_fields_set)
    settings = request.config_dict[settings_key]
    async with request.config_dict[pool_key].acquire() as conn:
        before = await users_sql.get_or_404(conn, identity.user_id)
    try:
        user = await request.config_dict[accounts_key].update_user(identity.user_id, fields)
    except Invalid as exc:
        raise with_message(exc, DEFAULT_MESSAGE) from exc
    if "avatar" in fields and before["avatar"] != user["avatar"]:
        # an uploaded file replaced by a URL is no longer reachable from anything
        await avatar.remove_stored(settings.media_dir, identity.user_id, before["avatar"])
    return success(user_view(user, settings), "Profile updated")


async def destroy(request: web.Request) -> web.Response:
    """DELETE /api/user → 200 "Account deleted"; every token of the account stops working at once."""
    identity = require_abilities(request, PROFILE_WRITE)
    await request.config_dict[accounts_key].delete_user(identity.user_id)
    await avatar.remove_all(request.config_dict[settings_key].media_dir, identity.user_id)
    return success(None, "Account deleted")


async def public(request: web.Request) -> web.Response:
    """GET /api/users/{id}/public → exactly {id, username, first_name, last_name, avatar, created_at}."""
    user_id = path_id(request, "id", not_found=NotFound("User not found", code="user_not_found"))
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get_or_404(conn, user_id)
    return success(public_view(user, request.config_dict[settings_key]), "Public profile")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/user", show)
    app.router.add_put("/user", update)
    app.router.add_delete("/user", destroy)
    app.router.add_get("/users/{id}/public", public)
