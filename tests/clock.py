"""FakeClock: the Clock protocol (domain/clock.py) with time that moves only when a test says so.

Give it to `create_app(settings, clock=...)` (or to a Throttles, a LeaseClient, a Periodic) and
`advance()` past a window instead of sleeping through it. Sleepers (every background loop of the
app) wake when an advance reaches their deadline, and not before.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import datetime

HOUR_S = 3600


class FakeClock:
    def __init__(self, start: float | datetime | None = None) -> None:
        """Starts at `start`, by default at the start of the current UTC hour: near the real time,
        so what the database and Redis date for real (token expiries, key TTLs) still agrees, and
        on a boundary of every minute and hour window, so a test's hits never straddle one."""
        if start is None:
            start = time.time() // HOUR_S * HOUR_S
        self._time = start.timestamp() if isinstance(start, datetime) else float(start)
        # an arbitrary origin, as the real one is: nothing may read meaning into it
        self._monotonic = 10_000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self._time

    def monotonic(self) -> float:
        return self._monotonic

    async def sleep(self, seconds: float, /) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wakeup: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._monotonic + seconds, next(self._order), wakeup))
        await wakeup

    def advance(self, seconds: float) -> None:
        """Move both clocks forward and wake every sleeper whose time has come (they run at the
        event loop's next turn)."""
        if seconds < 0:
            raise ValueError("a clock only moves forward; use set_time for a wall-clock step")
        self._time += seconds
        self._monotonic += seconds
        while self._sleepers and self._sleepers[0][0] <= self._monotonic:
            _, _, wakeup = heapq.heappop(self._sleepers)
            if not wakeup.done():  # a cancelled sleep leaves its entry behind
                wakeup.set_result(None)

    def set_time(self, when: float | datetime) -> None:
        """Step the wall clock (as NTP may); monotonic time and the sleepers do not move."""
        self._time = when.timestamp() if isinstance(when, datetime) else float(when)

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting (a test can wait until a loop has gone back to sleep)."""
        return sum(not wakeup.done() for _, _, wakeup in self._sleepers)
