"""002's food routes: create, list, info (the keyword search), details, update, delete — every
role (creator, member, viewer, stranger, anonymous), BOLA on food and group ids, every validation
rule, both field-name sets in and out, the >105 % rule, soft delete, and the search's plan (the
GIN index, not a scan). Photos are test_care_photos.py's."""

from __future__ import annotations

import pytest

from domain import foods
from gateway.kernel.keys import pool_key
from storage import foods as foods_sql
from tests.builders import bearer, make_token
from tests.petcare.care_builders import assert_422, assert_error, call, caller, ok
from tests.petcare.food_builders import REFERENCE_NAMES, ROYAL, Household, household, in_reference_names, new_food

NOT_MEMBER = "You must be a member of this group to access its food database"


@pytest.fixture
async def home(client) -> Household:
    return await household(client)


def assert_both_names(food: dict, expected: dict) -> None:
    for doc_name, ref_name in REFERENCE_NAMES.items():
        assert food[doc_name] == float(expected[doc_name]), doc_name
        assert food[ref_name] == float(expected[doc_name]), ref_name


# -- create ------------------------------------------------------------------------------------------


async def test_create_answers_the_document_example_with_both_name_sets(client, home):
    resp = await client.post(f"/foods/create?group_id={home.group_id}", json=ROYAL, headers=home.creator.headers)
    assert resp.status == 200  # the reference answers creates with 200
    body = await resp.json()
    assert body["message"] == "Food 'Royal Canin - Persian Adult Cat Food' added to group database"
    food = body["data"]
    assert_both_names(food, ROYAL)
    assert food["calories_per_unit"] == 38.0
    assert food["brand"] == "Royal Canin" and food["product_name"] == "Persian Adult Cat Food"
    assert food["food_type"] == "dry_food" and food["target_pet"] == "cat"
    assert food["group_id"] == home.group_id
    assert food["is_active"] is True and food["has_photo"] is False and food["photo_url"] == ""
    assert food["creator_id"] == home.creator.sid and food["creator_name"] == home.creator.name
    assert isinstance(food["id"], str) and food["id"].isdigit()
    assert food["created_at"].endswith("Z")


async def test_create_takes_the_reference_names(client, home):
    body = in_reference_names(ROYAL | {"unit_weight_g": 8.5, "calories_per_100g": 365})
    assert "unit_weight" in body and "unit_weight_g" not in body
    food = await ok(client, "POST", f"/foods/create?group_id={home.group_id}", home.member, json=body)
    assert food["unit_weight_g"] == 8.5 and food["unit_weight"] == 8.5
    assert food["calories_per_100g"] == 365 and food["calories"] == 365
    assert food["calories_per_unit"] == 31.025  # 365 x 8.5 / 100, exact (numeric)
    assert food["protein_percentage"] == 30.0 and food["protein"] == 30.0


async def test_create_by_role(client, home):
    for role in ("creator", "member"):
        await new_food(client, home.role(role), home.group_id)
    status, body = await call(client, "POST", f"/foods/create?group_id={home.group_id}", home.viewer, json=ROYAL)
    assert status == 403
    assert_error(body, "Only group creators and members can add foods to the database")
    status, body = await call(client, "POST", f"/foods/create?group_id={home.group_id}", home.stranger, json=ROYAL)
    assert status == 403
    assert_error(body, NOT_MEMBER)
    status, body = await call(client, "POST", f"/foods/create?group_id={home.group_id}", None, json=ROYAL)
    assert status == 401
    assert_error(body, "Not authenticated")
    listed = await ok(client, "GET", f"/foods/list?group_id={home.group_id}", home.creator)
    assert len(listed) == 2  # nothing from the refused ones


@pytest.mark.parametrize("group_id", ["0", "abc", "999999999", "-1", "1e3"])
async def test_create_in_a_group_id_that_names_none_of_the_callers_groups_is_403(client, home, group_id):
    status, body = await call(client, "POST", f"/foods/create?group_id={group_id}", home.creator, json=ROYAL)
    assert status == 403
    assert_error(body, NOT_MEMBER)


