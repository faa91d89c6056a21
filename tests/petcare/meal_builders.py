"""Builders for 002's meal tests: a family (a group with its creator, a member, a viewer, and a
stranger outside it), the creator's pet in that group, foods put straight into the database, and
meals logged through the routes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from gateway.kernel.keys import pool_key
from tests.petcare.care_builders import Caller, caller, join, new_group, new_pet, ok

# the document's food: 380 kcal per 100 g, 10 g a unit (so 50 units are 500 g and 1900 kcal)
FOOD = {
    "brand": "Royal Canin",
    "product_name": "Persian Adult Cat Food",
    "food_type": "dry_food",
    "target_pet": "cat",
    "unit_weight_g": 10.0,
    "calories_per_100g": 380,
    "protein_percentage": 30.0,
    "fat_percentage": 18.0,
    "moisture_percentage": 8.0,
    "carbohydrate_percentage": 44.0,
}


@dataclass(frozen=True)
class Family:
    creator: Caller
    member: Caller
    viewer: Caller
    stranger: Caller
    group: dict
    pet: dict  # the creator's, in the group, with a daily calorie target of 300
    food: int  # a food of the group

    @property
    def group_id(self) -> str:
        return self.group["id"]

    @property
    def pet_id(self) -> str:
        return self.pet["id"]


async def new_food(app, group_id: int | str, *, deleted: bool = False, **fields: Any) -> int:
    """A food of the group, inserted with SQL (the foods routes are another module's to test)."""
    row = FOOD | {"product_name": f"Food {uuid.uuid4().hex[:6]}"} | fields
    names = list(row)
    async with app[pool_key].acquire() as conn:
        return await conn.fetchval(
            f"insert into foods (group_id, {', '.join(names)}, deleted_at) "
            f"values ($1, {', '.join(f'${i}' for i in range(2, 2 + len(names)))}, "
            f"case when ${2 + len(names)} then now() end) returning id",
            int(group_id), *(row[n] for n in names), deleted,
        )


async def family(client, *, pet_fields: dict | None = None) -> Family:
    creator, member, viewer, stranger = [await caller(client, name) for name in ("Ada", "Ben", "Cy", "Dee")]
    group = await new_group(client, creator)
    await join(client, member, group["id"], creator)
    await join(client, viewer, group["id"], creator, role="viewer")
    pet = await new_pet(client, creator, name="Fluffy", daily_calorie_target=300, **(pet_fields or {}))
    await ok(client, "POST", f"/pets/{pet['id']}/assign_group", creator, json={"group_id": group["id"]})
    food = await new_food(client.app, group["id"])
    return Family(creator, member, viewer, stranger, group, pet, food)


async def log_meal(client, who: Caller, pet_id: str, food_id: int | str, **fields: Any) -> dict:
    body = {"pet_id": pet_id, "food_id": str(food_id), "serving_type": "grams", "serving_amount": 100} | fields
    return await ok(client, "POST", "/meals", who, json=body)


async def today(client, who: Caller, **query: str) -> dict:
    return await ok(client, "GET", "/meals/today", who, params=query)
