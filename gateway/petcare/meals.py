"""002's meal endpoints: create, list, details, update, delete, today, summary, and a group's
time zone (where its day starts). The rules and their words are domain/meals.py's; today's view
comes from the meal_aggregate actors through this process's MealAggregates (snapshots).

Order of checks, as the reference (FastAPI) answers: the caller (401), the query and body (422),
the pet, meal or group (404 / 403). A personal access token needs 000's ability for the act
(`read`, `create`, `update`, `delete`), as for 002's pets and foods.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
from aiohttp import web

from actors.meal_aggregate_client import KIND, MealAggregates
from domain import meals
from domain.meal_totals import server_zone
from gateway.kernel.keys import actors_key, clock_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse, validate
from gateway.petcare.envelope import success
from gateway.petcare.guards import require_petcare_abilities
from gateway.petcare.meal_models import (
    GroupTimezone,
    MealCreateIn,
    MealDeleted,
    MealListQuery,
    MealPublic,
    MealStatistics,
    MealSummaryQuery,
    MealTodayQuery,
    MealUpdateIn,
    TimezoneIn,
    TodaySummary,
    group_timezone,
    meal_deleted,
    meal_public,
    statistics,
    today_summary,
)
from gateway.petcare.openapi import TAG_GROUPS, TAG_MEALS
from gateway.petcare.pets import READERS, WRITERS

log = logging.getLogger(__name__)

MEAL = {"meal_id": "The meal's id; one that names no meal (or a deleted one) is a 404."}
GROUP = {"group_id": "The group's id; one the caller is not in (or none at all) is a 403."}

meal_aggregates_key = web.AppKey("meal_aggregates", MealAggregates)
meal_access_key = web.AppKey("meal_access", meals.AccessCache)
meal_zone_key = web.AppKey("meal_default_zone", str)


def _pool(request: web.Request) -> asyncpg.Pool:
    return request.config_dict[pool_key]


def _now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.config_dict[clock_key].time(), UTC)


def _zone(request: web.Request) -> str:
    return request.config_dict[meal_zone_key]


def _aggregates(request: web.Request) -> MealAggregates:
    return request.config_dict[meal_aggregates_key]


@documented(
    "Log a meal",
    tags=(TAG_MEALS,),
    description="Owner, group creator or member (viewers 403). The food must be active and in the pet's group. "
    "Nutrition from the food: grams, or units × its unit weight; calories = calories_per_100g × grams / 100 "
    "(the document's 190 kcal example is 1900).",
    response=MealPublic,
    body=MealCreateIn,
    auth=WRITERS,
    errors=(403, 404, 409),
)
async def create_meal(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "create")
    body = await parse(request, MealCreateIn)
    meal = await meals.create(_pool(request), _aggregates(request), identity.user_id, body.input(), _now(request))
    return success(meal_public(meal.row), f"Meal recorded for {meal.row['pet_name']} successfully")


@documented(
    "Meal records",
    tags=(TAG_MEALS,),
    description="A pet's (`pet_id`) or a group's (`group_id`: its pets' now) meals, newest first; `pet_id` or "
    "`group_id` is required (400). Every relation reads (viewers too).",
    response=list[MealPublic],
    query=MealListQuery,
    auth=READERS,
    errors=(400, 403, 404),
)
async def list_meals(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    query = validate(MealListQuery, dict(request.query))
    rows = await meals.list_meals(_pool(request), identity.user_id, query.query(), _zone(request))
    return success([meal_public(row) for row in rows], f"Found {len(rows)} meal records")


@documented(
    "A meal's details",
    tags=(TAG_MEALS,),
    description="Anyone with a relation to the meal's pet.",
    response=MealPublic,
    auth=READERS,
    errors=(403, 404),
    path_params=MEAL,
)
async def meal_details(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    meal = await meals.details(_pool(request), identity.user_id, request.match_info["meal_id"])
    return success(meal_public(meal.row), "Meal details retrieved successfully")


@documented(
    "Update a meal",
    tags=(TAG_MEALS,),
    description="The owner and group creator change any meal, a member only the ones they logged. A new food "
    "or serving recalculates the nutrition.",
    response=MealPublic,
    body=MealUpdateIn,
    auth=WRITERS,
    errors=(403, 404),
    path_params=MEAL,
)
async def update_meal(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    body = await parse(request, MealUpdateIn)
    meal = await meals.update(_pool(request), _aggregates(request), identity.user_id, request.match_info["meal_id"],
                              body.changes())
    return success(meal_public(meal.row), f"Meal record for {meal.row['pet_name']} updated successfully")


@documented(
    "Delete a meal",
    tags=(TAG_MEALS,),
    description="As update. Soft: gone from every list, total and summary.",
    response=MealDeleted,
    auth=WRITERS,
    errors=(403, 404),
    path_params=MEAL,
)
async def delete_meal(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "delete")
    meal = await meals.delete(_pool(request), _aggregates(request), identity.user_id, request.match_info["meal_id"])
    return success(meal_deleted(meal.row), "Meal record deleted successfully")


@documented(
    "Today's meals",
    tags=(TAG_MEALS,),
    description="The local day so far (the group's zone, else the server's) of a pet or a group, from the meal "
    "aggregates: totals, nutrients, meals per type, the calorie target, the meals. Your own writes show at once; "
    "other people's within about a second.",
    response=TodaySummary,
    query=MealTodayQuery,
    auth=READERS,
    errors=(400, 403, 404, 503),
)
async def today(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    query = validate(MealTodayQuery, dict(request.query))
    app = request.config_dict
    result = await meals.today(
        app[pool_key], app[meal_access_key], app[meal_aggregates_key], identity.user_id, query.query(),
        now=app[clock_key].time(), default_zone=app[meal_zone_key],
    )
    return success(today_summary(result), f"Today's meal summary retrieved for {result.day}")


@documented(
    "Meal statistics over a period",
    tags=(TAG_MEALS,),
    description="`date_from` and `date_to` (local days, both required: 422) and `pet_id` or `group_id`: totals, "
    "per-day averages over every day of the period, meal types, the top five feeders and foods, and for a pet "
    "with a daily calorie target the days within 90-110 % of it.",
    response=MealStatistics,
    query=MealSummaryQuery,
    auth=READERS,
    errors=(400, 403, 404),
)
async def summary(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    query = validate(MealSummaryQuery, dict(request.query))
    result = await meals.summary(_pool(request), identity.user_id, query.query(), _zone(request))
    return success(
        statistics(result, query.date_from, query.date_to),
        f"Meal statistics generated for period {query.date_from} to {query.date_to}",
    )


@documented(
    "Set a group's time zone",
    tags=(TAG_GROUPS, TAG_MEALS),
    description="Where the group's (and its pets') day starts for today's meals, date filters and summaries: an "
    "IANA zone name; null or empty returns to the server's zone. The group's creator only.",
    response=GroupTimezone,
    body=TimezoneIn,
    auth=WRITERS,
    errors=(403,),
    path_params=GROUP,
)
async def set_group_timezone(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    body = await parse(request, TimezoneIn)
    group_id, zone, is_default = await meals.set_timezone(
        _pool(request), identity.user_id, request.match_info["group_id"], body.timezone, _zone(request)
    )
    return success(group_timezone(group_id, zone, is_default), f"Group time zone set to {zone}")


async def meal_aggregates_ctx(app: web.Application) -> AsyncIterator[None]:
    """Today's views (meal_aggregates_key), the access cache (meal_access_key) and the default
    zone (meal_zone_key). Needs actors_ctx; its cleanup sends the last changes before it closes."""
    s = app[settings_key]
    clock = app[clock_key]
    app[meal_zone_key] = s.meal_day_timezone or server_zone()
    aggregates = MealAggregates(app[actors_key][KIND], interval_s=s.snapshot_interval_s, clock=clock.monotonic)
    app[meal_aggregates_key] = aggregates
    app[meal_access_key] = meals.AccessCache(ttl_s=s.snapshot_interval_s, clock=clock.monotonic)
    try:
        # resolve (or create) the shard actors off the event loop now, not in the first request
        await aggregates.client.start()
    except Exception:  # Ray not answering yet: handles resolve on first use instead
        log.exception("meal aggregate shards not resolved at startup")
    yield
    await aggregates.close()