async def test_create_needs_group_id_and_every_field(client, home):
    status, body = await call(client, "POST", "/foods/create", home.creator, json=ROYAL)
    assert status == 422
    assert_422(body, "group_id")
    status, body = await call(client, "POST", f"/foods/create?group_id={home.group_id}", home.creator, json={})
    assert status == 422
    assert set(body["details"]["field_errors"]) == {"brand", "product_name", "food_type", "target_pet",
                                                    *REFERENCE_NAMES}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("brand", ""),
        ("brand", "   "),
        ("brand", "b" * 101),
        ("product_name", ""),
        ("product_name", "p" * 101),
        ("food_type", "treat"),
        ("target_pet", "hamster"),
        ("unit_weight_g", 0),
        ("unit_weight_g", 5000.5),
        ("calories_per_100g", -1),
        ("calories_per_100g", 1000.1),
        ("protein_percentage", -0.1),
        ("fat_percentage", 100.5),
        ("moisture_percentage", "lots"),
        ("carbohydrate_percentage", None),
    ],
)
async def test_create_refuses_what_the_reference_refuses(client, home, field, value):
    status, body = await call(client, "POST", f"/foods/create?group_id={home.group_id}", home.creator,
                              json=ROYAL | {field: value})
    assert status == 422
    assert_422(body, field)


async def test_create_refuses_out_of_range_values_under_the_reference_names_too(client, home):
    body = in_reference_names(ROYAL) | {"unit_weight": 0}
    status, answer = await call(client, "POST", f"/foods/create?group_id={home.group_id}", home.creator, json=body)
    assert status == 422
    assert answer["details"]["field_errors"] == ["unit_weight"]  # the name the client sent


async def test_percentages_over_105_are_400_and_105_passes(client, home):
    over = ROYAL | {"protein_percentage": 40, "fat_percentage": 20, "moisture_percentage": 10,
                    "carbohydrate_percentage": 35.1}  # 105.1
    status, body = await call(client, "POST", f"/foods/create?group_id={home.group_id}", home.creator, json=over)
    assert status == 400
    assert_error(body, "Nutritional percentages cannot exceed 100% (total: 105.1%)")
    assert body["details"]["error_type"] == "nutrition_over_limit"
    exactly = over | {"carbohydrate_percentage": 35}
    food = await ok(client, "POST", f"/foods/create?group_id={home.group_id}", home.creator, json=exactly)
    assert food["carbohydrate_percentage"] == 35.0
    assert await ok(client, "GET", f"/foods/list?group_id={home.group_id}", home.creator) == [food]


# -- list ----------------------------------------------------------------------------------------------


async def test_list_for_every_member_sorted_by_brand_then_product(client, home):
    hills = await new_food(client, home.creator, home.group_id, brand="Hill's", product_name="Science Diet")
    royal_b = await new_food(client, home.member, home.group_id, brand="royal canin", product_name="Babycat")
    royal_a = await new_food(client, home.member, home.group_id, brand="Royal Canin", product_name="Adult")
    for role in ("creator", "member", "viewer"):
        resp = await client.get(f"/foods/list?group_id={home.group_id}", headers=home.role(role).headers)
        assert resp.status == 200, role
        body = await resp.json()
        assert [f["id"] for f in body["data"]] == [hills["id"], royal_a["id"], royal_b["id"]]
        assert body["message"] == "Found 3 foods in group database"


