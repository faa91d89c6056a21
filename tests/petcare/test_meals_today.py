"""GET /meals/today from the meal_aggregate actors: the right totals after create, update and
delete, and after the shard actor is killed (rebuilt from PostgreSQL); no query and no actor call
on a warm read; read-your-writes on the writing gateway and within one snapshot interval on
another; the day boundary in the group's zone (23:30 and 00:30 local); a pet that changes group."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from actors.client import kill_shard
from gateway.kernel.keys import actors_key, pool_key
from gateway.petcare.meals import meal_aggregates_key
from tests.clock import FakeClock
from tests.petcare.care_builders import assert_422, assert_error, call, new_group, new_pet, ok
from tests.petcare.meal_builders import Family, family, log_meal, new_food, today
from tests.waiting import eventually

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app_client(aiohttp_client, settings, ray_session, clock):
    """The whole app on a FakeClock: views and access reads stay fresh until the test moves time.
    Every pool connection exists from the start, so a query logger on each sees every query."""
    from gateway.app import create_app

    quiet = settings.model_copy(update={"db_pool_min": 3, "db_pool_max": 3, "runtime_settings_poll_s": 3600.0,
                                        "job_sweep_interval_s": 3600.0})
    return await aiohttp_client(create_app(quiet, clock=clock))


@pytest.fixture
async def fam(app_client) -> Family:
    return await family(app_client)


def aggregates(client):
    return client.app[meal_aggregates_key]


async def logged_queries(client) -> list[str]:
    """Every query from now on (the fixture's pool holds all its connections from the start)."""
    queries: list[str] = []
    pool = client.app[pool_key]
    held = [await pool.acquire() for _ in range(3)]
    for conn in held:
        conn.add_query_logger(lambda record: queries.append(record.query))
    for conn in held:
        await pool.release(conn)
    return queries


async def test_totals_after_create_update_and_delete_in_both_vocabularies(app_client, fam):
    empty = await today(app_client, fam.viewer, pet_id=fam.pet_id)
    assert (empty["total_meals"], empty["meals_count"], empty["meals"]) == (0, 0, [])
    a = await log_meal(app_client, fam.creator, fam.pet_id, fam.food, serving_type="units", serving_amount=5,
                       meal_type="breakfast")  # 50 g, 190 kcal
    b = await log_meal(app_client, fam.member, fam.pet_id, fam.food, serving_amount=25, meal_type="dinner")  # 95
    status, body = await call(app_client, "GET", "/meals/today", fam.viewer, params={"pet_id": fam.pet_id})
    assert status == 200
    day = body["data"]
    assert body["message"] == f"Today's meal summary retrieved for {day['date']}"
    assert (day["pet_id"], day["pet_name"], day["group_id"]) == (fam.pet_id, "Fluffy", fam.group_id)
    assert day["total_meals"] == day["meals_count"] == 2
    assert day["total_calories"] == day["total_calories_consumed"] == 285.0
    assert day["total_weight_g"] == 75.0 and day["total_protein_g"] == 22.5
    assert day["daily_calorie_target"] == 300
    assert day["calorie_target_percentage"] == day["target_achievement_percentage"] == 95.0
    assert (day["breakfast_count"], day["lunch_count"], day["dinner_count"], day["snack_count"]) == (1, 0, 1, 0)
    assert day["meal_type_breakdown"] == {"breakfast": 1, "lunch": 0, "dinner": 1, "snack": 0}
    assert day["pets_fed_count"] is None
    assert [(m["id"], m["fed_by_name"], m["calories"]) for m in day["meals"]] == [(a["id"], "Ada", 190.0),
                                                                               (b["id"], "Ben", 95.0)]
    await ok(app_client, "POST", f"/meals/{b['id']}/update", fam.member, json={"serving_amount": 50})
    assert (await today(app_client, fam.viewer, pet_id=fam.pet_id))["total_calories"] == 380.0
    await ok(app_client, "POST", f"/meals/{a['id']}/delete", fam.creator)
    after = await today(app_client, fam.viewer, pet_id=fam.pet_id)
    assert (after["total_meals"], after["total_calories"], after["breakfast_count"]) == (1, 190.0, 0)
    assert [m["id"] for m in after["meals"]] == [b["id"]]


async def test_a_groups_day_and_filters(app_client, fam):
    rex = await new_pet(app_client, fam.creator, name="Rex")
    await ok(app_client, "POST", f"/pets/{rex['id']}/assign_group", fam.creator, json={"group_id": fam.group_id})
    await log_meal(app_client, fam.creator, fam.pet_id, fam.food, meal_type="breakfast")
    await log_meal(app_client, fam.member, rex["id"], fam.food, meal_type="lunch")
    await log_meal(app_client, fam.member, rex["id"], fam.food, meal_type="lunch")
    day = await today(app_client, fam.viewer, group_id=fam.group_id)
    assert (day["group_id"], day["pet_id"], day["pets_fed_count"], day["total_meals"]) == (fam.group_id, None, 2, 3)
    assert day["calorie_target_percentage"] is None and day["lunch_count"] == 2
    assert {m["pet_name"] for m in day["meals"]} == {"Fluffy", "Rex"}
    mine = await today(app_client, fam.viewer, group_id=fam.group_id, fed_by=fam.member.sid)
    assert (mine["total_meals"], mine["pets_fed_count"]) == (2, 1)
    lunch = await today(app_client, fam.viewer, group_id=fam.group_id, meal_type="breakfast")
    assert [m["pet_name"] for m in lunch["meals"]] == ["Fluffy"]


async def test_who_reads_today(app_client, fam):
    for role in ("creator", "member", "viewer"):
        assert (await call(app_client, "GET", "/meals/today", getattr(fam, role), params={"pet_id": fam.pet_id}))[0] \
            == 200
    status, body = await call(app_client, "GET", "/meals/today", fam.stranger, params={"pet_id": fam.pet_id})
    assert status == 403
    assert_error(body, "You don't have permission to view meals for this pet")
    status, body = await call(app_client, "GET", "/meals/today", fam.stranger, params={"group_id": fam.group_id})
    assert status == 403
    assert_error(body, "You don't have permission to view meals for this group")
    assert (await call(app_client, "GET", "/meals/today", None, params={"pet_id": fam.pet_id}))[0] == 401
    status, body = await call(app_client, "GET", "/meals/today", fam.creator)
    assert status == 400
    assert_error(body, "Either pet_id or group_id must be provided")
    status, body = await call(app_client, "GET", "/meals/today", fam.creator, params={"pet_id": "999999999"})
    assert status == 404
    status, body = await call(app_client, "GET", "/meals/today", fam.creator,
                              params={"pet_id": fam.pet_id, "meal_type": "brunch"})
    assert status == 422
    assert_422(body, "meal_type")
    strangers = await new_pet(app_client, fam.stranger)  # another group's pet: BOLA
    assert (await call(app_client, "GET", "/meals/today", fam.creator, params={"pet_id": strangers["id"]}))[0] == 403


async def test_a_warm_read_makes_no_query_and_no_actor_call(app_client, fam):
    for _ in range(30):
        await log_meal(app_client, fam.member, fam.pet_id, fam.food, serving_amount=10)
    queries = await logged_queries(app_client)
    # cold: the caller's access (one primary-key read, no aggregate) and one actor read
    first = await today(app_client, fam.viewer, pet_id=fam.pet_id)
    assert first["total_meals"] == 30 and first["total_calories"] == 1140.0
    assert queries and not [q for q in queries if "meals" in q], queries
    shard_client = app_client.app[actors_key]["meal_aggregate"]
    calls, fetches = shard_client.stats.actor_calls, aggregates(app_client).fetches
    queries.clear()
    for _ in range(50):
        assert await today(app_client, fam.viewer, pet_id=fam.pet_id) == first
    assert queries == []
    assert (shard_client.stats.actor_calls, aggregates(app_client).fetches) == (calls, fetches)


async def test_a_meal_write_is_two_statements_and_one_actor_call(app_client, fam):
    """The checks' read and one writing statement (no BEGIN/COMMIT round trips); the pet's and
    the group's ops go to the group's shard in one call."""
    await log_meal(app_client, fam.member, fam.pet_id, fam.food, serving_amount=10)  # warm
    await aggregates(app_client).drain()
    queries = await logged_queries(app_client)
    shard_client = app_client.app[actors_key]["meal_aggregate"]
    calls, ops = shard_client.stats.actor_calls, shard_client.stats.ops
    await log_meal(app_client, fam.member, fam.pet_id, fam.food, serving_amount=20)
    await aggregates(app_client).drain()
    meal_queries = [q for q in queries if "meals" in q or "foods" in q]
    assert len(meal_queries) == 2, queries
    assert not [q for q in queries if q.strip().lower() in ("begin;", "commit;", "begin", "commit")]
    assert (shard_client.stats.actor_calls - calls, shard_client.stats.ops - ops) == (1, 2)
    day = await today(app_client, fam.viewer, pet_id=fam.pet_id)
    assert (day["total_meals"], day["total_calories"]) == (2, 114.0)


async def test_read_your_writes_here_and_within_a_snapshot_interval_on_another_gateway(
    aiohttp_client, settings, ray_session, app_client, fam, clock
):
    from gateway.app import create_app

    other_clock = FakeClock(clock.time())
    other = await aiohttp_client(create_app(settings, clock=other_clock))
    assert (await today(other, fam.viewer, pet_id=fam.pet_id))["total_meals"] == 0  # its view is now warm
    here = await today(app_client, fam.viewer, pet_id=fam.pet_id)
    assert here["total_meals"] == 0
    meal = await log_meal(app_client, fam.member, fam.pet_id, fam.food)
    # the writing gateway never answers from a view older than its own write, its clock unmoved
    assert (await today(app_client, fam.member, pet_id=fam.pet_id))["total_meals"] == 1
    assert (await today(app_client, fam.viewer, pet_id=fam.pet_id))["total_meals"] == 1
    # the other one answers from its view until the interval is over, then shows the meal
    assert (await today(other, fam.viewer, pet_id=fam.pet_id))["total_meals"] == 0
    other_clock.advance(settings.snapshot_interval_s)
    seen = await today(other, fam.viewer, pet_id=fam.pet_id)
    assert seen["total_meals"] == 1 and seen["meals"][0]["id"] == meal["id"]
    # and a delete there is seen here within an interval too
    await ok(other, "POST", f"/meals/{meal['id']}/delete", fam.member)
    assert (await today(other, fam.viewer, pet_id=fam.pet_id))["total_meals"] == 0
    clock.advance(settings.snapshot_interval_s)
    assert (await today(app_client, fam.viewer, pet_id=fam.pet_id))["total_meals"] == 0


async def test_a_killed_shard_is_rebuilt_from_postgresql(app_client, fam, clock, settings):
    for amount in (100, 50, 25):
        await log_meal(app_client, fam.member, fam.pet_id, fam.food, serving_amount=amount)
    assert (await today(app_client, fam.viewer, group_id=fam.group_id))["total_calories"] == 665.0
    shard_client = app_client.app[actors_key]["meal_aggregate"]
    # a pet's aggregate lives on its group's shard (route), beside the group's
    kill_shard(shard_client, shard_client.shard_for(f"group:{fam.group_id}"), restart=True)
    clock.advance(settings.snapshot_interval_s)

    async def rebuilt() -> dict | None:
        try:
            return await today(app_client, fam.viewer, pet_id=fam.pet_id)
        except AssertionError:  # 503 while the actor restarts
            return None

    day = await eventually(rebuilt, what="today after the shard restarted")
    assert (day["total_meals"], day["total_calories"]) == (3, 665.0)
    group = await today(app_client, fam.viewer, group_id=fam.group_id)
    assert (group["total_meals"], group["total_calories"], group["pets_fed_count"]) == (3, 665.0, 1)
    # and it keeps counting after the rebuild
    await log_meal(app_client, fam.member, fam.pet_id, fam.food, serving_amount=10)
    assert (await today(app_client, fam.viewer, pet_id=fam.pet_id))["total_calories"] == 703.0


async def test_the_day_follows_the_groups_zone_2330_and_0030_local(app_client, fam, clock, settings):
    await ok(app_client, "POST", f"/groups/{fam.group_id}/timezone", fam.creator,
             json={"timezone": "Asia/Ho_Chi_Minh"})
    # the Hanoi day that is current for real, so the meals stay within what an aggregate loads
    local_today = datetime.fromtimestamp(clock.time(), HANOI).date()
    midnight = datetime(local_today.year, local_today.month, local_today.day, tzinfo=HANOI)
    late = await log_meal(app_client, fam.member, fam.pet_id, fam.food, serving_amount=10,
                          fed_at=(midnight - timedelta(minutes=30)).isoformat())  # 23:30 the day before
    early = await log_meal(app_client, fam.member, fam.pet_id, fam.food, serving_amount=20,
                           fed_at=(midnight + timedelta(minutes=30)).isoformat())  # 00:30
    clock.set_time(midnight + timedelta(minutes=45))
    clock.advance(settings.snapshot_interval_s)
    day = await today(app_client, fam.viewer, pet_id=fam.pet_id)
    assert (day["date"], day["timezone"]) == (local_today.isoformat(), "Asia/Ho_Chi_Minh")
    assert [m["id"] for m in day["meals"]] == [early["id"]] and day["total_calories"] == 76.0
    clock.set_time(midnight - timedelta(minutes=15))  # 23:45 the day before
    day = await today(app_client, fam.viewer, group_id=fam.group_id)
    assert day["date"] == (local_today - timedelta(days=1)).isoformat()
    assert [m["id"] for m in day["meals"]] == [late["id"]] and day["total_calories"] == 38.0
    # in UTC (17:00 UTC is Hanoi's midnight) the two meals are on one day
    await ok(app_client, "POST", f"/groups/{fam.group_id}/timezone", fam.creator, json={"timezone": "UTC"})
    clock.advance(settings.snapshot_interval_s)
    utc = await today(app_client, fam.viewer, group_id=fam.group_id)
    assert utc["timezone"] == "UTC" and {m["id"] for m in utc["meals"]} == {late["id"], early["id"]}


async def test_a_new_day_starts_empty(app_client, fam, clock, settings):
    await log_meal(app_client, fam.member, fam.pet_id, fam.food)
    assert (await today(app_client, fam.viewer, pet_id=fam.pet_id))["total_meals"] == 1
    clock.advance(86_400 + settings.snapshot_interval_s)
    assert (await today(app_client, fam.viewer, pet_id=fam.pet_id))["total_meals"] == 0


async def test_a_pet_that_changes_group_moves_between_group_totals(app_client, fam, clock, settings):
    await log_meal(app_client, fam.member, fam.pet_id, fam.food)
    other = await new_group(app_client, fam.creator)
    assert (await today(app_client, fam.creator, group_id=fam.group_id))["total_meals"] == 1
    assert (await today(app_client, fam.creator, group_id=other["id"]))["total_meals"] == 0
    # no meal write tells the group aggregates; the groups' versions move (migration 0013's
    # trigger) and the next access read sees it
    await ok(app_client, "POST", f"/pets/{fam.pet_id}/assign_group", fam.creator, json={"group_id": other["id"]})
    clock.advance(settings.snapshot_interval_s)
    assert (await today(app_client, fam.creator, group_id=fam.group_id))["total_meals"] == 0
    assert (await today(app_client, fam.creator, group_id=other["id"]))["total_meals"] == 1


async def test_a_change_the_aggregate_missed_is_reloaded(app_client, fam, clock, settings):
    meal = await log_meal(app_client, fam.member, fam.pet_id, fam.food, serving_amount=100)
    assert (await today(app_client, fam.viewer, pet_id=fam.pet_id))["total_calories"] == 380.0
    async with app_client.app[pool_key].acquire() as conn:  # behind the actors' backs, as a lost op would be
        await conn.execute("update meals set calories = 1 where id = $1", int(meal["id"]))
        await conn.execute("update pets set meal_version = meal_version + 1 where id = $1", int(fam.pet_id))
    clock.advance(settings.snapshot_interval_s)
    assert (await today(app_client, fam.viewer, pet_id=fam.pet_id))["total_calories"] == 1.0


async def test_today_in_another_groups_food_world(app_client, fam):
    """Meals of another group never show in this group's day (BOLA on today's scope)."""
    theirs = await new_group(app_client, fam.stranger)
    pet = await new_pet(app_client, fam.stranger)
    await ok(app_client, "POST", f"/pets/{pet['id']}/assign_group", fam.stranger, json={"group_id": theirs["id"]})
    await log_meal(app_client, fam.stranger, pet["id"], await new_food(app_client.app, theirs["id"]))
    assert (await today(app_client, fam.viewer, group_id=fam.group_id))["total_meals"] == 0
    assert (await today(app_client, fam.stranger, group_id=theirs["id"]))["total_meals"] == 1
