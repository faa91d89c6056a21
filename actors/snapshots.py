"""Snapshots: a per-key local copy of actor state, refreshed at most once per interval.

Polling endpoints read from here, so a poll touches neither an actor nor the database on its own:
however many pollers an entity has, this process asks for it at most once per `interval_s`, and
concurrent askers share that one fetch (single flight). Each snapshot carries the source's version
number, from which the HTTP layer derives its ETag.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from actors.metering import ActorMeters

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    version: int
    value: T
    fetched_at: float


class SnapshotCache(Generic[T]):
    def __init__(
        self,
        fetch: Callable[[str], Awaitable[tuple[int, T]]],
        *,
        interval_s: float = 1.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        meters: ActorMeters | None = None,
    ) -> None:
        """`meters`: where refreshes and the age of what they replace are counted (the actor
        kind's, `ShardClient.stats.meters`), for /metrics."""
        self._fetch = fetch
        self._meters = meters
        self._interval_s = interval_s
        self._max_keys = max_keys
        self._clock = clock
        self._entries: OrderedDict[str, Snapshot[T]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Snapshot[T]]] = {}
        self.fetches = 0

    async def get(self, key: str) -> Snapshot[T]:
        entry = self._entries.get(key)
        if entry is not None and self._clock() - entry.fetched_at < self._interval_s:
            self._entries.move_to_end(key)
            return entry
        fut = self._inflight.get(key)
        if fut is None:
            fut = asyncio.ensure_future(self._refresh(key))
            self._inflight[key] = fut
            fut.add_done_callback(lambda _f: self._inflight.pop(key, None))
        # shield: one impatient caller cancelling must not cancel the fetch the others wait on
        return await asyncio.shield(fut)

    def invalidate(self, key: str) -> None:
        self._entries.pop(key, None)

    async def _refresh(self, key: str) -> Snapshot[T]:
        self.fetches += 1
        version, value = await self._fetch(key)
        snap = Snapshot(version=version, value=value, fetched_at=self._clock())
        if self._meters is not None:
            # the replaced snapshot's age now is the oldest its readers can have been served
            prev = self._entries.get(key)
            self._meters.snapshot_replaced(None if prev is None else snap.fetched_at - prev.fetched_at)
        self._entries[key] = snap
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_keys:
            self._entries.popitem(last=False)
        return snap

    def peek(self, key: str) -> Snapshot[Any] | None:
        return self._entries.get(key)
