"""The clock every time-dependent part reads: the wall clock, a monotonic clock, and sleep.

`create_app(settings, clock=...)` takes one and hands it down (throttle windows, the quota's UTC
day, session touches, token expiry and the TTL of cached lookups, every background loop), so a
test moves time by hand instead of sleeping through a window. Everything else gets SYSTEM_CLOCK.

What stays on the system clock on purpose: times the database or Redis compute (`now()`, key
TTLs), the event loop's own timers (the throttles' 50 ms flush, `asyncio.timeout`) and retry
pauses, which wait for something real (an actor restarting), not for a window to pass.
"""

from __future__ import annotations

import asyncio
import time as _time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Unix seconds (what throttle windows, day keys and expiries are counted in)."""
        ...

    def monotonic(self) -> float:
        """Seconds that only move forward (TTLs and intervals; never compared across processes)."""
        ...

    async def sleep(self, seconds: float, /) -> None:
        """Return after `seconds` of this clock's monotonic time."""
        ...


class SystemClock:
    # The functions themselves, not methods that call them: a bound `clock.time` is then the
    # builtin, and the hot paths that read it per request (throttles, token lookups) pay nothing.
    time = staticmethod(_time.time)
    monotonic = staticmethod(_time.monotonic)
    sleep = staticmethod(asyncio.sleep)


SYSTEM_CLOCK: Clock = SystemClock()


def utc_now(clock: Clock) -> datetime:
    """The clock's wall time as an aware UTC datetime (`datetime.now(UTC)` for SYSTEM_CLOCK)."""
    return datetime.fromtimestamp(clock.time(), UTC)
