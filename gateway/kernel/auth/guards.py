"""What a route requires of its caller. Call these first thing in a handler."""

from __future__ import annotations

from aiohttp import web

from domain.errors import Forbidden, Unauthenticated
from gateway.kernel.auth.identity import Identity, SignedIn, identity_of

# What a token needs to change the account itself (email, profile, avatar, password, deletion):
# a token made for an integration must not be able to take the account over. Sessions and JWTs
# stand for the whole account and pass; see the README's token table for which tokens carry it.
PROFILE_WRITE = "profile:write"


def require_user(request: web.Request) -> SignedIn:
    identity = identity_of(request)
    if not isinstance(identity, SignedIn):
        raise Unauthenticated()
    return identity


def has_ability(identity: Identity, *abilities: str) -> bool:
    """Sessions and JWTs are not ability-limited; a token passes with any listed ability or `*`."""
    if identity.abilities is None:
        return True
    return "*" in identity.abilities or any(a in identity.abilities for a in abilities)


def require_abilities(request: web.Request, *abilities: str) -> SignedIn:
    identity = require_user(request)
    if not has_ability(identity, *abilities):
        raise Forbidden(
            f"This personal access token does not have the required {abilities[0]} ability.",
            code="missing_ability",
            meta={"required": list(abilities)},
        )
    return identity


def require_session(request: web.Request) -> SignedIn:
    """Browser-session-only routes (000's token management): any token is refused with 403."""
    identity = require_user(request)
    if identity.mode != "session":
        raise Forbidden("This action is only available from a signed-in browser session.", code="session_required")
    return identity
