"""Today's meal totals of each pet and each group, held by shard actors: the `meal_aggregate`
kind. Keys are `pet:<id>` and `group:<id>`.

PostgreSQL is the truth. `pets.meal_version` and `groups.meal_version` are bumped in the
transaction of every meal write of that pet (and of its group), under the pet's row lock, and the
writer tells both aggregates after the commit (actors/meal_aggregate_client.py) with the new
version: the event feed's `feed_seq` pattern (actors/event_feed.py). An op applies only when it
is the very next version; an older one is already included; a newer one means a change was missed,
so the aggregate marks itself stale and reloads on its next batch. A pet moving to another group
moves both groups' versions (a trigger, migration 0013) without telling anyone: readers pass the
version they know of (`min_version`), and an aggregate behind it reloads too.

What an aggregate keeps: every live meal fed in the last WINDOW_S or later (MealEntry), and the
running totals (DayTotals, exact) of one local day in one zone, updated in place by each op. The
zone travels with each read (the group's setting, which the gateway reads with the caller's
access), so a changed zone or a new day recomputes the day from the entries held, with no reload.

Ops (all take the key first)
- meal_added(entry, version), meal_updated(entry, version), meal_removed(meal_id, version)
  -> "applied" | "known" | "stale"
- read(now, zone, min_version=0) -> (version, view) or ("stale", None) when the aggregate is behind
  `min_version` (it reloads on the caller's next call); view = {"day", "zone", "totals", "meals"}
  with that day's entries in feeding order.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg

from actors.state import Persistence, ShardState
from domain.errors import NotFound
from domain.meal_totals import DayTotals, MealEntry, local_day
from storage import meals as meals_sql

KIND = "meal_aggregate"
# Meals kept in memory reach back this far: the start of "today" in any zone (UTC-12 to UTC+14)
# lies within two days of now, and a third day spares a meal logged a little late.
WINDOW_S = 3 * 86_400.0
# a shard holds at most this many pets and groups; a family's day is a few KB
MAX_AGGREGATES = 20_000
# an aggregate nobody read or changed for this long is dropped; it reloads on its next use
IDLE_EVICT_S = 15 * 60
_DAY = timedelta(days=1)


def pet_key(pet_id: int) -> str:
    return f"pet:{pet_id}"


def group_key(group_id: int) -> str:
    return f"group:{group_id}"


def parse_key(key: str) -> tuple[str, int] | None:
    scope, _, raw = key.partition(":")
    if scope not in ("pet", "group") or not raw.isdigit():
        return None
    return scope, int(raw)


@dataclass
class _Aggregate:
    version: int
    entries: dict[int, MealEntry]
    # a change was missed: the next batch reloads it (loaded() says no)
    stale: bool = False
    # the day and zone `totals` are for (None until the first read)
    day: date | None = None
    zone: str | None = None
    totals: DayTotals = field(default_factory=DayTotals)
    # the last view built, for this version, day and zone
    view: tuple[int, date, str, dict[str, Any]] | None = None

    def counts(self, entry: MealEntry) -> bool:
        return self.zone is not None and local_day(entry.fed_at, self.zone) == self.day


class MealAggregateState(ShardState):
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_aggregates: int = MAX_AGGREGATES,
                 idle_evict_s: float = IDLE_EVICT_S, window_s: float = WINDOW_S) -> None:
        self._aggs: OrderedDict[str, _Aggregate] = OrderedDict()
        self._touched: dict[str, float] = {}
        self._clock = clock
        self._max = max_aggregates
        self._idle_evict_s = idle_evict_s
        self._window_s = window_s

    # -- ShardState ---------------------------------------------------------------------------

    def loaded(self, key: str) -> bool:
        agg = self._aggs.get(key)
        return agg is not None and not agg.stale

    def restore(self, key: str, snapshot: Any | None) -> None:
        """`snapshot`: {"version", "entries"} from PostgreSQL; None for a pet or group that does
        not exist (its reads answer an empty day at version 0)."""
        snap = snapshot or {}
        entries = {e.id: e for e in snap.get("entries", ())}
        self._aggs[key] = _Aggregate(version=int(snap.get("version", 0)), entries=entries)
        self._touch(key)

    def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._aggs.pop(key, None)
            self._touched.pop(key, None)

    def apply(self, method: str, key: str, args: tuple) -> Any:
        agg = self._aggs[key]
        self._touch(key)
        if method == "read":
            return self._read(agg, *args)
        if method in ("meal_added", "meal_updated", "meal_removed"):
            subject, version = args
            if agg.stale:
                return "stale"  # the reload will include this change
            if version <= agg.version:
                return "known"
            if version != agg.version + 1:
                agg.stale = True
                return "stale"
            if method == "meal_removed":
                self._remove(agg, int(subject))
            else:
                self._put(agg, subject)
            agg.version = version
            return "applied"
        raise NotFound(f"meal_aggregate has no method {method!r}", code="unknown_method")

    def take_writes(self) -> list[Any]:
        # Nothing to persist: meal rows are written by the meal code before it tells us. The end
        # of a batch is the safe moment to evict (no op of this batch still needs its key).
        self._evict()
        return []

    # -- ops ----------------------------------------------------------------------------------

    def _put(self, agg: _Aggregate, entry: MealEntry) -> None:
        old = agg.entries.get(entry.id)
        if old is not None and agg.counts(old):
            agg.totals.remove(old)
        if agg.zone is not None and agg.day is not None and local_day(entry.fed_at, agg.zone) < agg.day - _DAY:
            # logged (or moved) days back: no zone (they differ by at most 26 hours) makes it today's,
            # and holding it would let a back-filled history grow the aggregate without bound
            agg.entries.pop(entry.id, None)
            return
        agg.entries[entry.id] = entry
        if agg.counts(entry):
            agg.totals.add(entry)

    def _remove(self, agg: _Aggregate, meal_id: int) -> None:
        # a meal not held was fed before the window: it is in no day this aggregate shows
        old = agg.entries.pop(meal_id, None)
        if old is not None and agg.counts(old):
            agg.totals.remove(old)

    def _read(self, agg: _Aggregate, now: float, zone: str, min_version: int = 0) -> tuple[Any, Any]:
        if agg.version < min_version:
            agg.stale = True
            return "stale", None
        day = local_day(now, zone)
        if (day, zone) != (agg.day, agg.zone):
            cutoff = now - self._window_s
            for meal_id in [i for i, e in agg.entries.items() if e.fed_at < cutoff]:
                del agg.entries[meal_id]
            agg.day, agg.zone = day, zone
            agg.totals = DayTotals.of(e for e in agg.entries.values() if agg.counts(e))
            agg.view = None
        if agg.view is None or agg.view[:3] != (agg.version, day, zone):
            meals = sorted((e for e in agg.entries.values() if agg.counts(e)), key=lambda e: (e.fed_at, e.id))
            view = {"day": day.isoformat(), "zone": zone, "totals": agg.totals.public(), "meals": meals}
            agg.view = (agg.version, day, zone, view)
        return agg.version, agg.view[3]

    # -- housekeeping -------------------------------------------------------------------------

    def _touch(self, key: str) -> None:
        self._touched[key] = self._clock()
        self._aggs.move_to_end(key)

    def _evict(self) -> None:
        cutoff = self._clock() - self._idle_evict_s
        while self._aggs:
            key = next(iter(self._aggs))  # least recently touched first
            if len(self._aggs) <= self._max and self._touched.get(key, 0.0) > cutoff:
                break
            self.forget([key])

    def keys(self) -> list[str]:
        return list(self._aggs)


class MealAggregatePersistence(Persistence):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def load(self, conn: asyncpg.Connection, keys: list[str]) -> dict[str, Any]:
        parsed = {key: parse_key(key) for key in keys}
        pet_ids = sorted({ident for scope, ident in filter(None, parsed.values()) if scope == "pet"})
        group_ids = sorted({ident for scope, ident in filter(None, parsed.values()) if scope == "group"})
        if not pet_ids and not group_ids:
            return {}
        pets, groups, rows = await meals_sql.load_aggregates(conn, pet_ids, group_ids, window_s=WINDOW_S)
        by_pet: dict[int, list[MealEntry]] = {}
        by_group: dict[int, list[MealEntry]] = {}
        for row in rows:
            entry = MealEntry.of(row)
            by_pet.setdefault(entry.pet_id, []).append(entry)
            if row["pet_group_id"] is not None:
                by_group.setdefault(row["pet_group_id"], []).append(entry)
        found: dict[str, Any] = {}
        for key, item in parsed.items():
            if item is None:
                continue
            scope, ident = item
            versions, entries = (pets, by_pet) if scope == "pet" else (groups, by_group)
            if ident in versions:
                found[key] = {"version": versions[ident], "entries": entries.get(ident, [])}
        return found

    async def save(self, conn: asyncpg.Connection, writes: list[Any]) -> None:
        """Nothing: meal rows are written by the meal code before it tells the aggregates."""

