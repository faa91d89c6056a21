"""The gateway side of the meal aggregates (actors/meal_aggregate.py): today's views from local
snapshots, and the changes a committed meal write tells them.

Reads. Each pet's and group's view is kept per gateway and reused while it is younger than
`interval_s` (about a second), for the same local day and zone, and at least as new as the version
the caller knows of: the version its access read saw, or one this gateway committed itself. So a
warm `GET /meals/today` touches neither PostgreSQL nor an actor; the gateway that logged a meal
never answers from a view without it (read-your-writes), and another gateway shows it within an
interval. Concurrent misses for one key share one actor call (single flight). A view behind the
version asked for comes back "stale" and the next call reloads it from PostgreSQL.

Writes. `changed()` is called after the commit, never before: it records the versions for this
gateway's reads and sends the ops in the background (coalesced per shard by the ShardClient),
so a write does not wait on the actor hop. A lost op costs nothing lasting: the aggregate sees the
next version as a gap, or a reader's newer version, and reloads.

Placement. A pet's aggregate lives on its group's shard (`route`), so a meal write's two ops (pet
and group) are one actor call, and a busy family's writes share calls. The ops linger up to
TELL_LINGER_S for company; a read of the shard sends them with it at once, so the writer's own read
finds them applied rather than reloading. A pet that changes group is reloaded on the new group's
shard (its copy on the old one ages out), since its version tells any reader what it must include.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actors.client import ShardClient
from domain.errors import RoostError, ServiceUnavailable
from domain.meal_totals import local_day

log = logging.getLogger(__name__)

KIND = "meal_aggregate"
# views one gateway keeps (a family's day is a few KB)
MAX_VIEWS = 20_000
# versions this gateway committed and has not read back yet
MAX_KNOWN = 100_000
# how long a write's ops wait for others bound for the same shard: each actor call costs the
# gateway about a quarter of a millisecond of CPU (py-spy, meal_log), a busy gateway logs hundreds
# of meals a second, and another gateway shows a change only after its snapshot interval (~1 s)
TELL_LINGER_S = 0.02


@dataclass(frozen=True, slots=True)
class _View:
    version: int
    day: str
    zone: str
    value: dict[str, Any]
    fetched_at: float


class MealAggregates:
    def __init__(self, client: ShardClient, *, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._interval_s = interval_s
        self._clock = clock
        self._views: OrderedDict[str, _View] = OrderedDict()
        self._known: OrderedDict[str, int] = OrderedDict()
        self._inflight: dict[tuple[str, str, str], asyncio.Future[_View]] = {}
        self._sending: set[asyncio.Task] = set()
        self.fetches = 0  # actor reads made (tests)

    # -- reads --------------------------------------------------------------------------------

    async def view(self, key: str, now: float, zone: str, min_version: int = 0,
                   route: str | None = None) -> dict[str, Any]:
        """`route`: the key whose shard holds this one (a pet's group), as its writes said."""
        need = max(min_version, self._known.get(key, 0))
        day = local_day(now, zone).isoformat()
        cached = self._views.get(key)
        if self._fits(cached, need, day, zone):
            assert cached is not None
            return cached.value
        flight = (key, day, zone)
        fut = self._inflight.get(flight)
        if fut is None:
            fut = asyncio.ensure_future(self._fetch(key, now, zone, need, route))
            self._inflight[flight] = fut
            fut.add_done_callback(lambda _f: self._inflight.pop(flight, None))
        # shield: one impatient caller cancelling must not cancel the fetch the others wait on
        got = await asyncio.shield(fut)
        if got.version < need:  # joined a flight that started before our version was known
            got = await self._fetch(key, now, zone, need, route)
        return got.value

    def _fits(self, view: _View | None, need: int, day: str, zone: str) -> bool:
        return (
            view is not None
            and view.version >= need
            and view.day == day
            and view.zone == zone
            and self._clock() - view.fetched_at < self._interval_s
        )

    async def _fetch(self, key: str, now: float, zone: str, need: int, route: str | None) -> _View:
        # the second call reloads an aggregate the first found behind `need`
        for _ in range(2):
            self.fetches += 1
            try:
                version, value = await self.client.call("read", key, now, zone, need, route=route)
            except RoostError:
                raise
            except Exception as exc:  # the actor restarting, Ray unreachable: reads are safe to retry
                log.warning("meal aggregate unreachable", extra={"key": key, "error": repr(exc)})
                raise ServiceUnavailable(
                    "Today's meals are temporarily unavailable; retry.", code="service_unavailable"
                ) from exc
            if version != "stale":
                view = _View(version, value["day"], zone, value, self._clock())
                prev = self._views.get(key)
                # for /metrics: how old the view this one replaces had become
                self.client.stats.meters.snapshot_replaced(None if prev is None else view.fetched_at - prev.fetched_at)
                self._views[key] = view
                self._views.move_to_end(key)
                while len(self._views) > MAX_VIEWS:
                    self._views.popitem(last=False)
                if self._known.get(key, 0) <= version:
                    self._known.pop(key, None)
                return view
        raise ServiceUnavailable("Today's meals are temporarily unavailable; retry.", code="service_unavailable")

    # -- writes -------------------------------------------------------------------------------

    def changed(self, changes: list[tuple[str, str, Any, int]], route: str | None = None) -> None:
        """(key, op, subject, version) for each aggregate a committed write touched; `route` the
        key whose shard holds them all (the pet's group)."""
        for key, _op, _subject, version in changes:
            if self._known.get(key, 0) < version:
                self._known[key] = version
                self._known.move_to_end(key)
        while len(self._known) > MAX_KNOWN:
            self._known.popitem(last=False)
        task = asyncio.get_running_loop().create_task(self._send(changes, route))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, changes: list[tuple[str, str, Any, int]], route: str | None) -> None:
        results = await asyncio.gather(
            *(self.client.call(op, key, subject, version, route=route, linger_s=TELL_LINGER_S)
              for key, op, subject, version in changes),
            return_exceptions=True,
        )
        for (key, op, _subject, version), result in zip(changes, results, strict=True):
            if isinstance(result, BaseException):
                # the commit stands; the aggregate reloads when it next sees a newer version
                log.warning("meal aggregate not told", extra={"key": key, "op": op, "version": version,
                                                              "error": repr(result)})

    async def drain(self) -> None:
        """Until every change told so far has reached its aggregate (or failed to)."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
