"""MealAggregateState on its own: versions, missed changes, the day boundary in a zone, exact
running totals. No Ray, no SQL. Plus the nutrition arithmetic it counts (domain/meal_totals.py)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from actors.meal_aggregate import MealAggregateState, parse_key
from domain.errors import NotFound
from domain.meal_totals import DayTotals, FoodFacts, MealEntry, day_bounds, local_day, nutrition, valid_zone

HANOI = "Asia/Ho_Chi_Minh"
KEY = "pet:7"
# noon in Hanoi on 20 January 2026
NOON = datetime(2026, 1, 20, 12, 0, tzinfo=ZoneInfo(HANOI)).timestamp()


def entry(meal_id: int, fed_at: float = NOON, *, calories: float = 100.0, meal_type: str | None = "breakfast",
          pet_id: int = 7, weight: float = 50.0) -> MealEntry:
    return MealEntry(
        id=meal_id, pet_id=pet_id, pet_name="Mochi", fed_at=fed_at, meal_type=meal_type, food_id=3,
        food_name="Royal Canin - Persian", fed_by=1, fed_by_name="Ada", actual_weight_g=weight, calories=calories,
        protein_g=weight * 0.3, fat_g=weight * 0.18, moisture_g=weight * 0.08, carbohydrate_g=weight * 0.44,
    )


def state(*entries: MealEntry, version: int = 0, **kwargs) -> MealAggregateState:
    s = MealAggregateState(**kwargs)
    s.restore(KEY, {"version": version, "entries": list(entries)})
    return s


def read(s: MealAggregateState, now: float = NOON, zone: str = HANOI, min_version: int = 0):
    return s.apply("read", KEY, (now, zone, min_version))


# ---- nutrition ------------------------------------------------------------------------------


FOOD = FoodFacts(unit_weight_g=10.0, calories_per_100g=380, protein_percentage=30.0, fat_percentage=18.0,
                 moisture_percentage=8.0, carbohydrate_percentage=44.0)


def test_the_documents_example_is_1900_kcal_not_190():
    n = nutrition(FOOD, "units", 50)
    assert n.actual_weight_g == 500.0
    assert n.calories == 1900.0
    assert (n.protein_g, n.fat_g, n.moisture_g, n.carbohydrate_g) == (150.0, 90.0, 40.0, 220.0)


def test_grams_are_the_weight_itself():
    n = nutrition(FOOD, "grams", 37.5)
    assert n.actual_weight_g == 37.5
    assert n.calories == 142.5
    assert n.protein_g == 11.25


def test_an_unknown_serving_type_is_a_bug():
    with pytest.raises(ValueError):
        nutrition(FOOD, "cups", 1)


def test_zone_names():
    assert valid_zone(HANOI) and valid_zone("UTC") and valid_zone("America/Los_Angeles")
    for bad in ("", "Mars/Olympus", "../etc/passwd", "/etc/localtime", "x" * 65):
        assert not valid_zone(bad), bad


def test_a_local_day_and_its_bounds():
    late = datetime(2026, 1, 20, 23, 30, tzinfo=ZoneInfo(HANOI)).timestamp()
    early = datetime(2026, 1, 21, 0, 30, tzinfo=ZoneInfo(HANOI)).timestamp()
    assert local_day(late, HANOI) == date(2026, 1, 20)
    assert local_day(early, HANOI) == date(2026, 1, 21)
    # in UTC both are the 20th (16:30 and 17:30)
    assert local_day(late, "UTC") == local_day(early, "UTC") == date(2026, 1, 20)
    start, end = day_bounds(date(2026, 1, 21), HANOI)
    assert start == datetime(2026, 1, 20, 17, 0, tzinfo=UTC) and end - start == timedelta(days=1)
    # a DST day is 23 hours long
    start, end = day_bounds(date(2026, 3, 8), "America/New_York")
    assert end - start == timedelta(hours=23)


# ---- the aggregate --------------------------------------------------------------------------


def test_a_read_counts_the_days_meals_only():
    yesterday = NOON - 86_400
    s = state(entry(1), entry(2, calories=50, meal_type="dinner"), entry(3, yesterday, calories=999), version=3)
    version, view = read(s)
    assert version == 3
    assert view["day"] == "2026-01-20" and view["zone"] == HANOI
    assert view["totals"]["meals"] == 2
    assert view["totals"]["calories"] == 150.0
    assert view["totals"]["by_type"] == {"breakfast": 1, "lunch": 0, "dinner": 1, "snack": 0}
    assert [e.id for e in view["meals"]] == [1, 2]


def test_ops_apply_in_version_order_and_change_the_running_totals():
    s = state(version=0)
    read(s)
    assert s.apply("meal_added", KEY, (entry(1, calories=100), 1)) == "applied"
    assert s.apply("meal_added", KEY, (entry(2, calories=40), 2)) == "applied"
    assert read(s)[1]["totals"]["calories"] == 140.0
    assert s.apply("meal_updated", KEY, (entry(1, calories=10, meal_type="snack"), 3)) == "applied"
    totals = read(s)[1]["totals"]
    assert totals["calories"] == 50.0 and totals["by_type"]["snack"] == 1 and totals["by_type"]["breakfast"] == 1
    assert s.apply("meal_removed", KEY, (2, 4)) == "applied"
    version, view = read(s)
    assert version == 4 and view["totals"]["meals"] == 1 and view["totals"]["calories"] == 10.0


def test_a_change_already_included_is_known():
    s = state(entry(1), version=5)
    assert s.apply("meal_added", KEY, (entry(1), 5)) == "known"
    assert s.apply("meal_removed", KEY, (1, 3)) == "known"
    assert read(s)[1]["totals"]["meals"] == 1


def test_a_missed_version_marks_it_stale_for_a_reload():
    s = state(version=1)
    assert s.apply("meal_added", KEY, (entry(9), 3)) == "stale"
    assert not s.loaded(KEY)
    assert s.apply("meal_added", KEY, (entry(10), 4)) == "stale"  # the reload will include it
    s.restore(KEY, {"version": 4, "entries": [entry(9), entry(10)]})
    assert s.loaded(KEY)
    assert read(s) [1]["totals"]["meals"] == 2


def test_a_read_behind_the_callers_version_is_stale():
    s = state(entry(1), version=2)
    assert read(s, min_version=3) == ("stale", None)
    assert not s.loaded(KEY)
    assert read(s, min_version=2)[0] == 2  # a read may still be answered until the reload


def test_a_meal_moved_out_of_today_stops_counting_and_back_in_counts_again():
    s = state(entry(1, calories=100), version=1)
    assert read(s)[1]["totals"]["calories"] == 100.0
    s.apply("meal_updated", KEY, (entry(1, NOON - 86_400, calories=100), 2))
    assert read(s)[1]["totals"]["meals"] == 0
    s.apply("meal_updated", KEY, (entry(1, NOON + 3600, calories=70), 3))
    assert read(s)[1]["totals"]["calories"] == 70.0


def test_the_day_boundary_follows_the_zone_2330_and_0030_local():
    late = datetime(2026, 1, 20, 23, 30, tzinfo=ZoneInfo(HANOI)).timestamp()
    early = datetime(2026, 1, 21, 0, 30, tzinfo=ZoneInfo(HANOI)).timestamp()
    s = state(entry(1, late, calories=30), entry(2, early, calories=20), version=2)
    # at 23:45 on the 20th in Hanoi only the 23:30 meal is today's
    _, view = read(s, late + 900)
    assert (view["day"], view["totals"]["calories"], [e.id for e in view["meals"]]) == ("2026-01-20", 30.0, [1])
    # at 00:45 on the 21st only the 00:30 one
    _, view = read(s, early + 900)
    assert (view["day"], view["totals"]["calories"], [e.id for e in view["meals"]]) == ("2026-01-21", 20.0, [2])
    # the same instants in UTC are one day, the 20th, with both meals
    _, view = read(s, early + 900, "UTC")
    assert (view["day"], view["totals"]["meals"]) == ("2026-01-20", 2)


def test_a_new_day_starts_from_zero_and_old_meals_leave_memory():
    s = state(entry(1, NOON - 4 * 86_400), entry(2), version=2)
    read(s)
    _, view = read(s, NOON + 86_400)
    assert view["day"] == "2026-01-21" and view["totals"]["meals"] == 0
    assert s._aggs[KEY].entries.keys() == {2}  # the four-day-old meal is gone, yesterday's kept


def test_meals_logged_days_back_are_not_held():
    s = state(entry(1), version=1)
    read(s)
    assert s.apply("meal_added", KEY, (entry(2, NOON - 5 * 86_400), 2)) == "applied"
    assert s.apply("meal_updated", KEY, (entry(1, NOON - 3 * 86_400), 3)) == "applied"
    assert s._aggs[KEY].entries == {}
    assert read(s)[1]["totals"]["meals"] == 0
    assert s.apply("meal_added", KEY, (entry(3, NOON - 86_400), 4)) == "applied"  # yesterday stays
    assert s._aggs[KEY].entries.keys() == {3}


def test_running_totals_equal_a_fresh_sum_after_many_random_ops():
    rng = random.Random(12)
    s = state(version=0)
    read(s)
    live: dict[int, MealEntry] = {}
    version = 0
    for step in range(2000):
        version += 1
        meal_id = rng.randrange(1, 60)
        when = NOON + rng.choice((-86_400, 0, 1800, 86_400))
        if meal_id in live and rng.random() < 0.4:
            assert s.apply("meal_removed", KEY, (meal_id, version)) == "applied"
            del live[meal_id]
            continue
        e = entry(meal_id, when, calories=round(rng.uniform(0, 500), 3), weight=round(rng.uniform(1, 300), 3),
                  meal_type=rng.choice(("breakfast", "lunch", "dinner", "snack", None)), pet_id=rng.randrange(1, 4))
        method = "meal_updated" if meal_id in live else "meal_added"
        assert s.apply(method, KEY, (e, version)) == "applied", step
        live[meal_id] = e
    _, view = read(s)
    today = [e for e in live.values() if local_day(e.fed_at, HANOI) == date(2026, 1, 20)]
    assert view["totals"] == DayTotals.of(today).public()
    assert view["totals"]["pets_fed"] == len({e.pet_id for e in today})


def test_a_key_with_nothing_in_postgresql_reads_an_empty_day():
    s = MealAggregateState()
    s.restore("group:99", None)
    version, view = s.apply("read", "group:99", (NOON, "UTC", 0))
    assert version == 0 and view["totals"]["meals"] == 0 and view["meals"] == []


def test_unknown_ops_fail_only_themselves():
    s = state()
    with pytest.raises(NotFound):
        s.apply("explode", KEY, ())


def test_idle_aggregates_are_evicted_at_the_end_of_a_batch():
    now = [0.0]
    s = MealAggregateState(clock=lambda: now[0], idle_evict_s=10, max_aggregates=2)
    for key in ("pet:1", "pet:2", "pet:3"):
        s.restore(key, {"version": 0, "entries": []})
    s.take_writes()
    assert s.keys() == ["pet:2", "pet:3"]  # over the cap: the least recently touched went
    now[0] = 11
    s.apply("read", "pet:3", (NOON, "UTC", 0))
    s.take_writes()
    assert s.keys() == ["pet:3"]


def test_keys():
    assert parse_key("pet:12") == ("pet", 12)
    assert parse_key("group:3") == ("group", 3)
    assert parse_key("pet:") is None and parse_key("cat:1") is None and parse_key("pet:-1") is None
