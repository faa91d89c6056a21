"""Every actor kind Roost runs, by name. Later contracts add theirs here."""

from __future__ import annotations

from actors.counters import CounterPersistence, CounterState
from actors.event_feed import EventFeedPersistence, EventFeedState
from actors.meal_aggregate import MealAggregatePersistence, MealAggregateState
from actors.quota import QuotaState
from actors.state import KindSpec

KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        # generic counters; the benchmarks and tests drive the runtime through it
        KindSpec("counters", CounterState, CounterPersistence),
        # per-user daily API quota (000), leased by the gateways (gateway/pethealth/quota.py)
        KindSpec("quota", QuotaState, CounterPersistence),
        # per-event live feed and guest presence (001), polled through gateway/events/feed.py
        KindSpec("event_feed", EventFeedState, EventFeedPersistence),
        # per-pet and per-group meal totals of the day (002), read through gateway/petcare/meals.py
        KindSpec("meal_aggregate", MealAggregateState, MealAggregatePersistence),
    )
}


def get_kind(name: str) -> KindSpec:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown actor kind {name!r}; known: {sorted(KINDS)}") from None
