"""Builders for 002's food and photo tests: a group with a creator, a member, a viewer and a
stranger; foods made through the routes; multipart photo uploads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.petcare.care_builders import Caller, call, caller, join, new_group, ok

# The document's create example, in the document's names
ROYAL = {
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
# document name -> the reference's
REFERENCE_NAMES = {
    "unit_weight_g": "unit_weight",
    "calories_per_100g": "calories",
    "protein_percentage": "protein",
    "fat_percentage": "fat",
    "moisture_percentage": "moisture",
    "carbohydrate_percentage": "carbohydrate",
}


def in_reference_names(body: dict[str, Any]) -> dict[str, Any]:
    return {REFERENCE_NAMES.get(name, name): value for name, value in body.items()}


@dataclass(frozen=True)
class Household:
    """A group and its people: its creator, a member, a viewer, and a stranger outside it."""

    group_id: str
    creator: Caller
    member: Caller
    viewer: Caller
    stranger: Caller

    def role(self, name: str) -> Caller:
        return getattr(self, name)


async def household(client) -> Household:
    people = {role: await caller(client) for role in ("creator", "member", "viewer", "stranger")}
    group = await new_group(client, people["creator"])
    await join(client, people["member"], group["id"], people["creator"])
    await join(client, people["viewer"], group["id"], people["creator"], role="viewer")
    return Household(group["id"], **people)


async def new_food(client, who: Caller, group_id: str, **fields: Any) -> dict:
    body = ROYAL | {"product_name": f"Food {uuid.uuid4().hex[:6]}"} | fields
    return await ok(client, "POST", f"/foods/create?group_id={group_id}", who, json=body)


def photo_form(data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg",
               field: str = "file") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(field, data, filename=filename, content_type=content_type)
    return form


async def upload(client, path: str, who: Caller | None, data: bytes, **kw: Any) -> tuple[int, dict]:
    return await call(client, "POST", path, who, data=photo_form(data, **kw))
