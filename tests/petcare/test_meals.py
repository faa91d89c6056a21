"""002's meal routes: create, details, update, delete, list and summary, and a group's time zone —
every role (owner and group creator, member, viewer, stranger, anonymous), BOLA on the pet, meal,
food and group ids, every validation rule, both field-name sets and both error shapes. Today's
view (the aggregates) is test_meals_today.py's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.kernel.keys import pool_key
from tests.petcare.care_builders import assert_422, assert_error, call, caller, new_group, new_pet, ok
from tests.petcare.meal_builders import Family, family, log_meal, new_food


@pytest.fixture
async def fam(client) -> Family:
    return await family(client)


# -- create ----------------------------------------------------------------------------------------


async def test_the_documents_example_is_1900_kcal_in_both_vocabularies(client, fam):
    status, body = await call(client, "POST", "/meals", fam.member, json={
        "pet_id": fam.pet_id, "food_id": str(fam.food), "fed_at": "2026-01-20T08:30:00Z", "meal_type": "breakfast",
        "serving_type": "units", "serving_amount": 50, "notes": "Ate everything quickly",
    })
    assert status == 200, body
    assert body["message"] == "Meal recorded for Fluffy successfully"
    meal = body["data"]
    assert (meal["actual_weight_g"], meal["calories"]) == (500.0, 1900.0)
    assert (meal["protein_g"], meal["fat_g"], meal["moisture_g"], meal["carbohydrate_g"]) == (150, 90, 40, 220)
    assert meal["fed_at"] == meal["timestamp"] == "2026-01-20T08:30:00Z"
    assert meal["fed_by"] == meal["user_id"] == fam.member.sid
    assert meal["fed_by_name"] == "Ben"
    assert (meal["pet_id"], meal["pet_name"], meal["food_id"]) == (fam.pet_id, "Fluffy", str(fam.food))
    assert (meal["food_brand"], meal["food_name"]) == ("Royal Canin", f"Royal Canin - {meal['food_product_name']}")
    assert (meal["group_id"], meal["group_name"]) == (fam.group_id, fam.group["name"])
    assert meal["serving_type"] == "units" and meal["serving_amount"] == 50 and meal["meal_type"] == "breakfast"
    assert isinstance(meal["id"], str) and meal["is_active"] is True


async def test_grams_and_the_references_timestamp_name(client, fam):
    meal = await log_meal(client, fam.creator, fam.pet_id, fam.food, serving_amount=37.5,
                          timestamp="2026-01-20T07:00:00+07:00")
    assert (meal["actual_weight_g"], meal["calories"], meal["protein_g"]) == (37.5, 142.5, 11.25)
    assert meal["fed_at"] == "2026-01-20T00:00:00Z"
    assert meal["meal_type"] is None  # optional, as in the reference


async def test_fed_at_defaults_to_now_and_a_naive_time_is_utc(client, fam):
    before = datetime.now(UTC) - timedelta(seconds=5)
    meal = await log_meal(client, fam.creator, fam.pet_id, fam.food)
    assert datetime.fromisoformat(meal["fed_at"].replace("Z", "+00:00")) >= before
    naive = await log_meal(client, fam.creator, fam.pet_id, fam.food, fed_at="2026-01-20T08:30:00")
    assert naive["fed_at"] == "2026-01-20T08:30:00Z"


@pytest.mark.parametrize("role,status", [("creator", 200), ("member", 200), ("viewer", 403), ("stranger", 403)])
async def test_who_may_log_a_meal(client, fam, role, status):
    got, body = await call(client, "POST", "/meals", getattr(fam, role), json={
        "pet_id": fam.pet_id, "food_id": str(fam.food), "serving_type": "grams", "serving_amount": 10})
    assert got == status, body
    if status == 403:
        assert_error(body, "You don't have permission to record meals for pets in this group")


async def test_anonymous_is_401(client, fam):
    status, body = await call(client, "POST", "/meals", None, json={
        "pet_id": fam.pet_id, "food_id": str(fam.food), "serving_type": "grams", "serving_amount": 10})
    assert status == 401
    assert_error(body, "Not authenticated")


async def test_the_food_must_be_active_and_in_the_pets_group(client, fam):
    other = await new_group(client, fam.creator)  # the same creator's other group: still not the pet's
    foreign = await new_food(client.app, other["id"])
    deleted = await new_food(client.app, fam.group_id, deleted=True)
    for food in (foreign, deleted, 999_999_999, "abc"):
        status, body = await call(client, "POST", "/meals", fam.creator, json={
            "pet_id": fam.pet_id, "food_id": str(food), "serving_type": "grams", "serving_amount": 10})
        assert status == 404, (food, body)
        assert_error(body, "Food not found or not accessible in this group")


async def test_another_groups_pet_and_missing_pets(client, fam):
    strangers_pet = await new_pet(client, fam.stranger)
    status, body = await call(client, "POST", "/meals", fam.member, json={
        "pet_id": strangers_pet["id"], "food_id": str(fam.food), "serving_type": "grams", "serving_amount": 10})
    assert status == 403
    for pet_id in ("999999999", "abc", "0", "-1"):
        status, body = await call(client, "POST", "/meals", fam.member, json={
            "pet_id": pet_id, "food_id": str(fam.food), "serving_type": "grams", "serving_amount": 10})
        assert status == 404, pet_id
        assert_error(body, "Pet not found or not accessible")


@pytest.mark.parametrize("field,value", [
    ("serving_amount", 0), ("serving_amount", -1), ("serving_amount", 10_000.5), ("serving_amount", "lots"),
    ("serving_type", "cups"), ("meal_type", "brunch"), ("notes", "x" * 501), ("fed_at", "yesterday"),
    ("pet_id", None), ("food_id", ""),
])
async def test_create_validation(client, fam, field, value):
    body = {"pet_id": fam.pet_id, "food_id": str(fam.food), "serving_type": "grams", "serving_amount": 10}
    body[field] = value
    status, answer = await call(client, "POST", "/meals", fam.creator, json=body)
    assert status == 422, answer
    assert_422(answer, field)


@pytest.mark.parametrize("missing", ["pet_id", "food_id", "serving_type", "serving_amount"])
async def test_required_fields(client, fam, missing):
    body = {"pet_id": fam.pet_id, "food_id": str(fam.food), "serving_type": "grams", "serving_amount": 10}
    del body[missing]
    status, answer = await call(client, "POST", "/meals", fam.creator, json=body)
    assert status == 422
    assert_422(answer, missing)


async def test_the_largest_serving_is_10000(client, fam):
    meal = await log_meal(client, fam.creator, fam.pet_id, fam.food, serving_amount=10_000)
    assert meal["calories"] == 38_000.0


# -- details -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role,status", [("creator", 200), ("member", 200), ("viewer", 200), ("stranger", 403)])
async def test_who_reads_a_meal(client, fam, role, status):
    meal = await log_meal(client, fam.member, fam.pet_id, fam.food)
    got, body = await call(client, "GET", f"/meals/{meal['id']}/details", getattr(fam, role))
    assert got == status
    if status == 200:
        assert body["data"] == meal and body["message"] == "Meal details retrieved successfully"
    else:
        assert_error(body, "You don't have permission to view this meal record")


async def test_details_of_no_meal(client, fam):
    assert (await call(client, "GET", "/meals/1/details", None))[0] == 401
    for meal_id in ("999999999", "abc", "0", "%00"):
        status, body = await call(client, "GET", f"/meals/{meal_id}/details", fam.creator)
        assert status == 404, meal_id
        if meal_id != "%00":
            assert_error(body, "Meal record not found")


# -- update ------------------------------------------------------------------------------------


async def test_update_recalculates_and_is_partial(client, fam):
    meal = await log_meal(client, fam.member, fam.pet_id, fam.food, serving_amount=100, notes="first")
    updated = await ok(client, "POST", f"/meals/{meal['id']}/update", fam.member,
                       json={"serving_type": "units", "serving_amount": 5, "meal_type": "dinner"})
    assert (updated["actual_weight_g"], updated["calories"], updated["meal_type"]) == (50.0, 190.0, "dinner")
    assert updated["notes"] == "first"
    other_food = await new_food(client.app, fam.group_id, calories_per_100g=100, unit_weight_g=20)
    status, body = await call(client, "POST", f"/meals/{meal['id']}/update", fam.member,
                              json={"food_id": str(other_food)})
    assert status == 200 and body["message"] == "Meal record for Fluffy updated successfully"
    assert (body["data"]["actual_weight_g"], body["data"]["calories"]) == (100.0, 100.0)
    notes_only = await ok(client, "POST", f"/meals/{meal['id']}/update", fam.member,
                          json={"notes": "second", "fed_at": "2026-02-01T10:00:00Z"})
    assert notes_only["calories"] == 100.0 and notes_only["notes"] == "second"
    assert notes_only["fed_at"] == "2026-02-01T10:00:00Z"
    unchanged = await ok(client, "POST", f"/meals/{meal['id']}/update", fam.member, json={})
    assert unchanged == notes_only


@pytest.mark.parametrize("role,own,status", [
    ("creator", False, 200), ("member", True, 200), ("member", False, 403), ("viewer", False, 403),
    ("stranger", False, 403),
])
async def test_who_changes_a_meal(client, fam, role, own, status):
    who = getattr(fam, role)
    meal = await log_meal(client, fam.member if own else fam.creator, fam.pet_id, fam.food)
    got, body = await call(client, "POST", f"/meals/{meal['id']}/update", who, json={"serving_amount": 20})
    assert got == status, body
    if status == 403:
        message = ("You don't have permission to view this meal record" if role == "stranger"
                   else "You don't have permission to modify this meal record")
        assert_error(body, message)
    got, body = await call(client, "POST", f"/meals/{meal['id']}/delete", who)
    assert got == status, body


async def test_update_to_another_groups_food_is_404_and_changes_nothing(client, fam):
    meal = await log_meal(client, fam.creator, fam.pet_id, fam.food)
    foreign = await new_food(client.app, (await new_group(client, fam.stranger))["id"])
    status, body = await call(client, "POST", f"/meals/{meal['id']}/update", fam.creator,
                              json={"food_id": str(foreign), "serving_amount": 1})
    assert status == 404
    assert_error(body, "Food not found or not accessible in this group")
    assert await ok(client, "GET", f"/meals/{meal['id']}/details", fam.creator) == meal


@pytest.mark.parametrize("field,value", [("serving_amount", 0), ("serving_type", "cups"), ("meal_type", "x"),
                                         ("notes", "y" * 501)])
async def test_update_validation(client, fam, field, value):
    meal = await log_meal(client, fam.creator, fam.pet_id, fam.food)
    status, body = await call(client, "POST", f"/meals/{meal['id']}/update", fam.creator, json={field: value})
    assert status == 422
    assert_422(body, field)


async def test_update_of_no_meal(client, fam):
    status, body = await call(client, "POST", "/meals/999999999/update", fam.creator, json={"notes": "x"})
    assert status == 404
    assert_error(body, "Meal record not found")


# -- delete ------------------------------------------------------------------------------------


async def test_delete_is_soft_and_final(client, fam):
    meal = await log_meal(client, fam.member, fam.pet_id, fam.food)
    status, body = await call(client, "POST", f"/meals/{meal['id']}/delete", fam.member)
    assert status == 200 and body["message"] == "Meal record deleted successfully"
    assert body["data"] == {"message": "Meal record has been deleted successfully", "meal_id": meal["id"]}
    assert (await call(client, "GET", f"/meals/{meal['id']}/details", fam.member))[0] == 404
    assert (await call(client, "POST", f"/meals/{meal['id']}/delete", fam.member))[0] == 404
    assert await ok(client, "GET", "/meals", fam.member, params={"pet_id": fam.pet_id}) == []
    async with client.app[pool_key].acquire() as conn:
        row = await conn.fetchrow("select deleted_at, deleted_by from meals where id = $1", int(meal["id"]))
    assert row["deleted_at"] is not None and row["deleted_by"] == fam.member.id


async def test_a_deleted_pets_meals_are_gone(client, fam):
    meal = await log_meal(client, fam.creator, fam.pet_id, fam.food)
    await ok(client, "POST", f"/pets/{fam.pet_id}/delete", fam.creator)
    assert (await call(client, "GET", f"/meals/{meal['id']}/details", fam.creator))[0] == 404
    status, body = await call(client, "GET", "/meals", fam.creator, params={"pet_id": fam.pet_id})
    assert status == 404
    assert_error(body, "Pet not found or not accessible")


# -- list --------------------------------------------------------------------------------------


async def test_list_needs_a_pet_or_a_group(client, fam):
    status, body = await call(client, "GET", "/meals", fam.creator)
    assert status == 400
    assert_error(body, "Either pet_id or group_id must be provided")
    assert (await call(client, "GET", "/meals", None, params={"pet_id": fam.pet_id}))[0] == 401


@pytest.mark.parametrize("role,status", [("creator", 200), ("member", 200), ("viewer", 200), ("stranger", 403)])
async def test_who_lists(client, fam, role, status):
    await log_meal(client, fam.creator, fam.pet_id, fam.food)
    for params, message in (({"pet_id": fam.pet_id}, "You don't have permission to view meals for this pet"),
                            ({"group_id": fam.group_id}, "You don't have permission to view meals for this group")):
        got, body = await call(client, "GET", "/meals", getattr(fam, role), params=params)
        assert got == status, body
        if status == 200:
            assert len(body["data"]) == 1 and body["message"] == "Found 1 meal records"
        else:
            assert_error(body, message)


async def test_a_group_that_does_not_exist_or_cannot_be_named(client, fam):
    for group_id in ("999999999", "abc"):
        status, body = await call(client, "GET", "/meals", fam.creator, params={"group_id": group_id})
        assert status == 403
        assert_error(body, "You don't have permission to view meals for this group")


async def test_list_filters_order_and_pages(client, fam):
    second_pet = await new_pet(client, fam.creator, name="Rex")
    await ok(client, "POST", f"/pets/{second_pet['id']}/assign_group", fam.creator, json={"group_id": fam.group_id})
    a = await log_meal(client, fam.creator, fam.pet_id, fam.food, fed_at="2026-01-20T08:00:00Z", meal_type="breakfast")
    b = await log_meal(client, fam.member, fam.pet_id, fam.food, fed_at="2026-01-21T18:00:00Z", meal_type="dinner")
    c = await log_meal(client, fam.member, second_pet["id"], fam.food, fed_at="2026-01-22T12:00:00Z")
    ids = lambda rows: [r["id"] for r in rows]  # noqa: E731
    listed = await ok(client, "GET", "/meals", fam.viewer, params={"pet_id": fam.pet_id})
    assert ids(listed) == [b["id"], a["id"]]  # newest first
    group = await ok(client, "GET", "/meals", fam.viewer, params={"group_id": fam.group_id})
    assert ids(group) == [c["id"], b["id"], a["id"]]
    # pet_id wins over group_id, as in the reference
    assert ids(await ok(client, "GET", "/meals", fam.viewer, params={"pet_id": fam.pet_id,
                                                                    "group_id": fam.group_id})) == [b["id"], a["id"]]
    by_member = await ok(client, "GET", "/meals", fam.viewer, params={"group_id": fam.group_id,
                                                                      "fed_by": fam.member.sid})
    assert ids(by_member) == [c["id"], b["id"]]
    assert await ok(client, "GET", "/meals", fam.viewer, params={"group_id": fam.group_id, "fed_by": "nobody"}) == []
    dinner = await ok(client, "GET", "/meals", fam.viewer, params={"group_id": fam.group_id, "meal_type": "dinner"})
    assert ids(dinner) == [b["id"]]
    ranged = await ok(client, "GET", "/meals", fam.viewer, params={"group_id": fam.group_id,
                                                                   "date_from": "2026-01-21", "date_to": "2026-01-21"})
    assert ids(ranged) == [b["id"]]
    since = await ok(client, "GET", "/meals", fam.viewer, params={"group_id": fam.group_id, "date_from": "2026-01-21"})
    assert ids(since) == [c["id"], b["id"]]
    paged = await ok(client, "GET", "/meals", fam.viewer, params={"group_id": fam.group_id, "limit": "1",
                                                                  "offset": "1"})
    assert ids(paged) == [b["id"]]
    assert len(await ok(client, "GET", "/meals", fam.viewer, params={"group_id": fam.group_id,
                                                                    "limit": "1000"})) == 3


@pytest.mark.parametrize("param,value", [("limit", "0"), ("limit", "1001"), ("limit", "ten"), ("offset", "-1"),
                                         ("date_from", "2026-13-01"), ("date_to", "soon"), ("meal_type", "brunch")])
async def test_list_validation(client, fam, param, value):
    status, body = await call(client, "GET", "/meals", fam.creator, params={"pet_id": fam.pet_id, param: value})
    assert status == 422, body
    assert_422(body, param)


async def test_a_range_that_ends_before_it_starts(client, fam):
    status, body = await call(client, "GET", "/meals", fam.creator, params={
        "pet_id": fam.pet_id, "date_from": "2026-01-21", "date_to": "2026-01-20"})
    assert status == 422
    assert_422(body, "date_from")


async def test_a_pet_moved_to_another_group_takes_its_meals_along(client, fam):
    meal = await log_meal(client, fam.creator, fam.pet_id, fam.food)
    other = await new_group(client, fam.creator)
    await ok(client, "POST", f"/pets/{fam.pet_id}/assign_group", fam.creator, json={"group_id": other["id"]})
    assert await ok(client, "GET", "/meals", fam.creator, params={"group_id": fam.group_id}) == []
    moved = await ok(client, "GET", "/meals", fam.creator, params={"group_id": other["id"]})
    assert [m["id"] for m in moved] == [meal["id"]]
    assert moved[0]["group_id"] == fam.group_id  # the group it was logged in
    # the old group's members no longer reach the pet, nor its meals
    assert (await call(client, "GET", f"/meals/{meal['id']}/details", fam.member))[0] == 403


# -- summary -----------------------------------------------------------------------------------


async def test_summary_needs_both_dates(client, fam):
    for params in ({"pet_id": fam.pet_id}, {"pet_id": fam.pet_id, "date_from": "2026-01-01"},
                   {"pet_id": fam.pet_id, "date_to": "2026-01-01"}):
        status, body = await call(client, "GET", "/meals/summary", fam.creator, params=params)
        assert status == 422, params
        assert_422(body, "date_to" if "date_from" in params else "date_from")
    status, body = await call(client, "GET", "/meals/summary", fam.creator,
                              params={"date_from": "2026-01-01", "date_to": "2026-01-02"})
    assert status == 400
    assert_error(body, "Either pet_id or group_id must be provided")


async def test_summary_sections(client, fam):
    cheap = await new_food(client.app, fam.group_id, brand="Hill's", calories_per_100g=100)
    # 300 kcal target: day 1 at 285 (95 %, on target), day 2 at 600 (200 %), day 3 nothing
    await log_meal(client, fam.creator, fam.pet_id, fam.food, fed_at="2026-01-20T08:00:00Z", meal_type="breakfast",
                   serving_amount=50)  # 190 kcal
    await log_meal(client, fam.member, fam.pet_id, cheap, fed_at="2026-01-20T18:00:00Z", meal_type="dinner",
                   serving_amount=95)  # 95 kcal
    await log_meal(client, fam.member, fam.pet_id, cheap, fed_at="2026-01-21T09:00:00Z", serving_amount=600)
    status, body = await call(client, "GET", "/meals/summary", fam.viewer,
                              params={"pet_id": fam.pet_id, "date_from": "2026-01-20", "date_to": "2026-01-22"})
    assert status == 200, body
    assert body["message"] == "Meal statistics generated for period 2026-01-20 to 2026-01-22"
    s = body["data"]
    assert (s["total_days"], s["total_meals"], s["total_calories"], s["total_weight_g"]) == (3, 3, 885.0, 745.0)
    assert s["average_meals_per_day"] == 1.0 and s["average_calories_per_day"] == 295.0
    assert s["average_protein_g_per_day"] == round(745 * 0.3 / 3, 2)  # every food here is 30 % protein
    assert s["meal_type_distribution"] == {"breakfast": 1, "dinner": 1, "unspecified": 1}
    assert s["most_active_feeders"] == [
        {"user_id": fam.member.sid, "user_name": "Ben", "meal_count": 2},
        {"user_id": fam.creator.sid, "user_name": "Ada", "meal_count": 1},
    ]
    assert [(f["food_id"], f["usage_count"], f["calories"]) for f in s["most_used_foods"]] == [
        (str(cheap), 2, 695.0), (str(fam.food), 1, 190.0)]
    assert s["target_achievement"] == {"daily_calorie_target": 300, "days_fed": 2, "days_on_target": 1,
                                       "average_target_percentage": 98.3}
    by_type = await ok(client, "GET", "/meals/summary", fam.viewer, params={
        "group_id": fam.group_id, "date_from": "2026-01-20", "date_to": "2026-01-20", "meal_type": "dinner"})
    assert (by_type["total_meals"], by_type["total_calories"], by_type["target_achievement"]) == (1, 95.0, None)
    assert by_type["group_id"] == fam.group_id and by_type["pet_id"] is None


async def test_summary_of_nothing(client, fam):
    s = await ok(client, "GET", "/meals/summary", fam.creator,
                 params={"pet_id": fam.pet_id, "date_from": "2026-01-01", "date_to": "2026-01-07"})
    assert (s["total_days"], s["total_meals"], s["average_calories_per_day"]) == (7, 0, 0.0)
    assert s["most_active_feeders"] == [] and s["most_used_foods"] == [] and s["meal_type_distribution"] == {}


async def test_summary_is_one_grouped_query_per_section(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    # every connection exists from the start, so a logger on each sees the summary's queries
    fixed = settings.model_copy(update={"db_pool_min": 3, "db_pool_max": 3})
    client = await aiohttp_client(create_app(fixed))
    fam = await family(client)
    await log_meal(client, fam.creator, fam.pet_id, fam.food, fed_at="2026-01-20T08:00:00Z")
    statements: list[str] = []
    pool = client.app[pool_key]
    held = [await pool.acquire() for _ in range(3)]
    def log(record) -> None:
        statements.append(record.query)

    for conn in held:
        conn.add_query_logger(log)
    for conn in held:
        await pool.release(conn)
    await ok(client, "GET", "/meals/summary", fam.creator,
             params={"pet_id": fam.pet_id, "date_from": "2026-01-01", "date_to": "2026-01-31"})
    held = [await pool.acquire() for _ in range(3)]
    for conn in held:
        conn.remove_query_logger(log)
        await pool.release(conn)
    over_meals = [q for q in statements if "from meals" in q]
    assert len(over_meals) == 5  # totals, types, feeders, foods, days on target
    assert all("group by" in q or "count(*) as meals" in q for q in over_meals)


@pytest.mark.parametrize("role,status", [("viewer", 200), ("stranger", 403)])
async def test_who_reads_a_summary(client, fam, role, status):
    got, body = await call(client, "GET", "/meals/summary", getattr(fam, role),
                           params={"group_id": fam.group_id, "date_from": "2026-01-01", "date_to": "2026-01-02"})
    assert got == status
    assert (await call(client, "GET", "/meals/summary", None,
                       params={"group_id": fam.group_id, "date_from": "2026-01-01", "date_to": "2026-01-02"}))[0] == 401


# -- a group's time zone -------------------------------------------------------------------------


async def test_the_creator_sets_the_groups_zone_and_its_dates_follow(client, fam):
    # 23:30 on the 20th and 00:30 on the 21st in Hanoi: one UTC day (the 20th), two local ones
    late = await log_meal(client, fam.creator, fam.pet_id, fam.food, fed_at="2026-01-20T23:30:00+07:00")
    early = await log_meal(client, fam.creator, fam.pet_id, fam.food, fed_at="2026-01-21T00:30:00+07:00")
    day = {"pet_id": fam.pet_id, "date_from": "2026-01-21", "date_to": "2026-01-21"}
    zone = await ok(client, "POST", f"/groups/{fam.group_id}/timezone", fam.creator,
                    json={"timezone": "Asia/Ho_Chi_Minh"})
    assert zone == {"group_id": fam.group_id, "timezone": "Asia/Ho_Chi_Minh", "is_default": False}
    assert [m["id"] for m in await ok(client, "GET", "/meals", fam.viewer, params=day)] == [early["id"]]
    s = await ok(client, "GET", "/meals/summary", fam.viewer, params={**day, "date_from": "2026-01-20"})
    assert (s["timezone"], s["total_meals"], s["total_days"]) == ("Asia/Ho_Chi_Minh", 2, 2)
    await ok(client, "POST", f"/groups/{fam.group_id}/timezone", fam.creator, json={"timezone": "UTC"})
    utc_day = {**day, "date_from": "2026-01-20", "date_to": "2026-01-20"}
    assert {m["id"] for m in await ok(client, "GET", "/meals", fam.viewer, params=utc_day)} == {late["id"],
                                                                                                  early["id"]}
    back = await ok(client, "POST", f"/groups/{fam.group_id}/timezone", fam.creator, json={"timezone": None})
    assert back["is_default"] is True


@pytest.mark.parametrize("role", ["member", "viewer", "stranger"])
async def test_only_the_creator_sets_the_zone(client, fam, role):
    status, body = await call(client, "POST", f"/groups/{fam.group_id}/timezone", getattr(fam, role),
                              json={"timezone": "Asia/Tokyo"})
    assert status == 403
    assert_error(body, "You are not a member of this group" if role == "stranger"
                 else "Only the group creator can change the group's time zone")


async def test_zone_names_are_checked(client, fam):
    for bad in ("Mars/Olympus", "../../etc/passwd", "x" * 65):
        status, body = await call(client, "POST", f"/groups/{fam.group_id}/timezone", fam.creator,
                                  json={"timezone": bad})
        assert status == 422, bad
        assert_422(body, "timezone")
    assert (await call(client, "POST", f"/groups/{fam.group_id}/timezone", None, json={"timezone": "UTC"}))[0] == 401
    status, _ = await call(client, "POST", "/groups/999999999/timezone", fam.creator, json={"timezone": "UTC"})
    assert status == 403


async def test_a_000_editor_logs_like_a_member(client, fam):
    """One access model: a per-pet editor grant through 000 is a 002 member for meals."""
    editor = await caller(client, "Eve")
    async with client.app[pool_key].acquire() as conn:
        await conn.execute("insert into pet_access (pet_id, user_id, role) values ($1, $2, 'editor')",
                           int(fam.pet_id), editor.id)
    own = await log_meal(client, editor, fam.pet_id, fam.food)
    theirs = await log_meal(client, fam.creator, fam.pet_id, fam.food)
    assert (await call(client, "POST", f"/meals/{own['id']}/update", editor, json={"notes": "mine"}))[0] == 200
    assert (await call(client, "POST", f"/meals/{theirs['id']}/delete", editor))[0] == 403



async def test_a_personal_access_token_needs_the_acts_ability(client, fam):
    """000's abilities over the same pets: a read-only token reads meals and writes none."""
    from tests.builders import bearer, make_token

    meal = await log_meal(client, fam.creator, fam.pet_id, fam.food)
    read_only = bearer(await make_token(client.app, fam.creator.id, abilities=("read",)))
    for path in (f"/meals?pet_id={fam.pet_id}", f"/meals/{meal['id']}/details", f"/meals/today?pet_id={fam.pet_id}",
                 f"/meals/summary?pet_id={fam.pet_id}&date_from=2026-01-01&date_to=2026-01-02"):
        assert (await client.get(path, headers=read_only)).status == 200, path
    writes = (
        ("/meals", {"pet_id": fam.pet_id, "food_id": str(fam.food), "serving_type": "grams", "serving_amount": 1}),
        (f"/meals/{meal['id']}/update", {"notes": "x"}),
        (f"/meals/{meal['id']}/delete", None),
        (f"/groups/{fam.group_id}/timezone", {"timezone": "UTC"}),
    )
    for path, body in writes:
        resp = await client.post(path, json=body, headers=read_only)
        assert resp.status == 403, path
        assert (await resp.json())["details"]["error_type"] == "missing_ability"
    assert await ok(client, "GET", f"/meals/{meal['id']}/details", fam.creator) == meal
