"""000's daily API quota: per user per UTC day, held by the "quota" shard actors, spent from leases.

Counted only when allowed, for authenticated requests only; OPTIONS and premium users are never
counted. The limit is the runtime setting `api_daily_quota_regular`, read on every request from
this gateway's copy of the settings, so a change applies within a poll interval.

The gateway takes units from the user's day key (`quota:<user_id>:<YYYY-MM-DD>`) in leases
(actors/leases.py): a request waits on the actor only when its lease is empty. The shard records
every grant in PostgreSQL before answering, so a crash of a shard or of this gateway can leave
leased units unspent, never let more than the limit through. A lease that found the budget spent
asks again after `EXHAUSTED_TTL_S` (a raised limit shows up then); a new UTC day is a new key.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

from aiohttp import web

from actors.client import ShardClient
from actors.leases import LeaseClient
from actors.quota import quota_key
from domain.clock import SYSTEM_CLOCK, Clock
from domain.errors import RateLimited, RoostError, ServiceUnavailable
from domain.system_settings import RuntimeSettings
from gateway.kernel.keys import actors_key, clock_key, runtime_settings_key
from gateway.pethealth.error_schemas import PetHealthErrorCode

log = logging.getLogger(__name__)

# One lease covers a burst of a busy user's requests; small next to the default 1000/day, so what
# a crash can strand (at most a lease per gateway) is a small share of a day's quota.
LEASE_SIZE = 16
REFILL_BELOW = 4
# Ceiling of an adaptive lease (see DailyQuota.take)
MAX_LEASE = 1024
# How long an exhausted lease is believed exhausted before the actor is asked again.
EXHAUSTED_TTL_S = 1.0
# A shard that died mid-call restarts within a second or two; taking again is safe (a grant lost
# with the dead call is under-use, never over-grant). Past these, the request gets a 503.
RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)

QUOTA_ERROR_CODE = PetHealthErrorCode.API_DAILY_QUOTA_EXCEEDED


def next_midnight(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def exceeded(limit: int, now: datetime) -> RateLimited:
    """000's over-quota answer (the reference's body: used = limit, remaining 0)."""
    reset = next_midnight(now.date())
    message = f"Daily API quota reached ({limit} requests/day). Quota resets at {reset:%Y-%m-%d %H:%M:%S} UTC."
    return RateLimited(
        message,
        code="api_daily_quota_exceeded",
        data={
            "error_code": QUOTA_ERROR_CODE,
            "quota": {"limit": limit, "used": limit, "remaining": 0, "reset_at_utc": reset.isoformat()},
        },
        headers={"Retry-After": str(max(1, math.ceil((reset - now).total_seconds())))},
    )


class DailyQuota:
    def __init__(
        self,
        client: ShardClient,
        runtime: RuntimeSettings,
        *,
        clock: Clock = SYSTEM_CLOCK,
        lease_size: int = LEASE_SIZE,
        refill_below: int = REFILL_BELOW,
        exhausted_ttl_s: float = EXHAUSTED_TTL_S,
    ) -> None:
        # the lease's "exhausted" belief lasts EXHAUSTED_TTL_S of the clock's monotonic time
        self._leases = LeaseClient(
            client,
            "take_counted",  # grants answer with the day's total, for X-Quota-Remaining
            lease_size=lease_size,
            refill_below=refill_below,
            exhausted_ttl_s=exhausted_ttl_s,
            clock=clock.monotonic,
        )
        self._lease_size = lease_size
        self._runtime = runtime
        # the UTC day (the key) and the reset time come from the clock's wall time; bound once,
        # as this runs per request
        self._time = clock.time
        self._day: date | None = None
        self._reset = ""  # X-Quota-Reset: the next UTC midnight of `_day`, as Unix time
        # today's key per user (formatting a date per request is measurable on this path)
        self._day_keys: dict[int, str] = {}
        self._sized_for: int | None = None

    @property
    def limit(self) -> int:
        return self._runtime.get("api_daily_quota_regular")

    def _key(self, user_id: int, day: date) -> str:
        if day != self._day:
            # Yesterday's leases are worthless: drop them instead of keeping one per user forever.
            for stale in self._day_keys.values():
                self._leases.forget(stale)
            self._day, self._day_keys = day, {}
            self._reset = str(int(next_midnight(day).timestamp()))
        key = self._day_keys.get(user_id)
        if key is None:
            key = self._day_keys[user_id] = quota_key(user_id, day)
        return key

    async def take(self, user_id: int) -> dict[str, str] | None:
        """Spend one of today's units for `user_id`; RateLimited (429) when none are left. Returns
        the X-Quota-* headers of the answer (None until this gateway has heard the day's total)."""
        now = datetime.fromtimestamp(self._time(), UTC)
        limit = self.limit
        if limit != self._sized_for:
            # A busy user's lease grows to about a second of their traffic, but never past 1/20 of
            # the day's limit: what a crash can waste stays small next to the allowance.
            self._leases.max_lease_size = max(self._lease_size, min(MAX_LEASE, limit // 20))
            self._sized_for = limit
        key = self._key(user_id, now.date())
        for delay in (*RETRY_DELAYS_S, None):
            try:
                allowed = await self._leases.take(key, limit)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if delay is None:
                    log.error("quota shard unavailable", extra={"user_id": user_id, "error": repr(exc)})
                    raise ServiceUnavailable("Quota service unavailable; retry.", code="quota_unavailable") from exc
                if not isinstance(exc, RoostError):
                    log.warning("quota shard call failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
        if not allowed:
            raise exceeded(limit, now)
        left = self._leases.estimated_left(key, limit)
        if left is None:
            return None
        return {"X-Quota-Limit": str(limit), "X-Quota-Remaining": str(left), "X-Quota-Reset": self._reset}


quota_key_app = web.AppKey("daily_quota", DailyQuota)


async def quota_ctx(app: web.Application) -> AsyncIterator[None]:
    """On the ROOT app, so the root and the API_DOMAIN app share one lease table per process; the
    /api middleware finds it through `request.config_dict` and passes requests through when
    absent. Needs runtime_settings_ctx and actors_ctx before it."""
    app[quota_key_app] = DailyQuota(app[actors_key]["quota"], app[runtime_settings_key], clock=app[clock_key])
    yield
