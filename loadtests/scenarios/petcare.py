"""user_me: 002's GET /user/me with a JWT, against a bare handler running the same two statements.

The scenario of issue 16's tail-latency finding: at 64 concurrent requests on the default pool of
10 connections, the p99 said more than the ratio (storage/pool.py's FairPool is the fix).
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from loadtests.registry import HttpScenario, HttpTarget, SetupContext, register


async def seed_user(ctx: SetupContext) -> dict[str, Any]:
    """A user with their personal group (loadtests/seeding.py); a JWT from 002's login."""
    from loadtests.seeding import PASSWORD, seed_accounts
    from storage import groups as groups_sql
    from storage.pool import create_pool

    email = f"bench-{uuid.uuid4().hex[:8]}@example.test"
    (account,) = await seed_accounts(ctx.database_url, [email], daily_quota=None)
    pool = await create_pool(ctx.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await groups_sql.create_personal(conn, account.user_id)
    finally:
        await pool.close()
    async with aiohttp.ClientSession() as http:
        login = {"email": email, "pwd": PASSWORD}
        async with http.post(f"{ctx.ours_url}/auth/email/login", json=login) as resp:
            body = await resp.json()
            assert resp.status == 200, body
    return {"user_id": account.user_id, "auth": f"Bearer {body['data']['access_token']}"}

register(
    HttpScenario(
        name="user_me",
        ours=HttpTarget("/user/me", headers={"Authorization": "{auth}"}),
        baseline=HttpTarget("/user-me/{user_id}"),
        setup=seed_user,
    )
)


# -- meals (issue 12, item 8) ---------------------------------------------------------------------

# meal_log spreads its writes over this many pets: every meal write takes its pet's row lock (the
# aggregates' commit order), and a family logs for several pets, not 64 meals a second for one
MEAL_LOG_PETS = 8
TODAY_MEALS = 30


def _meal_body(pet: str) -> str:
    # a str.format template: doubled braces are literal
    return '{{"pet_id": "{%s}", "food_id": "{food_id}", "serving_type": "grams", "serving_amount": 85, ' \
           '"meal_type": "snack"}}' % pet


async def seed_meals(ctx: SetupContext) -> dict[str, Any]:
    """A user's personal group with one food and MEAL_LOG_PETS + 1 pets, the first with
    TODAY_MEALS meals today, all made through 002's routes."""
    from storage import groups as groups_sql
    from storage.pool import create_pool

    values = await seed_user(ctx)
    pool = await create_pool(ctx.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            group_id = await groups_sql.personal_group_id(conn, values["user_id"])
    finally:
        await pool.close()
    headers = {"Authorization": values["auth"]}
    async with aiohttp.ClientSession(base_url=ctx.ours_url, headers=headers) as http:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with http.post(path, json=body) as resp:
                answer = await resp.json()
                assert resp.status == 200, answer
                return answer["data"]

        food = await post(f"/foods/create?group_id={group_id}", {
            "brand": "Royal Canin", "product_name": "Persian Adult", "food_type": "dry_food", "target_pet": "cat",
            "unit_weight_g": 10.0, "calories_per_100g": 380, "protein_percentage": 30.0, "fat_percentage": 18.0,
            "moisture_percentage": 8.0, "carbohydrate_percentage": 44.0,
        })
        pets = [await post("/pets/create", {"name": f"Bench {i}", "pet_type": "cat", "daily_calorie_target": 300})
                for i in range(MEAL_LOG_PETS + 1)]
        for i in range(TODAY_MEALS):
            meal_type = ("breakfast", "lunch", "dinner", "snack")[i % 4]
            await post("/meals", {"pet_id": pets[0]["id"], "food_id": food["id"], "serving_type": "grams",
                                  "serving_amount": 10 + i, "meal_type": meal_type})
    return {
        **values, "food_id": food["id"], "today_pet": pets[0]["id"],
        **{f"pet_{i}": pet["id"] for i, pet in enumerate(pets[1:])},
    }


# GET /meals/today?pet_id= (JWT, the caller's access, the aggregate's snapshot) against a bare
# handler running the aggregate SQL over the same 30 rows with no auth (baseline.meals_today)
register(
    HttpScenario(
        name="meals_today",
        ours=HttpTarget("/meals/today?pet_id={today_pet}", headers={"Authorization": "{auth}"}),
        baseline=HttpTarget("/meals-today/{today_pet}"),
        setup=seed_meals,
    )
)

# POST /meals (JWT, pet and food checks under the pet's row lock, the versions, the aggregates told
# after commit) against a bare handler doing the same food read, nutrition arithmetic, INSERT and
# answer (baseline.meal_log)
_MEAL_BODIES = tuple(_meal_body(f"pet_{i}") for i in range(MEAL_LOG_PETS))
register(
    HttpScenario(
        name="meal_log",
        ours=HttpTarget("/meals", headers={"Authorization": "{auth}"}, method="POST", bodies=_MEAL_BODIES),
        baseline=HttpTarget("/meal-log", method="POST", bodies=_MEAL_BODIES),
        setup=seed_meals,
    )
)