async def test_list_filters_by_food_type_and_target_pet(client, home):
    dry_cat = await new_food(client, home.creator, home.group_id)
    wet_cat = await new_food(client, home.creator, home.group_id, food_type="wet_food")
    dry_dog = await new_food(client, home.creator, home.group_id, target_pet="dog")
    base = f"/foods/list?group_id={home.group_id}"
    assert [f["id"] for f in await ok(client, "GET", base + "&food_type=wet_food", home.viewer)] == [wet_cat["id"]]
    dogs = await ok(client, "GET", base + "&target_pet=dog", home.viewer)
    assert [f["id"] for f in dogs] == [dry_dog["id"]]
    both = await ok(client, "GET", base + "&food_type=dry_food&target_pet=cat", home.viewer)
    assert [f["id"] for f in both] == [dry_cat["id"]]
    status, body = await call(client, "GET", base + "&food_type=treat", home.viewer)
    assert status == 422
    assert_422(body, "food_type")


async def test_list_refuses_strangers_anonymous_and_a_missing_group(client, home):
    await new_food(client, home.creator, home.group_id)
    status, body = await call(client, "GET", f"/foods/list?group_id={home.group_id}", home.stranger)
    assert status == 403
    assert_error(body, NOT_MEMBER)
    status, body = await call(client, "GET", f"/foods/list?group_id={home.group_id}", None)
    assert status == 401
    status, body = await call(client, "GET", "/foods/list", home.creator)
    assert status == 422
    assert_422(body, "group_id")


async def test_a_group_lists_only_its_own_foods(client, home):
    mine = await new_food(client, home.creator, home.group_id)
    other = await household(client)
    await new_food(client, other.creator, other.group_id)
    assert [f["id"] for f in await ok(client, "GET", f"/foods/list?group_id={home.group_id}", home.member)] == [
        mine["id"]
    ]


# -- info (search) -------------------------------------------------------------------------------------


async def test_search_is_case_insensitive_prefix_matching_with_brand_matches_first(client, home):
    by_brand = await new_food(client, home.creator, home.group_id, brand="Salmon Co", product_name="Kibble")
    by_product = await new_food(client, home.creator, home.group_id, brand="Acme", product_name="Salmon Feast")
    await new_food(client, home.creator, home.group_id, brand="Acme", product_name="Chicken Dinner")
    base = f"/foods/info?group_id={home.group_id}"
    for keyword in ("salmon", "SALM", "Sal"):
        found = await ok(client, "GET", f"{base}&keyword={keyword}", home.viewer)
        assert [f["id"] for f in found] == [by_brand["id"], by_product["id"]], keyword
    # every word must match (the prefix of a word of brand or product name)
    found = await ok(client, "GET", f"{base}&keyword=acme+salm", home.viewer)
    assert [f["id"] for f in found] == [by_product["id"]]
    resp = await client.get(f"{base}&keyword=salmon", headers=home.member.headers)
    assert (await resp.json())["message"] == "Found 2 foods matching 'salmon'"
    assert await ok(client, "GET", f"{base}&keyword=beef", home.viewer) == []


async def test_search_handles_punctuation_and_hostile_keywords(client, home):
    hills = await new_food(client, home.creator, home.group_id, brand="Hill's", product_name="Science Diet")
    base = f"/foods/info?group_id={home.group_id}"
    for keyword in ("hill's", "Hill", "science-diet"):
        found = await ok(client, "GET", f"{base}&keyword={keyword}", home.creator)
        assert [f["id"] for f in found] == [hills["id"]], keyword
    # tsquery syntax, quotes and SQL in the keyword are words, never operators
    for keyword in ("'):* | !", "x' or '1'='1", "%", "&|!():*", "\\"):
        params = {"group_id": home.group_id, "keyword": keyword}
        assert await ok(client, "GET", "/foods/info", home.creator, params=params) == [], keyword


async def test_search_filters_and_stays_in_the_group(client, home):
    dry = await new_food(client, home.creator, home.group_id, brand="Orijen")
    wet = await new_food(client, home.creator, home.group_id, brand="Orijen", food_type="wet_food")
    other = await household(client)
    await new_food(client, other.creator, other.group_id, brand="Orijen")
    base = f"/foods/info?group_id={home.group_id}&keyword=orijen"
    assert {f["id"] for f in await ok(client, "GET", base, home.viewer)} == {dry["id"], wet["id"]}
    assert [f["id"] for f in await ok(client, "GET", base + "&food_type=wet_food", home.viewer)] == [wet["id"]]
    assert await ok(client, "GET", base + "&target_pet=dog", home.viewer) == []


