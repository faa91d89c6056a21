"""The `state` of a browser OAuth round trip: random, kept in Redis for a few minutes, usable once.

It carries what the round trip is for (sign in, or link to a given user) and the redirect_uri the
authorize request named, which the code exchange must repeat. Only its SHA-256 names the key, so
the store never holds a live state value.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

import orjson
import redis.asyncio as aioredis

from domain.errors import BadRequest
from domain.tokens import sha256_hex

# Long enough to read a consent screen and sign in to the provider; short enough to go stale.
STATE_TTL_S = 600
STATE_BYTES = 32
MAX_STATE_CHARS = 128

Intent = Literal["login", "link"]


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


class OAuthStates:
    def __init__(self, redis: aioredis.Redis, *, prefix: str = "roost", ttl_s: int = STATE_TTL_S) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s

    async def issue(self, provider: str, intent: Intent, redirect_uri: str, user_id: int | None = None) -> str:
        state = secrets.token_urlsafe(STATE_BYTES)
        record = {"provider": provider, "intent": intent, "redirect_uri": redirect_uri, "user_id": user_id}
        await self.redis.set(_key(self.prefix, state), orjson.dumps(record), ex=self.ttl_s)
        return state

    async def consume(self, state: str | None, *, provider: str, intent: Intent) -> OAuthState:
        """The state's record, deleted in the same step so a replay finds nothing (400 otherwise)."""
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
        return OAuthState(
            provider=record["provider"],
            intent=record["intent"],
            redirect_uri=record["redirect_uri"],
            user_id=record.get("user_id"),
        )
