"""002's meals: who may log, read, change and delete them, with the reference's words, and the
today view served from the meal_aggregate actors.

Roles (the caller's relation to the meal's pet, domain/pet_access.py's `care_role`):
- Logging a meal needs owner, group creator or member (a 000 editor counts as member); viewers read.
- Changing or deleting one: the owner and the group's creator any meal, a member only the meals
  they logged (NOTES 002: "members change only their own meals; creators change any").
- A missing pet is 404 "Pet not found or not accessible", one the caller has no relation to a 403;
  a missing meal is 404 "Meal record not found", one of a pet the caller cannot reach a 403.
- The food must be active and in the pet's group (another group's food, a deleted one, or any
  food for a pet in no group: 404 "Food not found or not accessible in this group").

Days: `date_from`/`date_to`, the summary's per-day figures and "today" are local dates in the
scope's zone (the group's `timezone`, the pet's group's for a pet, else the server's zone).

Today: the caller's access (one primary-key read, cached per gateway for `access_ttl_s`, about a
snapshot interval) and the aggregate's snapshot (actors/meal_aggregate_client.py): a warm read
makes no query at all. Every write tells the aggregates after its commit (AggregateSink), and the
writing gateway never serves a snapshot older than its own writes; others catch up within a
snapshot interval (and at once when their access read sees a newer version).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import asyncpg

from domain.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound
from domain.inputs import parse_positive_int
from domain.meal_totals import DayTotals, FoodFacts, MealEntry, day_bounds, nutrition, valid_zone
from domain.pet_access import CARE_WRITERS, CareRole, care_role
from storage import meals as meals_sql

# the aggregate keys (actors/meal_aggregate.py's; the actor module is not imported here)
PET_KEY = "pet:{}"
GROUP_KEY = "group:{}"
# who changes any meal of a pet; a member changes their own
_ANY_MEAL = frozenset({"owner", "creator"})
# gateways trust one read of a caller's access to a pet or group this long (a removed member may
# still read today's totals for this long; every other route checks on each request)
ACCESS_TTL_S = 1.0
ACCESS_CACHE_MAX = 50_000


def pet_not_found() -> NotFound:
    return NotFound("Pet not found or not accessible", code="pet_not_found")


def meal_not_found() -> NotFound:
    return NotFound("Meal record not found", code="meal_not_found")


def food_not_found() -> NotFound:
    return NotFound("Food not found or not accessible in this group", code="meal_food_unavailable")


def _id(raw: str | int | None) -> int | None:
    return parse_positive_int(str(raw)) if raw is not None else None


# ---- what the handlers hand in ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MealInput:
    pet_id: str
    food_id: str
    fed_at: datetime | None
    meal_type: str | None
    serving_type: str
    serving_amount: float
    notes: str | None


@dataclass(frozen=True, slots=True)
class MealQuery:
    """A list's, today's or a summary's scope and filters (the raw ids as the client sent them)."""

    pet_id: str | None = None
    group_id: str | None = None
    fed_by: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    meal_type: str | None = None
    limit: int = 50
    offset: int = 0


class AggregateSink(Protocol):
    def changed(self, changes: list[tuple[str, str, Any, int]], route: str | None = None) -> None:
        """(key, op, subject, version) per aggregate a committed write touched; `route` the key
        whose shard holds them (the pet's group: one write, one actor call)."""


class AggregateReader(Protocol):
    async def view(self, key: str, now: float, zone: str, min_version: int = 0,
                   route: str | None = None) -> dict[str, Any]: ...


# ---- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Meal:
    row: asyncpg.Record  # storage.meals.meal_for's columns
    role: CareRole


@dataclass(frozen=True, slots=True)
class Scope:
    kind: str  # "pet" | "group"
    id: int
    zone: str
    version: int
    name: str
    calorie_target: int | None = None
    group_id: int | None = None


@dataclass(frozen=True, slots=True)
class Today:
    scope: Scope
    day: str
    totals: dict[str, Any]
    meals: list[MealEntry]


# ---- scopes and access -------------------------------------------------------------------------


def _zone(row: Mapping[str, Any], default_zone: str) -> str:
    return row["timezone"] or default_zone


async def _pet_scope(conn: asyncpg.Connection, raw: str, user_id: int, default_zone: str, denied: str) -> Scope:
    pet_id = _id(raw)
    pet = await meals_sql.pet_for(conn, pet_id, user_id) if pet_id is not None else None
    if pet is None:
        raise pet_not_found()
    if care_role(pet["owner_id"], user_id, pet["access_role"], pet["group_role"]) is None:
        raise Forbidden(denied, code="pet_forbidden")
    return Scope("pet", pet["id"], _zone(pet, default_zone), pet["meal_version"], pet["name"],
                 pet["daily_calorie_target"], pet["group_id"])