async def test_search_needs_a_keyword_and_membership(client, home):
    base = f"/foods/info?group_id={home.group_id}"
    for query in ("", "&keyword=", "&keyword=%20%20"):
        status, body = await call(client, "GET", base + query, home.creator)
        assert status == 422, query
        assert_422(body, "keyword")
    status, body = await call(client, "GET", base + "&keyword=royal", home.stranger)
    assert status == 403
    assert_error(body, NOT_MEMBER)
    status, _ = await call(client, "GET", base + "&keyword=royal", None)
    assert status == 401
    status, body = await call(client, "GET", base + "&keyword=" + "k" * 101, home.creator)
    assert status == 422
    assert_422(body, "keyword")


async def test_deleted_foods_are_not_found_by_search_or_list(client, home):
    food = await new_food(client, home.creator, home.group_id, brand="Gone")
    await ok(client, "POST", f"/foods/{food['id']}/delete", home.creator)
    assert await ok(client, "GET", f"/foods/info?group_id={home.group_id}&keyword=gone", home.creator) == []
    assert await ok(client, "GET", f"/foods/list?group_id={home.group_id}", home.creator) == []


async def test_the_search_runs_on_the_full_text_index(client, home):
    """The plan of the route's own query (storage/foods.py's SEARCH_SQL) over a group of 4,000
    foods (and another group's 1,000), statistics fresh: a bitmap scan of foods_search_idx, not a
    scan of the table nor of the whole group. (A small group is read through its btree, foods_group_idx,
    then filtered: fewer rows than any keyword narrows to.)"""
    pool = client.app[pool_key]
    query = foods.keyword_query("Brand170")
    assert query == "'brand170':*"
    creator_id = int(home.creator.sid)
    group_id = int(home.group_id)
    async with pool.acquire() as conn:
        other_group = await conn.fetchval(
            "insert into groups (name, creator_id) values ('Other', $1) returning id", creator_id
        )
        rows = [
            (group_id if n < 4000 else other_group, creator_id, f"Brand{n % 300}", f"Product number {n}", "dry_food",
             "cat", 10, 350, 30, 15, 10, 40)
            for n in range(5000)
        ]
        await conn.copy_records_to_table(
            "foods",
            records=rows,
            columns=["group_id", "created_by", "brand", "product_name", "food_type", "target_pet", "unit_weight_g",
                     "calories_per_100g", "protein_percentage", "fat_percentage", "moisture_percentage",
                     "carbohydrate_percentage"],
        )
        # the steady state autovacuum keeps: fresh statistics, and the GIN index's pending list
        # (where fastupdate parks new entries) merged, as the planner costs a long one as a scan
        await conn.execute("vacuum analyze foods")
        explained = await conn.fetch("explain " + foods_sql.SEARCH_SQL, creator_id, group_id, None, None, query, 100)
        plan = "\n".join(r[0] for r in explained)
        found = await foods_sql.search(conn, group_id, creator_id, query, food_type=None, target_pet=None, limit=100)
    assert "Bitmap Index Scan on foods_search_idx" in plan, plan
    assert "Seq Scan on foods" not in plan, plan
    # and it answers: Brand170's foods in this group only
    assert sorted(r["product_name"] for r in found) == sorted(
        f"Product number {n}" for n in range(4000) if n % 300 == 170
    )


# -- details -------------------------------------------------------------------------------------------


async def test_details_for_every_member_and_not_for_others(client, home):
    food = await new_food(client, home.creator, home.group_id)
    for role in ("creator", "member", "viewer"):
        got = await ok(client, "GET", f"/foods/{food['id']}/details", home.role(role))
        assert got == food, role
    status, body = await call(client, "GET", f"/foods/{food['id']}/details", home.stranger)
    assert status == 403
    assert_error(body, NOT_MEMBER)
    status, body = await call(client, "GET", f"/foods/{food['id']}/details", None)
    assert status == 401


