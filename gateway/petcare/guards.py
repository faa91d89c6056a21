"""What 002's routes require of their caller, answered with the reference's words.

The reference is FastAPI: its bearer schemes answer a missing credential with "Not authenticated"
and a bad JWT with 401 "Could not validate credentials" (plus `WWW-Authenticate: Bearer`), and
clients of it compare those strings. Any 002 route that needs a signed-in user can use
`require_petcare_user`.
"""

from __future__ import annotations

import asyncpg
from aiohttp import web

from domain import api_keys
from domain.errors import Forbidden, Unauthenticated
from gateway.kernel.auth.guards import PROFILE_WRITE, has_ability, require_user
from gateway.kernel.auth.identity import SignedIn
from gateway.kernel.keys import pool_key

API_KEY_HEADER = "X-API-Key"
_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require_petcare_user(request: web.Request) -> SignedIn:
    """The signed-in caller (JWT, personal access token or session); 401 otherwise."""
    try:
        return require_user(request)
    except Unauthenticated:
        if request.headers.get("Authorization"):
            raise Unauthenticated(
                "Could not validate credentials", code="invalid_credentials", headers=_BEARER_CHALLENGE
            ) from None
        raise Unauthenticated("Not authenticated", code="unauthenticated", headers=_BEARER_CHALLENGE) from None


def require_petcare_account_writer(request: web.Request) -> SignedIn:
    """A caller allowed to change the account: a JWT or session, or a token with `profile:write`
    (or `*`); any other token is a 403 in 002's envelope."""
    identity = require_petcare_user(request)
    if not has_ability(identity, PROFILE_WRITE):
        raise Forbidden(
            f"This token does not have the required {PROFILE_WRITE} ability.",
            code="missing_ability",
            meta={"required": [PROFILE_WRITE]},
        )
    return identity


def require_petcare_abilities(request: web.Request, ability: str) -> SignedIn:
    """A caller whose credential covers `ability` (000's names, `read`, `create`, `update`,
    `delete`, since both contracts serve the same pets): JWTs and sessions always do; a token needs
    it (or `*`), else a 403 in 002's envelope."""
    identity = require_petcare_user(request)
    if not has_ability(identity, ability):
        raise Forbidden(
            f"This token does not have the required {ability} ability.",
            code="missing_ability",
            meta={"required": [ability]},
        )
    return identity


def presented_api_key(request: web.Request) -> str | None:
    """`X-API-Key: <key_id>:<secret>` (the document) or `Authorization: Bearer <key_id>:<secret>`
    (the reference). The document's header wins when both are sent."""
    header = request.headers.get(API_KEY_HEADER, "").strip()
    if header:
        return header
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def require_api_key(request: web.Request) -> asyncpg.Record:
    """The API key this request proves: 403 "Not authenticated" without one, 401 when it is wrong,
    unknown or revoked (the reference's statuses)."""
    presented = presented_api_key(request)
    if presented is None:
        raise Forbidden("Not authenticated", code="api_key_missing")
    key = await api_keys.verify(request.config_dict[pool_key], presented)
    if key is None:
        raise Unauthenticated("Invalid API key", code="invalid_api_key")
    return key
