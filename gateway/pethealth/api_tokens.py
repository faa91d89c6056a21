"""000's account endpoints: `GET /api/users/me` and the session-only token management behind
/developer (`/api/user/api-tokens`).

Token management is for a signed-in person in a browser: any personal access token is refused
(403), whatever its abilities, so a leaked token cannot mint or widen others. The list shows the
tokens a person manages (`api`, made here, and `gpt`, made by the GPT bridge), not the per-login
tokens other contracts issue; the same tokens are the only ones PUT and DELETE can reach.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, StringConstraints, field_validator

from domain.errors import Invalid, NotFound, Unauthenticated
from gateway.kernel import api_envelope as envelope
from gateway.kernel.account_views import user_view
from gateway.kernel.auth.guards import require_abilities, require_session
from gateway.kernel.keys import accounts_key, pool_key, settings_key
from gateway.kernel.timeutil import iso_z
from gateway.kernel.validation import parse, path_id
from storage import tokens as tokens_sql
from storage import users as users_sql

# Jetstream's permission list, in its order: clients render the checkboxes from it.
AVAILABLE_PERMISSIONS = (
    "pet:read",
    "pet:write",
    "health:read",
    "health:write",
    "profile:read",
    "create",
    "read",
    "update",
    "delete",
)
DEFAULT_PERMISSIONS = ("read",)
# What a person manages on /developer; 'login', 'oauth' and 'tenant' tokens belong to their flows.
MANAGED_KINDS = frozenset({"api", "gpt"})
NO_STORE = {"Cache-Control": "no-store"}


def valid_permissions(given: list[str]) -> list[str]:
    """The known permissions among `given`, in the order given, each once; unknown ones dropped."""
    seen: list[str] = []
    for p in given:
        if p in AVAILABLE_PERMISSIONS and p not in seen:
            seen.append(p)
    return seen


# Largest unit first, as Carbon picks it (a month is 30 days here; "about" is all it promises).
_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def time_ago(moment: datetime | None, now: datetime | None = None) -> str | None:
    """Carbon's diffForHumans wording: "3 minutes ago", "1 day ago"; None when never."""
    if moment is None:
        return None
    now = now or datetime.now(UTC)
    # at least a second: a use just now (or a clock a little ahead of ours) reads "1 second ago"
    seconds = max(int((now - moment).total_seconds()), 1)
    unit, size = next((u, s) for u, s in _UNITS if seconds >= s)
    n = seconds // size
    return f"{n} {unit}{'' if n == 1 else 's'} ago"


def token_view(row: asyncpg.Record, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "abilities": list(row["abilities"] or []),
        "created_at": iso_z(row["created_at"]),
        "last_used_at": iso_z(row["last_used_at"]) if row["last_used_at"] else None,
        "last_used_ago": time_ago(row["last_used_at"], now),
    }


async def managed_tokens(pool: asyncpg.Pool, user_id: int) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        rows = await tokens_sql.list_for_user(conn, user_id)
    return [r for r in rows if r["kind"] in MANAGED_KINDS]


def _permissions_list(value: Any) -> Any:
    if value is None:
        return value
    if not isinstance(value, list):
        raise ValueError("The permissions must be an array.")
    if not all(isinstance(p, str) for p in value):
        raise ValueError("Each permission must be a string.")
    return value


class TokenCreate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    # absent (or null): the documented default, read only
    permissions: list[str] | None = None

    @field_validator("permissions", mode="before")
    @classmethod
    def _is_list_of_strings(cls, value: Any) -> Any:
        return _permissions_list(value)


class TokenUpdate(BaseModel):
    permissions: list[str]

    @field_validator("permissions", mode="before")
    @classmethod
    def _is_list_of_strings(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("The permissions field is required.")
        return _permissions_list(value)


def _token_id(request: web.Request) -> int:
    return path_id(request, "token_id")


async def _managed_token(conn: asyncpg.Connection, user_id: int, token_id: int) -> asyncpg.Record:
    """The caller's own managed token; 404 for unknown ids and other people's tokens alike."""
    row = await tokens_sql.get_for_user(conn, user_id, token_id)
    if row is None or row["kind"] not in MANAGED_KINDS:
        raise NotFound()
    return row


async def users_me(request: web.Request) -> web.Response:
    identity = require_abilities(request, "read")
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get(conn, identity.user_id)
    if user is None:  # deleted between authentication and now
        raise Unauthenticated()
    return envelope.success(user_view(user, request.config_dict[settings_key]), "User profile")


async def list_tokens(request: web.Request) -> web.Response:
    identity = require_session(request)
    rows = await managed_tokens(request.config_dict[pool_key], identity.user_id)
    now = datetime.now(UTC)
    data = {
        "tokens": [token_view(r, now) for r in rows],
        "available_permissions": list(AVAILABLE_PERMISSIONS),
        "default_permissions": list(DEFAULT_PERMISSIONS),
    }
    return envelope.success(data, "API tokens", headers=NO_STORE)


async def create_token(request: web.Request) -> web.Response:
    identity = require_session(request)
    body = await parse(request, TokenCreate)
    abilities = valid_permissions(body.permissions) if body.permissions is not None else list(DEFAULT_PERMISSIONS)
    # The unique index covers 'api' tokens (and so races); this also keeps a new token from
    # taking the name of a GPT connector token shown in the same list.
    if any(r["name"] == body.name for r in await managed_tokens(request.config_dict[pool_key], identity.user_id)):
        message = "The name has already been taken."
        raise Invalid(message, code="already_taken", fields={"name": [message]})
    issued = await request.config_dict[accounts_key].issue_token(
        identity.user_id, name=body.name, kind="api", abilities=abilities
    )
    data = {"token": token_view(issued.record), "plain_text_token": issued.secret}
    return envelope.success(data, "API token created", status=201, headers=NO_STORE)


async def update_token(request: web.Request) -> web.Response:
    identity = require_session(request)
    token_id = _token_id(request)
    body = await parse(request, TokenUpdate)
    async with request.config_dict[pool_key].acquire() as conn:
        await _managed_token(conn, identity.user_id, token_id)
        row = await tokens_sql.set_abilities(conn, identity.user_id, token_id, valid_permissions(body.permissions))
    if row is None:  # revoked meanwhile
        raise NotFound()
    # Every gateway drops its cached copy, so the old abilities stop working at once.
    await request.config_dict[accounts_key].token_abilities_changed(row["token_hash"])
    return envelope.success({"token": token_view(row)}, "API token updated")


async def revoke_token(request: web.Request) -> web.Response:
    identity = require_session(request)
    token_id = _token_id(request)
    async with request.config_dict[pool_key].acquire() as conn:
        await _managed_token(conn, identity.user_id, token_id)
    if not await request.config_dict[accounts_key].revoke_token(identity.user_id, token_id):
        raise NotFound()
    return envelope.success({"revoked": True}, "API token revoked")
