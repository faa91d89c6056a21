"""002's food endpoints: create, list, info (the keyword search), details, update, delete. The
photo routes are care_photos.py's. The rules and their words are domain/foods.py's.

Order of checks, as the reference (FastAPI) answers: the caller (401), the query and body (422:
validated before any handler runs there), the food (404 missing or deleted), the caller's role in
its group (403). A personal access token needs 000's ability for the act (`read`, `create`,
`update`, `delete`), as it does for 002's pets and groups.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from aiohttp import web

from domain import foods
from gateway.kernel.keys import clock_key, pool_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse, validate
from gateway.petcare.envelope import success
from gateway.petcare.food_models import (
    FoodCreateIn,
    FoodDeleted,
    FoodListQuery,
    FoodPublic,
    FoodSearchQuery,
    FoodUpdateIn,
    GroupQuery,
    food_deleted,
    food_public,
)
from gateway.petcare.guards import require_petcare_abilities
from gateway.petcare.openapi import TAG_FOODS
from gateway.petcare.pets import READERS, WRITERS

FOOD = {"food_id": "The food's id; one that names no food (or a deleted one) is a 404."}


def _pool(request: web.Request) -> asyncpg.Pool:
    return request.config_dict[pool_key]


def _now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.config_dict[clock_key].time(), UTC)


def _food_id(request: web.Request) -> int:
    return foods.parse_food_id(request.match_info["food_id"])


@documented(
    "Add a food to a group's database",
    tags=(TAG_FOODS,),
    description="Group creators and members (viewers 403). The four percentages may sum to at most 105 "
    "(else 400); `calories_per_unit` is derived.",
    response=FoodPublic,
    body=FoodCreateIn,
    query=GroupQuery,
    auth=WRITERS,
    errors=(400, 403),
)
async def create_food(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "create")
    query = validate(GroupQuery, dict(request.query))
    body = await parse(request, FoodCreateIn)
    food = await foods.create(_pool(request), identity.user_id, foods.parse_group_id(query.group_id), body.columns())
    return success(food_public(food), f"Food '{food.label}' added to group database")


@documented(
    "A group's foods",
    tags=(TAG_FOODS,),
    description="Every member (viewers too); by brand, then product name.",
    response=list[FoodPublic],
    query=FoodListQuery,
    auth=READERS,
    errors=(403,),
)
async def list_foods(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    query = validate(FoodListQuery, dict(request.query))
    found = await foods.in_group(
        _pool(request),
        identity.user_id,
        foods.parse_group_id(query.group_id),
        food_type=query.food_type,
        target_pet=query.target_pet,
    )
    return success([food_public(food) for food in found], f"Found {len(found)} foods in group database")


@documented(
    "Search a group's foods",
    tags=(TAG_FOODS,),
    description="Full-text over brand and product name (an index, not a scan), each word of the keyword a "
    "prefix; brand matches first. Every member (viewers too).",
    response=list[FoodPublic],
    query=FoodSearchQuery,
    auth=READERS,
    errors=(403,),
)
async def search_foods(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    query = validate(FoodSearchQuery, dict(request.query))
    found = await foods.search(
        _pool(request),
        identity.user_id,
        foods.parse_group_id(query.group_id),
        query.keyword,
        food_type=query.food_type,
        target_pet=query.target_pet,
    )
    return success([food_public(food) for food in found], f"Found {len(found)} foods matching '{query.keyword}'")


@documented(
    "A food's details",
    tags=(TAG_FOODS,),
    description="Every member of the food's group (viewers too).",
    response=FoodPublic,
    auth=READERS,
    errors=(403, 404),
    path_params=FOOD,
)
async def food_details(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    food = await foods.details(_pool(request), _food_id(request), identity.user_id)
    return success(food_public(food), "Food details retrieved successfully")


@documented(
    "Update a food",
    tags=(TAG_FOODS,),
    description="Group creators and members; only the fields given change (either name of each). The "
    "percentages, as they will be, may sum to at most 105.",
    response=FoodPublic,
    body=FoodUpdateIn,
    auth=WRITERS,
    errors=(400, 403, 404),
    path_params=FOOD,
)
async def update_food(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    body = await parse(request, FoodUpdateIn)
    food = await foods.update(_pool(request), _food_id(request), identity.user_id, body.columns())
    return success(food_public(food), f"Food '{food.label}' updated successfully")


@documented(
    "Delete a food",
    tags=(TAG_FOODS,),
    description="Group creators and members. Soft: the food is a 404 from then on; meals logged from it stay.",
    response=FoodDeleted,
    auth=WRITERS,
    errors=(403, 404),
    path_params=FOOD,
)
async def delete_food(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "delete")
    food = await foods.delete(_pool(request), _food_id(request), identity.user_id, _now(request))
    return success(food_deleted(food), "Food has been deleted from the group database")
