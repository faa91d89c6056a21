"""Request throttles in Redis, shared by every gateway replica.

Fixed windows (INCR + EXPIRE in one round trip), as Laravel's limiter does: cheap and exact per
window. A throttled answer is a 429 in the contract's envelope with `Retry-After` and
`X-RateLimit-*`; allowed requests on throttled routes carry `X-RateLimit-*` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from aiohttp import web

from domain.errors import RateLimited


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    limit: int
    window_s: int


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # unix seconds
    retry_after: int

    def headers(self) -> dict[str, str]:
        h = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }
        if not self.allowed:
            h["Retry-After"] = str(self.retry_after)
        return h


verdict_key = web.RequestKey("ratelimit_verdict", Verdict)


class Throttles:
    def __init__(self, redis: aioredis.Redis, *, prefix: str = "roost", clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._prefix = prefix
        self._clock = clock

    async def hit(self, limit: Limit, key: str) -> Verdict:
        now = self._clock()
        window = int(now // limit.window_s)
        reset_at = (window + 1) * limit.window_s
        rkey = f"{self._prefix}:throttle:{limit.name}:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(rkey)
            pipe.expire(rkey, limit.window_s + 1)
            count, _ = await pipe.execute()
        allowed = count <= limit.limit
        return Verdict(
            allowed=allowed,
            limit=limit.limit,
            remaining=max(0, limit.limit - count),
            reset_at=reset_at,
            retry_after=max(1, int(reset_at - now + 0.999)),
        )

    async def enforce(self, request: web.Request, limit: Limit, key: str) -> Verdict:
        """Count this request against `limit` for `key`; 429 when over. Headers go on the answer."""
        verdict = await self.hit(limit, key)
        request[verdict_key] = verdict
        if not verdict.allowed:
            raise RateLimited(
                "Too Many Attempts.",
                meta={"limit": verdict.limit, "retry_after": verdict.retry_after, "window_s": limit.window_s},
                headers=verdict.headers(),
            )
        return verdict

    async def reset(self, limit: Limit, key: str) -> None:
        window = int(self._clock() // limit.window_s)
        await self._redis.delete(f"{self._prefix}:throttle:{limit.name}:{key}:{window}")


async def add_ratelimit_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: allowed requests on throttled routes show their budget too."""
    verdict = request.get(verdict_key)
    if verdict is not None and verdict.allowed:
        response.headers.update(verdict.headers())


def client_ip(request: web.Request) -> str:
    # The peer address; behind a proxy, aiohttp's forwarded-header handling sets `remote`.
    return request.remote or "unknown"
