"""The caller of a request, as resolved once by the auth middleware."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web

# How the request log records it: a token (PAT, JWT or the api_token cookie), a browser session,
# or nobody.
AuthMode = Literal["pat", "session", "none"]


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: int | None
    mode: AuthMode
    # personal access token id (None for JWTs and sessions)
    token_id: int | None = None
    # None: not constrained by abilities (sessions, JWTs); else the token's abilities
    abilities: tuple[str, ...] | None = None
    is_premium: bool = False
    is_admin: bool = False
    email_verified: bool = False
    # 'bearer' | 'jwt' | 'cookie' | 'session' | None: where the credential came from
    via: str | None = None
    session_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True, slots=True)
class SignedIn(Identity):
    """A caller with an account: what the auth middleware builds for every credential it accepts,
    so the guards narrow with one isinstance and a handler's `identity.user_id` is an int."""

    user_id: int


ANONYMOUS = Identity(user_id=None, mode="none")

identity_key = web.RequestKey("identity", Identity)


def identity_of(request: web.Request) -> Identity:
    return request.get(identity_key, ANONYMOUS)