async def _group_scope(conn: asyncpg.Connection, raw: str, user_id: int, default_zone: str, denied: str) -> Scope:
    group_id = _id(raw)
    group = await meals_sql.group_for(conn, group_id, user_id) if group_id is not None else None
    if group is None or group["group_role"] is None:
        raise Forbidden(denied, code="not_group_member")
    return Scope("group", group["id"], _zone(group, default_zone), group["meal_version"], group["name"],
                 group_id=group["id"])


async def _scope(conn: asyncpg.Connection, query: MealQuery, user_id: int, default_zone: str) -> Scope:
    """The reference's order: a pet_id wins over a group_id; neither is a 400."""
    if query.pet_id is not None:
        return await _pet_scope(conn, query.pet_id, user_id, default_zone,
                                "You don't have permission to view meals for this pet")
    if query.group_id is not None:
        return await _group_scope(conn, query.group_id, user_id, default_zone,
                                  "You don't have permission to view meals for this group")
    raise BadRequest("Either pet_id or group_id must be provided", code="meal_scope_required")


def _bounds(scope: Scope, date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise Invalid("date_from must not be after date_to",
                      fields={"date_from": ["date_from must not be after date_to"]})
    start = day_bounds(date_from, scope.zone)[0] if date_from is not None else None
    end = day_bounds(date_to, scope.zone)[1] if date_to is not None else None
    return start, end


def _fed_by(raw: str | None) -> int | None:
    """A feeder filter; one that can name nobody matches nobody (0 is no user's id)."""
    if raw is None:
        return None
    return _id(raw) or 0


class AccessCache:
    """Today's scope per (caller, pet or group), trusted for `ttl_s` (see ACCESS_TTL_S)."""

    def __init__(self, *, ttl_s: float = ACCESS_TTL_S, max_entries: int = ACCESS_CACHE_MAX,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[int, str, str], tuple[float, Scope]] = OrderedDict()
        self.reads = 0

    async def scope(self, pool: asyncpg.Pool, query: MealQuery, user_id: int, default_zone: str) -> Scope:
        # only the id that decides the scope names the entry (a pet_id wins, as in _scope)
        which = ("pet", query.pet_id) if query.pet_id is not None else ("group", query.group_id or "")
        key = (user_id, *which)
        hit = self._entries.get(key)
        now = self._clock()
        if hit is not None and hit[0] > now:
            return hit[1]
        self.reads += 1
        async with pool.acquire() as conn:
            scope = await _scope(conn, query, user_id, default_zone)
        self._entries[key] = (now + self._ttl_s, scope)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return scope


# ---- reads -----------------------------------------------------------------------------------


def _meal_of(row: asyncpg.Record | None, user_id: int) -> Meal:
    if row is None:
        raise meal_not_found()
    role = care_role(row["owner_id"], user_id, row["access_role"], row["group_role"])
    if role is None:
        raise Forbidden("You don't have permission to view this meal record", code="meal_forbidden")
    return Meal(row, role)


async def details(pool: asyncpg.Pool, user_id: int, meal_raw: str) -> Meal:
    meal_id = _id(meal_raw)
    if meal_id is None:
        raise meal_not_found()
    async with pool.acquire() as conn:
        return _meal_of(await meals_sql.meal_for(conn, meal_id, user_id), user_id)


async def list_meals(pool: asyncpg.Pool, user_id: int, query: MealQuery, default_zone: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        scope = await _scope(conn, query, user_id, default_zone)
        start, end = _bounds(scope, query.date_from, query.date_to)
        return await meals_sql.list_meals(
            conn, scope.kind, scope.id, start=start, end=end, fed_by=_fed_by(query.fed_by),
            meal_type=query.meal_type, limit=query.limit, offset=query.offset,
        )


async def today(pool: asyncpg.Pool, access: AccessCache, aggregates: AggregateReader, user_id: int,
                query: MealQuery, *, now: float, default_zone: str) -> Today:
    """Today's totals and meals of a pet or group, from its aggregate (filters by feeder or meal
    type are applied to the day's meals the aggregate holds)."""
    scope = await access.scope(pool, query, user_id, default_zone)
    key = (PET_KEY if scope.kind == "pet" else GROUP_KEY).format(scope.id)
    route = GROUP_KEY.format(scope.group_id) if scope.group_id is not None else None
    view = await aggregates.view(key, now, scope.zone, scope.version, route)
    meals: list[MealEntry] = view["meals"]
    totals = view["totals"]
    if query.fed_by is not None or query.meal_type is not None:
        fed_by = _fed_by(query.fed_by)
        meals = [m for m in meals if (fed_by is None or m.fed_by == fed_by)
                 and (query.meal_type is None or m.meal_type == query.meal_type)]
        totals = DayTotals.of(meals).public()
    return Today(scope, view["day"], totals, meals)


async def summary(pool: asyncpg.Pool, user_id: int, query: MealQuery, default_zone: str) -> dict[str, Any]:
    """The period's figures (storage.meals.summary: one grouped query per section)."""
    assert query.date_from is not None and query.date_to is not None  # the route requires both
    async with pool.acquire() as conn:
        scope = await _scope(conn, query, user_id, default_zone)
        start, end = _bounds(scope, query.date_from, query.date_to)
        assert start is not None and end is not None
        sections = await meals_sql.summary(
            conn, scope.kind, scope.id, start=start, end=end, zone=scope.zone, fed_by=_fed_by(query.fed_by),
            meal_type=query.meal_type, target=scope.calorie_target if scope.kind == "pet" else None,
        )
    days = (query.date_to - query.date_from).days + 1
    return {"scope": scope, "days": days, **sections}


# ---- writes ----------------------------------------------------------------------------------


def _changes_for(row: asyncpg.Record, pet_version: int, group_version: int | None, op: str,
                 subject: Any) -> list[tuple[str, str, Any, int]]:
    changes = [(PET_KEY.format(row["pet_id"]), op, subject, pet_version)]
    if group_version is not None:
        changes.append((GROUP_KEY.format(row["pet_group_id"]), op, subject, group_version))
    return changes


def _route(row: asyncpg.Record) -> str | None:
    """Where a pet's aggregates live: its group's shard (today() reads them there)."""
    return GROUP_KEY.format(row["pet_group_id"]) if row["pet_group_id"] is not None else None


# a create whose checks went stale this many times in a row (the pet moving between groups, its
# food deleted meanwhile) gives up rather than chase it
_CREATE_ATTEMPTS = 3


async def create(pool: asyncpg.Pool, sink: AggregateSink, user_id: int, inp: MealInput, now: datetime) -> Meal:
    """Two round trips, the most-called write of 002: the checks' read, then one statement that
    writes the meal and both versions (storage.meals.log) or nothing when the checks went stale.
    The group's row lock that statement takes serialises every meal write of the group, so it is
    held for that one statement only."""
    pet_id, food_id = _id(inp.pet_id), _id(inp.food_id)
    if pet_id is None:
        raise pet_not_found()
    async with pool.acquire() as conn:
        for _ in range(_CREATE_ATTEMPTS):
            pet = await meals_sql.pet_and_food(conn, pet_id, user_id, food_id or 0)
            if pet is None:
                raise pet_not_found()
            if care_role(pet["owner_id"], user_id, pet["access_role"], pet["group_role"]) not in CARE_WRITERS:
                raise Forbidden("You don't have permission to record meals for pets in this group",
                                code="pet_forbidden")
            if food_id is None or pet["food_id"] is None:
                raise food_not_found()
            n = nutrition(FoodFacts.of(pet), inp.serving_type, inp.serving_amount)
            fields = {
                "food_id": pet["food_id"], "fed_at": inp.fed_at or now, "meal_type": inp.meal_type,
                "serving_type": inp.serving_type, "serving_amount": inp.serving_amount, "notes": inp.notes,
                **_nutrition_fields(n),
            }
            row = await meals_sql.log(conn, pet_id=pet["id"], group_id=pet["group_id"], fed_by=user_id,
                                      fields=fields)
            if row is not None:
                break
        else:
            raise Conflict("The pet or its food changed while the meal was logged; retry.", code="meal_conflict")
    meal = _meal_of(row, user_id)
    sink.changed(_changes_for(row, row["pet_version"], row["group_version"], "meal_added", MealEntry.of(row)),
                 _route(row))
    return meal


def _nutrition_fields(n: Any) -> dict[str, float]:
    return {
        "actual_weight_g": n.actual_weight_g, "calories": n.calories, "protein_g": n.protein_g, "fat_g": n.fat_g,
        "moisture_g": n.moisture_g, "carbohydrate_g": n.carbohydrate_g,
    }


def _may_change(meal: Meal, user_id: int) -> bool:
    return meal.role in _ANY_MEAL or (meal.role == "member" and meal.row["fed_by"] == user_id)


async def _locked_meal(conn: asyncpg.Connection, meal_raw: str, user_id: int) -> Meal:
    """The meal with its pet's row lock held (every meal write of a pet queues behind it)."""
    meal_id = _id(meal_raw)
    pet_id = await meals_sql.pet_of_meal(conn, meal_id) if meal_id is not None else None
    if meal_id is None or pet_id is None or await meals_sql.pet_for(conn, pet_id, user_id, lock=True) is None:
        raise meal_not_found()
    return _meal_of(await meals_sql.meal_for(conn, meal_id, user_id), user_id)


@dataclass(frozen=True, slots=True)
class MealChanges:
    """An update: only the fields given change (None where a field was not sent)."""

    fields: Mapping[str, Any] = field(default_factory=dict)


async def update(pool: asyncpg.Pool, sink: AggregateSink, user_id: int, meal_raw: str, changes: MealChanges) -> Meal:
    given = dict(changes.fields)
    async with pool.acquire() as conn, conn.transaction():
        meal = await _locked_meal(conn, meal_raw, user_id)
        if not _may_change(meal, user_id):
            raise Forbidden("You don't have permission to modify this meal record", code="meal_forbidden")
        row = meal.row
        fields: dict[str, Any] = {k: v for k, v in given.items() if k in ("fed_at", "meal_type", "notes")}
        if {"food_id", "serving_type", "serving_amount"} & given.keys():
            food_id = _id(given["food_id"]) if "food_id" in given else row["food_id"]
            food = await meals_sql.food_in_group(conn, food_id, row["pet_group_id"]) if food_id else None
            if food is None:
                raise food_not_found()
            serving_type = given.get("serving_type", row["serving_type"])
            serving_amount = given.get("serving_amount", row["serving_amount"])
            n = nutrition(FoodFacts.of(food), serving_type, serving_amount)
            fields |= {"food_id": food["id"], "serving_type": serving_type, "serving_amount": serving_amount,
                       **_nutrition_fields(n)}
        if not fields:
            return meal
        if not await meals_sql.update(conn, row["id"], fields):
            raise meal_not_found()
        meal = _meal_of(await meals_sql.meal_for(conn, row["id"], user_id), user_id)
        # last before COMMIT: the group's row lock it takes serialises every meal write of the group
        versions = await meals_sql.bump_versions(conn, row["pet_id"], row["pet_group_id"])
    sink.changed(_changes_for(meal.row, *versions, "meal_updated", MealEntry.of(meal.row)), _route(meal.row))
    return meal


async def delete(pool: asyncpg.Pool, sink: AggregateSink, user_id: int, meal_raw: str) -> Meal:
    """Soft delete: out of every list, total and summary; the meal as it was."""
    async with pool.acquire() as conn, conn.transaction():
        meal = await _locked_meal(conn, meal_raw, user_id)
        if not _may_change(meal, user_id):
            raise Forbidden("You don't have permission to delete this meal record", code="meal_forbidden")
        if not await meals_sql.soft_delete(conn, meal.row["id"], user_id):
            raise meal_not_found()
        versions = await meals_sql.bump_versions(conn, meal.row["pet_id"], meal.row["pet_group_id"])
    sink.changed(_changes_for(meal.row, *versions, "meal_removed", meal.row["id"]), _route(meal.row))
    return meal


# ---- the day's zone --------------------------------------------------------------------------


async def set_timezone(pool: asyncpg.Pool, user_id: int, group_raw: str, zone: str | None,
                       default_zone: str) -> tuple[int, str, bool]:
    """The group creator sets where the group's day starts (None or "": the server's zone again).
    Returns (group id, the zone now in effect, whether it is the default)."""
    if zone and not valid_zone(zone):
        raise Invalid("Unknown time zone", fields={"timezone": ["Unknown time zone; use an IANA name such as "
                                                                "Asia/Ho_Chi_Minh"]})
    group_id = _id(group_raw)
    async with pool.acquire() as conn, conn.transaction():
        group = await meals_sql.group_for(conn, group_id, user_id) if group_id is not None else None
        if group is None or group["group_role"] is None:
            raise Forbidden("You are not a member of this group", code="not_group_member")
        if group["group_role"] != "creator":
            raise Forbidden("Only the group creator can change the group's time zone", code="not_group_creator")
        await meals_sql.set_timezone(conn, group["id"], zone or None)
    return group["id"], zone or default_zone, not zone
