"""000's account endpoints: `GET /api/users/me` and the session-only token management behind
/developer (`/api/user/api-tokens`).

Token management is for a signed-in person in a browser: any personal access token is refused
(403), whatever its abilities, so a leaked token cannot mint or widen others. The list shows the
tokens a person manages (`api`, made here, and `gpt`, made by the GPT bridge), not the per-login
tokens other contracts issue; the same tokens are the only ones PUT and DELETE can reach
(domain/token_management.py, which the /developer page uses too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints, field_validator

from domain.errors import Invalid, NotFound, Unauthenticated
from domain.token_management import (
    AVAILABLE_PERMISSIONS,
    DEFAULT_PERMISSIONS,
    managed_token,
    managed_tokens,
    valid_permissions,
)
from gateway.kernel import api_envelope as envelope
from gateway.kernel.account_views import ApiTokenPublic, UserPublic, api_token_public, user_public
from gateway.kernel.auth.guards import require_abilities, require_session
from gateway.kernel.keys import accounts_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse, path_id
from gateway.pethealth.openapi import READ, SESSION_READ, SESSION_WRITE
from gateway.pethealth.pet_schemas import Out
from storage import tokens as tokens_sql
from storage import users as users_sql

NO_STORE = {"Cache-Control": "no-store"}
NO_STORE_DOC = {"Cache-Control": "`no-store`: the answer lists or carries secrets' metadata."}
TOKEN_ID = {"token_id": "The token's id; a token this person does not manage is a 404."}
SESSION_ONLY = "Browser session only: any personal access token or JWT is a 403, whatever its abilities."
Permission = Literal[
    "pet:read", "pet:write", "health:read", "health:write", "profile:read", "create", "read", "update", "delete"
]


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


class TokenList(Out):
    tokens: list[ApiTokenPublic] = Field(description="The tokens made here and by the GPT bridge, newest first.")
    available_permissions: list[Permission] = Field(description="Every ability a token may get, in this order.")
    default_permissions: list[Permission] = Field(description="What a token gets when none are asked for.")


class TokenCreated(Out):
    token: ApiTokenPublic
    plain_text_token: str = Field(
        description="The secret, shown this once (Bearer `<id>|<secret>` or the secret alone)."
    )


class TokenUpdated(Out):
    token: ApiTokenPublic


class TokenRevoked(Out):
    revoked: Literal[True]


def _token_id(request: web.Request) -> int:
    return path_id(request, "token_id")


@documented("The signed-in user", response=UserPublic, errors=(403,), auth=READ)
async def users_me(request: web.Request) -> web.Response:
    """GET /api/users/me (token ability `read`)."""
    identity = require_abilities(request, "read")
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get(conn, identity.user_id)
    if user is None:  # deleted between authentication and now
        raise Unauthenticated()
    data = user_public(user, request.config_dict[settings_key])
    return envelope.success(data.model_dump(mode="json"), "User profile")


@documented(
    "List the caller's API tokens",
    description=SESSION_ONLY,
    response=TokenList,
    errors=(403,),
    auth=SESSION_READ,
    headers_out=NO_STORE_DOC,
)
async def list_tokens(request: web.Request) -> web.Response:
    identity = require_session(request)
    rows = await managed_tokens(request.config_dict[pool_key], identity.user_id)
    now = datetime.now(UTC)
    # validated, not constructed: the permission lists are checked against `Permission`
    data = TokenList.model_validate(
        {
            "tokens": [api_token_public(r, now) for r in rows],
            "available_permissions": AVAILABLE_PERMISSIONS,
            "default_permissions": DEFAULT_PERMISSIONS,
        }
    )
    return envelope.success(data.model_dump(mode="json"), "API tokens", headers=NO_STORE)


@documented(
    "Create an API token",
    description=SESSION_ONLY + " Unknown permissions are dropped; none given: `read` only.",
    response=TokenCreated,
    status=201,
    body=TokenCreate,
    errors=(403,),
    auth=SESSION_WRITE,
    headers_out=NO_STORE_DOC,
)
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
    data = TokenCreated(token=api_token_public(issued.record), plain_text_token=issued.secret)
    return envelope.success(data.model_dump(mode="json"), "API token created", status=201, headers=NO_STORE)


@documented(
    "Change an API token's permissions",
    description=SESSION_ONLY + " Unknown permissions are dropped.",
    response=TokenUpdated,
    body=TokenUpdate,
    errors=(403, 404),
    auth=SESSION_WRITE,
    path_params=TOKEN_ID,
)
async def update_token(request: web.Request) -> web.Response:
    identity = require_session(request)
    token_id = _token_id(request)
    body = await parse(request, TokenUpdate)
    async with request.config_dict[pool_key].acquire() as conn:
        await managed_token(conn, identity.user_id, token_id)
        row = await tokens_sql.set_abilities(conn, identity.user_id, token_id, valid_permissions(body.permissions))
    if row is None:  # revoked meanwhile
        raise NotFound()
    # Every gateway drops its cached copy, so the old abilities stop working at once.
    await request.config_dict[accounts_key].token_abilities_changed(row["token_hash"])
    return envelope.success(TokenUpdated(token=api_token_public(row)).model_dump(mode="json"), "API token updated")


@documented(
    "Revoke an API token",
    description=SESSION_ONLY,
    response=TokenRevoked,
    errors=(403, 404),
    auth=SESSION_WRITE,
    path_params=TOKEN_ID,
)
async def revoke_token(request: web.Request) -> web.Response:
    identity = require_session(request)
    token_id = _token_id(request)
    async with request.config_dict[pool_key].acquire() as conn:
        await managed_token(conn, identity.user_id, token_id)
    if not await request.config_dict[accounts_key].revoke_token(identity.user_id, token_id):
        raise NotFound()
    return envelope.success(TokenRevoked(revoked=True).model_dump(mode="json"), "API token revoked")