async def test_another_groups_food_is_403_and_no_food_is_404(client, home):
    other = await household(client)
    theirs = await new_food(client, other.creator, other.group_id)
    for role in ("creator", "member", "viewer"):
        for method, path in (("GET", "details"), ("POST", "update"), ("POST", "delete")):
            status, body = await call(client, method, f"/foods/{theirs['id']}/{path}", home.role(role), json={})
            assert status == 403, (role, path)
            assert_error(body, NOT_MEMBER)
    for food_id in ("999999999", "abc", "0", "-3", "1.5"):
        for method, path in (("GET", "details"), ("POST", "update"), ("POST", "delete")):
            status, body = await call(client, method, f"/foods/{food_id}/{path}", home.creator, json={})
            assert status == 404, (food_id, path)
            assert_error(body, "Food not found")
    assert await ok(client, "GET", f"/foods/{theirs['id']}/details", other.creator) == theirs  # untouched


# -- update --------------------------------------------------------------------------------------------


async def test_update_is_partial_in_either_name_and_recomputes_calories_per_unit(client, home):
    food = await new_food(client, home.creator, home.group_id)
    resp = await client.post(f"/foods/{food['id']}/update", json={"unit_weight": 20}, headers=home.member.headers)
    body = await resp.json()
    assert resp.status == 200
    assert body["message"] == f"Food 'Royal Canin - {food['product_name']}' updated successfully"
    updated = body["data"]
    assert updated["unit_weight_g"] == 20.0 and updated["unit_weight"] == 20.0
    assert updated["calories_per_unit"] == 76.0
    updated = await ok(client, "POST", f"/foods/{food['id']}/update", home.creator,
                       json={"calories_per_100g": 400, "brand": "Royal Canin Pro"})
    assert updated["calories"] == 400 and updated["calories_per_unit"] == 80.0
    assert updated["brand"] == "Royal Canin Pro"
    unchanged = {k: v for k, v in food.items() if k not in ("unit_weight_g", "unit_weight", "calories_per_100g",
                                                            "calories", "calories_per_unit", "brand", "updated_at")}
    assert {k: updated[k] for k in unchanged} == unchanged
    assert await ok(client, "POST", f"/foods/{food['id']}/update", home.creator, json={}) == await ok(
        client, "GET", f"/foods/{food['id']}/details", home.creator
    )


async def test_update_checks_the_percentages_as_they_will_be(client, home):
    food = await new_food(client, home.creator, home.group_id)  # 30 + 18 + 8 + 44 = 100
    status, body = await call(client, "POST", f"/foods/{food['id']}/update", home.creator, json={"protein": 36})
    assert status == 400
    assert_error(body, "Nutritional percentages cannot exceed 100% (total: 106.0%)")
    assert (await ok(client, "GET", f"/foods/{food['id']}/details", home.creator))["protein"] == 30.0
    updated = await ok(client, "POST", f"/foods/{food['id']}/update", home.creator,
                       json={"protein_percentage": 36, "carbohydrate_percentage": 38})
    assert updated["protein"] == 36.0 and updated["carbohydrate"] == 38.0


@pytest.mark.parametrize(
    ("field", "value"),
    [("brand", ""), ("product_name", "p" * 101), ("food_type", "raw"), ("target_pet", "cow"), ("unit_weight_g", -1),
     ("calories", 2000), ("fat", 101)],
)
async def test_update_validation(client, home, field, value):
    food = await new_food(client, home.creator, home.group_id)
    status, body = await call(client, "POST", f"/foods/{food['id']}/update", home.creator, json={field: value})
    assert status == 422
    assert body["details"]["field_errors"] == [field]  # in the name the client sent


