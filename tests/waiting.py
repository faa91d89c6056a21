"""The one way a test waits for something to happen in the background: `await eventually(...)`.

A background effect (a flush, a pub/sub eviction, a Ray task finishing, a subprocess coming up)
lands after an unknown, usually short, time. Polling with a bound keeps the fast case fast and
the slow case a failure that says what it last saw, instead of a fixed sleep that is either too
long or flaky. What waits for a *time window* to pass does not belong here: advance the app's
clock instead (tests/clock.py).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 5.0
# short next to every effect waited for, long enough not to hammer the database or an actor
DEFAULT_INTERVAL_S = 0.02


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = DEFAULT_INTERVAL_S,
    what: str | None = None,
) -> T:
    """Call `check` (sync or async) until it returns something truthy, and return that. After
    `timeout` seconds fail with the last value seen. An exception from `check` ends the wait at
    once: a predicate that expects errors on the way (an actor restarting) catches them itself."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what or 'the condition'} did not hold within {timeout} s; last value: {value!r}")
        await asyncio.sleep(interval)
