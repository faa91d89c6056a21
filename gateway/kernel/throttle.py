"""Request throttles in Redis, shared by every gateway replica.

Fixed windows (INCR + EXPIRE in one round trip), as Laravel's limiter does: cheap and exact per
window. A throttled answer is a 429 in the contract's envelope with `Retry-After` and
`X-RateLimit-*`; allowed requests on throttled routes carry `X-RateLimit-*` too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from aiohttp import web

from domain.errors import RateLimited

__all__ = ["Limit", "Throttles", "Verdict", "add_ratelimit_headers", "verdict_key"]


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


EVENTS_PREFIX = "/api/v1/"

# The gateway middleware sets it to None first thing, so reading it never raises (a KeyError per
# request is measurable on the guest polls).
verdict_key: web.RequestKey[Verdict | None] = web.RequestKey("ratelimit_verdict")


@dataclass(slots=True)
class _Window:
    """This gateway's view of one (limit, key) window.

    Units are hits in arrival order. Each is in exactly one place: reported by Redis (`known`, which
    also holds the other gateways' hits), sent and awaiting Redis's answer (`inflight`), or not
    sent yet (`unsent`: admitted here, or waiting in `waiters` for Redis to say where it landed).
    """

    window: int
    known: int = 0  # the shared count as Redis last reported it
    inflight: int = 0  # sent to Redis in the INCRBY now under way, not yet acknowledged
    unsent: int = 0  # counted here, not yet sent (local admissions and waiters alike)
    local: int = 0  # admitted here without Redis's word and not yet acknowledged by it
    waiters: list[tuple[int, asyncio.Future[int]]] = field(default_factory=list)  # (offset in unsent, its count)
    sending: bool = False  # one INCRBY per window at a time, so counts land in arrival order
    flush_due: bool = False  # the flush delay has passed: send the local admissions
    flush_timer: bool = False


# Unacknowledged local admissions are allowed up to this fraction of what is left under the limit.
LOCAL_SLACK_DIVISOR = 8
# Local admissions reach Redis (and so the other gateways) within this long.
FLUSH_AFTER_S = 0.05


class Throttles:
    """Fixed-window counters in Redis, with local batching far from the limit.

    A Redis round trip per request would cost a cheap endpoint a sixth of its throughput. While a
    key is far below its limit a gateway admits locally, and adds those hits to Redis in one
    INCRBY within 50 ms. A hit it cannot admit locally waits for Redis to place it: all hits not
    yet sent go in one INCRBY, and each learns its own position from the reply, so a burst costs
    one round trip, not one per request. At most one INCRBY per window is in flight per gateway;
    hits arriving meanwhile go in the next.

    Exactness. Every hit counts from the moment it arrives (`known + inflight + unsent`), so a
    burst cannot be admitted against a count that its own in-flight increments have not reached
    yet. A local admission needs the hits admitted locally and not yet acknowledged to stay within
    1/8 of what this gateway believes is left, so it never admits past the limit on its own count;
    a hit Redis placed is allowed when its position is within the limit. On one gateway the Redis
    count is exactly its own arrival order, so exactly `limit` hits per window are allowed
    (below 8 left, every hit asks Redis).

    Several gateways: Redis-placed hits stay exact, and only local admissions can land past the
    limit, when other gateways' hits reached Redis after this gateway last heard from it. A
    gateway's unacknowledged local admissions never exceed (limit - its known count) / 8, and its
    next reply past the limit stops local admission, so each gateway overshoots a window by at
    most floor(limit / 8): with G gateways, at most limit + G * floor(limit / 8) hits per window
    (limits under 8 stay exact).
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
        counted = state.known + state.inflight + state.unsent
        if LOCAL_SLACK_DIVISOR * (state.local + 1) <= limit.limit - counted:
            state.unsent += 1
            state.local += 1
            count = counted + 1
            if not state.flush_timer:
                state.flush_timer = True
                asyncio.get_running_loop().call_later(FLUSH_AFTER_S, self._flush_due, limit, key, state)
        else:
            placed = asyncio.get_running_loop().create_future()
            state.waiters.append((state.unsent, placed))
            state.unsent += 1
            if not state.sending:
                self._start_sending(limit, key, state)
            count = await placed
        return Verdict(
            allowed=count <= limit.limit,
            limit=limit.limit,
            remaining=max(0, limit.limit - count),
            reset_at=reset_at,
            retry_after=max(1, int(reset_at - now + 0.999)),
        )

    def _flush_due(self, limit: Limit, key: str, state: _Window) -> None:
        state.flush_timer = False
        state.flush_due = True
        if state.unsent and not state.sending:
            self._start_sending(limit, key, state)

    def _start_sending(self, limit: Limit, key: str, state: _Window) -> None:
        # A task of its own, so a cancelled request cannot cut short an INCRBY others wait on.
        state.sending = True
        task = asyncio.get_running_loop().create_task(self._send(limit, key, state))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _send(self, limit: Limit, key: str, state: _Window) -> None:
        """INCRBY everything unsent, one batch at a time, until no waiter or due flush is left."""
        sent = False
        try:
            while state.unsent and (state.waiters or state.flush_due):
                state.flush_due = False
                n, waiters = state.unsent, state.waiters
                local = n - len(waiters)
                state.unsent, state.waiters, state.inflight = 0, [], state.inflight + n
                try:
                    count = await self._incr(limit, key, state.window, n)
                except BaseException as exc:
                    state.inflight -= n
                    # The local admissions (this batch's and those since) were let in: keep them
                    # to add next time. The waiting hits were not: they fail with the error, those
                    # queued behind them too (nothing would send theirs now).
                    failed, state.waiters = waiters + state.waiters, []
                    state.unsent = local + state.unsent - (len(failed) - len(waiters))
                    error = exc if isinstance(exc, Exception) else ConnectionError("throttle update cancelled")
                    for _, placed in failed:
                        if not placed.done():
                            placed.set_exception(error)
                    raise
                sent = True
                state.inflight -= n
                state.local -= local
                state.known = max(state.known, count)
                first = count - n  # the batch holds positions first+1 .. count, in arrival order
                for offset, placed in waiters:
                    if not placed.done():
                        placed.set_result(first + offset + 1)
        finally:
            state.sending = False
            # After a failure the next local admission schedules the retry: no timer loop per key
            # while Redis is down.
            if sent and state.unsent and not state.flush_timer:
                state.flush_timer = True
                asyncio.get_running_loop().call_later(FLUSH_AFTER_S, self._flush_due, limit, key, state)

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
