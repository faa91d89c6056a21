"""The `state` of a browser OAuth round trip: random, kept in Redis for a few minutes, usable once,
and (for sign-in) bound to the browser that started it.

It carries what the round trip is for (sign in, or link to a given user) and the redirect_uri the
authorize request named, which the code exchange must repeat. Only its SHA-256 names the key, so
the store never holds a live state value.

Why the binding: without it, anyone can start a sign-in as themselves, stop at the callback URL
and get a victim's browser to open it (login CSRF): the victim ends up holding an `api_token`
cookie for the attacker's account and works, uploads and saves inside it. So the redirect also
sets a short-lived HttpOnly cookie with a random nonce, limited to the provider's sign-in routes
(`/api/auth/{provider}/`: the callback, and the redirect, which reuses it for a second tab), and the
state records an HMAC of that nonce (under APP_KEY, so Redis never holds the nonce itself). A
callback whose browser does not send the same nonce is refused. The link flow needs no cookie: its
state names the signed-in user, and the callback must come from that same user.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

import orjson
import redis.asyncio as aioredis
from aiohttp import web

from domain.errors import BadRequest, Forbidden
from domain.tokens import sha256_hex

# Long enough to read a consent screen and sign in to the provider; short enough to go stale.
STATE_TTL_S = 600
STATE_BYTES = 32
MAX_STATE_CHARS = 128
BINDING_COOKIE = "oauth_state_binding"
BINDING_BYTES = 32
# token_urlsafe(32) is 43 characters; anything else in the cookie is not one of ours
BINDING_CHARS = 43

Intent = Literal["login", "link"]
# the intents whose state must come back from the browser that started the flow
BOUND_INTENTS: frozenset[str] = frozenset({"login"})


@dataclass(frozen=True)
class OAuthState:
    provider: str
    intent: Intent
    redirect_uri: str
    user_id: int | None = None


def _key(prefix: str, state: str) -> str:
    return f"{prefix}:oauth:state:{sha256_hex(state)}"


def invalid_state() -> BadRequest:
    return BadRequest("Invalid or expired OAuth state.", code="oauth_invalid_state")


def other_browser() -> Forbidden:
    return Forbidden(
        "This sign-in was started in another browser (or its cookie expired). Start the sign-in again.",
        code="oauth_state_other_browser",
    )


def sent_binding(request: web.Request) -> str | None:
    """The binding nonce this browser sent, if it is one of ours in shape (a client can send any
    bytes in a cookie; only these ever reach the HMAC)."""
    held = request.cookies.get(BINDING_COOKIE, "")
    if len(held) == BINDING_CHARS and held.isascii() and held.replace("-", "").replace("_", "").isalnum():
        return held
    return None


def binding_nonce(request: web.Request) -> str:
    """The nonce to bind a new state to: the one the browser already holds (so sign-ins started in
    two tabs both work), or a new one."""
    return sent_binding(request) or secrets.token_urlsafe(BINDING_BYTES)


def set_binding_cookie(response: web.StreamResponse, nonce: str, *, path: str, secure: bool) -> None:
    # SameSite=Lax still rides on the provider's top-level redirect back to the callback (a GET),
    # and never on a cross-site subrequest; the path keeps it off every other route.
    response.set_cookie(
        BINDING_COOKIE, nonce, max_age=STATE_TTL_S, path=path, httponly=True, samesite="Lax", secure=secure
    )


class OAuthStates:
    def __init__(
        self, redis: aioredis.Redis, *, binding_key: str, prefix: str = "roost", ttl_s: int = STATE_TTL_S
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s
        self._binding_key = binding_key.encode()

    def _proof(self, nonce: str) -> str:
        return hmac.new(self._binding_key, b"oauth-state-binding:" + nonce.encode(), hashlib.sha256).hexdigest()

    async def issue(
        self,
        provider: str,
        intent: Intent,
        redirect_uri: str,
        user_id: int | None = None,
        *,
        binding: str | None = None,
    ) -> str:
        """A new state; `binding` (the browser's nonce) is required for the bound intents."""
        if intent in BOUND_INTENTS and not binding:
            raise ValueError(f"a {intent} state must be bound to a browser")
        state = secrets.token_urlsafe(STATE_BYTES)
        record = {
            "provider": provider,
            "intent": intent,
            "redirect_uri": redirect_uri,
            "user_id": user_id,
            "binding": self._proof(binding) if binding else None,
        }
        await self.redis.set(_key(self.prefix, state), orjson.dumps(record), ex=self.ttl_s)
        return state

    async def consume(
        self, state: str | None, *, provider: str, intent: Intent, binding: str | None = None
    ) -> OAuthState:
        """The state's record, deleted in the same step so a replay finds nothing (400 otherwise).

        A bound state whose browser sends no nonce, or another one, is a 403; it is used up all
        the same, so a state planted on a victim cannot be tried twice.
        """
        if not state or len(state) > MAX_STATE_CHARS:
            raise invalid_state()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(_key(self.prefix, state))
            pipe.delete(_key(self.prefix, state))
            raw, _ = await pipe.execute()
        if raw is None:
            raise invalid_state()
        record = orjson.loads(raw)
        if record.get("provider") != provider or record.get("intent") != intent:
            raise invalid_state()
        expected = record.get("binding")
        if intent in BOUND_INTENTS or expected is not None:
            sent = self._proof(binding) if binding else ""
            if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
                raise other_browser()
        return OAuthState(
            provider=record["provider"],
            intent=record["intent"],
            redirect_uri=record["redirect_uri"],
            user_id=record.get("user_id"),
        )