async def test_update_by_role(client, home):
    food = await new_food(client, home.creator, home.group_id)
    await ok(client, "POST", f"/foods/{food['id']}/update", home.member, json={"brand": "By member"})
    status, body = await call(client, "POST", f"/foods/{food['id']}/update", home.viewer, json={"brand": "No"})
    assert status == 403
    assert_error(body, "You don't have permission to modify this food")
    status, body = await call(client, "POST", f"/foods/{food['id']}/update", home.stranger, json={"brand": "No"})
    assert status == 403
    assert_error(body, NOT_MEMBER)
    status, _ = await call(client, "POST", f"/foods/{food['id']}/update", None, json={"brand": "No"})
    assert status == 401
    assert (await ok(client, "GET", f"/foods/{food['id']}/details", home.viewer))["brand"] == "By member"


# -- delete --------------------------------------------------------------------------------------------


async def test_delete_is_soft_and_then_404(client, home):
    food = await new_food(client, home.creator, home.group_id)
    resp = await client.post(f"/foods/{food['id']}/delete", headers=home.member.headers)
    assert resp.status == 200
    body = await resp.json()
    assert body["message"] == "Food has been deleted from the group database"
    assert body["data"]["food_id"] == food["id"]
    assert body["data"]["food_name"] == f"Royal Canin - {food['product_name']}"
    async with client.app[pool_key].acquire() as conn:
        row = await conn.fetchrow("select deleted_at, brand from foods where id = $1", int(food["id"]))
    assert row is not None and row["deleted_at"] is not None and row["brand"] == "Royal Canin"  # kept for meals
    for method, path in (("GET", "details"), ("POST", "update"), ("POST", "delete")):
        status, body = await call(client, method, f"/foods/{food['id']}/{path}", home.creator, json={})
        assert status == 404, path
        assert_error(body, "Food not found")


async def test_delete_by_role(client, home):
    food = await new_food(client, home.creator, home.group_id)
    status, body = await call(client, "POST", f"/foods/{food['id']}/delete", home.viewer)
    assert status == 403
    assert_error(body, "You don't have permission to delete this food")
    status, body = await call(client, "POST", f"/foods/{food['id']}/delete", home.stranger)
    assert status == 403
    assert_error(body, NOT_MEMBER)
    status, _ = await call(client, "POST", f"/foods/{food['id']}/delete", None)
    assert status == 401
    await ok(client, "GET", f"/foods/{food['id']}/details", home.viewer)  # still there
    await ok(client, "POST", f"/foods/{food['id']}/delete", home.creator)


async def test_a_removed_member_loses_the_groups_foods(client, home):
    food = await new_food(client, home.member, home.group_id)
    await ok(client, "POST", f"/groups/{home.group_id}/remove", home.creator, json={"user_id": home.member.sid})
    status, body = await call(client, "GET", f"/foods/{food['id']}/details", home.member)
    assert status == 403
    assert_error(body, NOT_MEMBER)
    assert (await ok(client, "GET", f"/foods/{food['id']}/details", home.creator))["creator_id"] == home.member.sid


# -- tokens --------------------------------------------------------------------------------------------


async def test_a_read_only_token_reads_foods_but_cannot_change_them(client, home):
    food = await new_food(client, home.creator, home.group_id)
    token = bearer(await make_token(client.app, int(home.creator.sid), abilities=("read",)))
    resp = await client.get(f"/foods/{food['id']}/details", headers=token)
    assert resp.status == 200
    for path, body in ((f"/foods/create?group_id={home.group_id}", ROYAL), (f"/foods/{food['id']}/update", {}),
                       (f"/foods/{food['id']}/delete", {})):
        resp = await client.post(path, json=body, headers=token)
        assert resp.status == 403, path
        assert (await resp.json())["details"]["error_type"] == "missing_ability"
    other = await caller(client)
    assert (await call(client, "GET", f"/foods/{food['id']}/details", other))[0] == 403
