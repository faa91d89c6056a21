"""Request throttles in Redis, shared by every gateway replica.

Fixed windows (INCR + EXPIRE in one round trip), as Laravel's limiter does: cheap and exact per
window. A throttled answer is a 429 in the contract's envelope with `Retry-After` and
`X-RateLimit-*`; allowed requests on throttled routes carry `X-RateLimit-*` too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from aiohttp import web

from domain.errors import RateLimited
from gateway.client_address import client_ip

__all__ = ["Limit", "Throttles", "Verdict", "add_ratelimit_headers", "client_ip", "verdict_key"]


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

    def headers(self, *, hyphenated: bool = False) -> dict[str, str]:
        limit, remaining, reset = str(self.limit), str(self.remaining), str(self.reset_at)
        h = {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": remaining, "X-RateLimit-Reset": reset}
        if hyphenated:
            # 001 documents `x-rate-limit-*`; header names ignore case but not the extra hyphen
            h.update({"X-Rate-Limit-Limit": limit, "X-Rate-Limit-Remaining": remaining, "X-Rate-Limit-Reset": reset})
        if not self.allowed:
            h["Retry-After"] = str(self.retry_after)
        return h


# The gateway middleware sets it to None first thing, so reading it never raises (a KeyError per
# request is measurable on the guest polls).
EVENTS_PREFIX = "/api/v1/"

verdict_key = web.RequestKey("ratelimit_verdict", "Verdict | None")


@dataclass(slots=True)
class _Window:
    """This gateway's view of one (limit, key) window."""

    window: int
    known: int = 0  # the shared count as Redis last reported it
    pending: int = 0  # admitted here, not yet added to Redis
    flushing: bool = False


# Unsynced local admissions are allowed up to this fraction of what is left under the limit.
LOCAL_SLACK_DIVISOR = 8
# Local admissions reach Redis (and so the other gateways) within this long.
FLUSH_AFTER_S = 0.05


class Throttles:
    """Fixed-window counters in Redis, with local batching far from the limit.

    A Redis round trip per request would cost a cheap endpoint a sixth of its throughput. While a
    key is far below its limit a gateway admits up to 1/8 of what is left locally and adds them to
    Redis in one INCRBY within 50 ms; close to the limit that slack reaches zero and every request
    goes to Redis, so the 429 comes exactly at the limit for a single gateway. With several
    gateways the shared count can overshoot by at most the slack they hold between flushes, which
    shrinks as the count nears the limit.
    """

    def __init__(self, redis: aioredis.Redis, *, prefix: str = "roost", clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._prefix = prefix
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}

    def _rkey(self, limit: Limit, key: str, window: int) -> str:
        return f"{self._prefix}:throttle:{limit.name}:{key}:{window}"

    async def _incr(self, limit: Limit, key: str, window: int, n: int) -> int:
        rkey = self._rkey(limit, key, window)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(rkey, n)
            pipe.expire(rkey, limit.window_s + 1)
            count, _ = await pipe.execute()
        return count

    async def hit(self, limit: Limit, key: str) -> Verdict:
        now = self._clock()
        window = int(now // limit.window_s)
        reset_at = (window + 1) * limit.window_s
        state = self._windows.get((limit.name, key))
        if state is None or state.window != window:
            if len(self._windows) > 100_000:  # old windows of idle keys: start over
                self._windows.clear()
            state = self._windows[(limit.name, key)] = _Window(window)
        slack = (limit.limit - state.known) // LOCAL_SLACK_DIVISOR
        if state.pending < slack:
            state.pending += 1
            count = state.known + state.pending
            if not state.flushing:
                state.flushing = True
                asyncio.get_running_loop().call_later(FLUSH_AFTER_S, self._schedule_flush, limit, key, state)
        else:
            n, state.pending = state.pending + 1, 0
            count = await self._incr(limit, key, window, n)
            state.known = max(state.known, count)
        return Verdict(
            allowed=count <= limit.limit,
            limit=limit.limit,
            remaining=max(0, limit.limit - count),
            reset_at=reset_at,
            retry_after=max(1, int(reset_at - now + 0.999)),
        )

    def _schedule_flush(self, limit: Limit, key: str, state: _Window) -> None:
        task = asyncio.get_running_loop().create_task(self._flush(limit, key, state))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _flush(self, limit: Limit, key: str, state: _Window) -> None:
        n, state.pending = state.pending, 0
        try:
            if n:
                state.known = max(state.known, await self._incr(limit, key, state.window, n))
        except Exception:
            # Redis unreachable: keep the admissions to add next time rather than forget them.
            state.pending += n
            raise
        finally:
            state.flushing = False

    async def enforce(self, request: web.Request, limit: Limit, key: str) -> Verdict:
        """Count this request against `limit` for `key`; 429 when over. Headers go on the answer."""
        verdict = await self.hit(limit, key)
        request[verdict_key] = verdict
        if not verdict.allowed:
            raise RateLimited(
                "Too Many Attempts.",
                meta={"limit": verdict.limit, "retry_after": verdict.retry_after, "window_s": limit.window_s},
                headers=verdict.headers(hyphenated=_hyphenated(request)),
            )
        return verdict

    async def reset(self, limit: Limit, key: str) -> None:
        window = int(self._clock() // limit.window_s)
        self._windows.pop((limit.name, key), None)
        await self._redis.delete(self._rkey(limit, key, window))


def add_ratelimit_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Allowed requests on throttled routes show their budget too (the gateway middleware calls
    this on every answer; throttled routes answer with plain, unprepared responses)."""
    verdict = request[verdict_key]
    if verdict is not None and verdict.allowed and not response.prepared:
        response.headers.update(verdict.headers(hyphenated=_hyphenated(request)))


def _hyphenated(request: web.Request) -> bool:
    # 001 lives at /api/v1 on every host; a plain prefix test, as this runs on every throttled answer
    return request.path.startswith(EVENTS_PREFIX)
