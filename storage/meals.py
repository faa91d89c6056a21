"""002's meals (migration 0013): the feeding log, the caller's relation to a meal's pet, the
versions the meal_aggregate actors follow, their reload, and the summary's grouped queries.

Which meals a scope covers: a pet's are its own; a group's are those of the pets in it now (the
reference's `p.group_id`), so a pet that moves takes its meals along. Every meal write locks the
pet's row first (`pet_for(..., lock=True)`), then bumps `pets.meal_version` and its group's
`groups.meal_version` in the same transaction: per pet, and per group, one commit order.
A soft-deleted meal, or a meal of a deleted pet, is never returned.

`access_role` and `group_role` are the raw facts; domain/pet_access.py's `care_role` says what
they make of the caller, domain/meals.py what that allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from storage.errors import domain_errors
from storage.groups import display_name_sql

# The columns a create sets and an update may change; anything else is a caller bug.
WRITABLE = frozenset(
    {
        "food_id",
        "fed_at",
        "meal_type",
        "serving_type",
        "serving_amount",
        "actual_weight_g",
        "calories",
        "protein_g",
        "fat_g",
        "moisture_g",
        "carbohydrate_g",
        "notes",
    }
)

_FOOD_NAME = "f.brand || ' - ' || f.product_name"

# What an aggregate holds of a meal (domain.meal_totals.MealEntry.of reads these names)
ENTRY_COLUMNS = f"""
    m.id, m.pet_id, p.name as pet_name, m.fed_at, m.meal_type, m.food_id, {_FOOD_NAME} as food_name,
    m.fed_by, {display_name_sql("u")} as fed_by_name, m.actual_weight_g, m.calories, m.protein_g, m.fat_g,
    m.moisture_g, m.carbohydrate_g
"""


def _entry_from(meals: str) -> str:
    """The joins ENTRY_COLUMNS read, over `meals` (the table, or a CTE of new rows) as `m`."""
    return f"""
    from {meals} m
    join pets p on p.id = m.pet_id
    join foods f on f.id = m.food_id
    left join users u on u.id = m.fed_by
"""


_ENTRY_FROM = _entry_from("meals")

# A meal as its routes show it: the entry plus serving, notes, times and the group it was logged in
_MEAL_COLUMNS = f"""
    {ENTRY_COLUMNS}, m.serving_type, m.serving_amount, m.notes, m.created_at, m.updated_at,
    m.group_id, lg.name as group_name, f.brand as food_brand, f.product_name as food_product_name
"""
_MEAL_FROM = f"""
    {_ENTRY_FROM}
    left join groups lg on lg.id = m.group_id
"""

# The caller's relation to a pet ($2 the caller) and what the meal routes need of it
_PET_COLUMNS = """
    p.id, p.name, p.owner_id, p.group_id, p.daily_calorie_target, p.meal_version,
    g.name as group_name, g.meal_version as group_meal_version, g.timezone,
    a.role as access_role, gm.role as group_role
"""
_PET_FROM = """
    from pets p
    left join groups g on g.id = p.group_id
    left join group_members gm on gm.group_id = p.group_id and gm.user_id = $2
    left join pet_access a on a.pet_id = p.id and a.user_id = $2
"""


async def pet_for(conn: asyncpg.Connection, pet_id: int, user_id: int, *, lock: bool = False) -> asyncpg.Record | None:
    """The pet (None when missing or deleted) with its group's version and zone and the caller's
    grant and group role. `lock` takes the pet's row lock, which orders every meal write of it."""
    with domain_errors():
        return await conn.fetchrow(
            f"select {_PET_COLUMNS} {_PET_FROM} where p.id = $1 and p.status <> 'deleted'"
            + (" for update of p" if lock else ""),
            pet_id,
            user_id,
        )


async def group_for(conn: asyncpg.Connection, group_id: int, user_id: int) -> asyncpg.Record | None:
    """The group (None when there is none) with its meal version, zone and the caller's role."""
    with domain_errors():
        return await conn.fetchrow(
            """
            select g.id, g.name, g.meal_version, g.timezone, gm.role as group_role
            from groups g left join group_members gm on gm.group_id = g.id and gm.user_id = $2
            where g.id = $1
            """,
            group_id,
            user_id,
        )


async def food_in_group(conn: asyncpg.Connection, food_id: int, group_id: int | None) -> asyncpg.Record | None:
    """An active food of the group (None otherwise, and always for a pet in no group)."""
    if group_id is None:
        return None
    with domain_errors():
        return await conn.fetchrow(
            "select * from foods where id = $1 and group_id = $2 and deleted_at is null", food_id, group_id
        )


async def pet_and_food(conn: asyncpg.Connection, pet_id: int, user_id: int, food_id: int) -> asyncpg.Record | None:
    """`pet_for` (no lock) with the food a meal of it would use: `food_id` and the per-100 g facts
    are null unless the food is active and in the pet's group. One round trip for a create's checks."""
    with domain_errors():
        return await conn.fetchrow(
            f"""
            select {_PET_COLUMNS}, f.id as food_id, f.unit_weight_g, f.calories_per_100g, f.protein_percentage,
                   f.fat_percentage, f.moisture_percentage, f.carbohydrate_percentage
            {_PET_FROM}
            left join foods f on f.id = $3 and f.group_id = p.group_id and f.deleted_at is null
            where p.id = $1 and p.status <> 'deleted'
            """,
            pet_id,
            user_id,
            food_id,
        )


async def log(
    conn: asyncpg.Connection, *, pet_id: int, group_id: int, fed_by: int, fields: Mapping[str, Any]
) -> asyncpg.Record | None:
    """A new meal, in one statement (so without a transaction of the caller's): the pet's and its
    group's versions bumped, the row inserted, and the meal as `meal_for` shows it to `fed_by`, with
    `pet_version` and `group_version`. None, with nothing written, when the pet is gone or no longer
    in `group_id`, or the food (`fields["food_id"]`) is no longer active there: the caller's checks
    are stale, so it reads again.

    Ordering: the pets row's update lock is taken first, then the group's, and both are held until
    the statement commits, so the versions follow commit order as with `bump_versions` (and in the
    same lock order, so the two paths cannot deadlock)."""
    names = _checked(fields)
    columns = ", ".join(["pet_id", "group_id", "fed_by", *names])
    values = ", ".join(f"${i}" for i in range(1, 4 + len(names)))
    food_param = 4 + names.index("food_id")
    with domain_errors():
        return await conn.fetchrow(
            f"""
            with bumped_pet as (
                update pets set meal_version = meal_version + 1
                where id = $1 and status <> 'deleted' and group_id = $2
                  and exists (select 1 from foods where id = ${food_param} and group_id = $2 and deleted_at is null)
                returning meal_version
            ), bumped_group as (
                update groups set meal_version = meal_version + 1
                where id = $2 and exists (select 1 from bumped_pet)
                returning meal_version
            ), m as (
                insert into meals ({columns}) select {values} from bumped_pet
                returning *
            )
            select {_MEAL_COLUMNS}, p.owner_id, p.group_id as pet_group_id,
                   a.role as access_role, gm.role as group_role,
                   (select meal_version from bumped_pet) as pet_version,
                   (select meal_version from bumped_group) as group_version
            {_entry_from("m")}
            left join groups lg on lg.id = m.group_id
            left join group_members gm on gm.group_id = p.group_id and gm.user_id = $3
            left join pet_access a on a.pet_id = p.id and a.user_id = $3
            """,
            pet_id,
            group_id,
            fed_by,
            *(fields[n] for n in names),
        )


def _checked(fields: Mapping[str, Any]) -> list[str]:
    unknown = set(fields) - WRITABLE
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    return list(fields)


async def insert(
    conn: asyncpg.Connection, *, pet_id: int, group_id: int | None, fed_by: int | None, fields: Mapping[str, Any]
) -> int:
    names = _checked(fields)
    columns = ", ".join(["pet_id", "group_id", "fed_by", *names])
    values = ", ".join(f"${i}" for i in range(1, 4 + len(names)))
    with domain_errors():
        return await conn.fetchval(
            f"insert into meals ({columns}) values ({values}) returning id",
            pet_id,
            group_id,
            fed_by,
            *(fields[n] for n in names),
        )


async def update(conn: asyncpg.Connection, meal_id: int, fields: Mapping[str, Any]) -> bool:
    names = _checked(fields)
    # column names come from WRITABLE only, never from a client
    sets = ", ".join([*(f"{name} = ${i}" for i, name in enumerate(names, start=2)), "updated_at = now()"])
    with domain_errors():
        status = await conn.execute(
            f"update meals set {sets} where id = $1 and deleted_at is null", meal_id, *(fields[n] for n in names)
        )
    return status == "UPDATE 1"


async def soft_delete(conn: asyncpg.Connection, meal_id: int, user_id: int) -> bool:
    with domain_errors():
        status = await conn.execute(
            "update meals set deleted_at = now(), deleted_by = $2, updated_at = now() "
            "where id = $1 and deleted_at is null",
            meal_id,
            user_id,
        )
    return status == "UPDATE 1"


async def bump_versions(conn: asyncpg.Connection, pet_id: int, group_id: int | None) -> tuple[int, int | None]:
    """Move the pet's and its group's meal versions on (call with the pet's row lock held, in the
    write's transaction); the new ones."""
    with domain_errors():
        # one statement, one round trip: every meal write pays it under the pet's row lock
        row = await conn.fetchrow(
            """
            with p as (update pets set meal_version = meal_version + 1 where id = $1 returning meal_version),
                 g as (update groups set meal_version = meal_version + 1 where id = $2 returning meal_version)
            select (select meal_version from p) as pet_version, (select meal_version from g) as group_version
            """,
            pet_id,
            group_id,
        )
    pet_version, group_version = row["pet_version"], row["group_version"]
    return pet_version, group_version


async def meal_for(conn: asyncpg.Connection, meal_id: int, user_id: int) -> asyncpg.Record | None:
    """The meal as its routes show it, with its pet's owner and current group and the caller's
    relation to that pet ($2); None when the meal or its pet is gone."""
    with domain_errors():
        return await conn.fetchrow(
            f"""
            select {_MEAL_COLUMNS}, p.owner_id, p.group_id as pet_group_id,
                   a.role as access_role, gm.role as group_role
            {_MEAL_FROM}
            left join group_members gm on gm.group_id = p.group_id and gm.user_id = $2
            left join pet_access a on a.pet_id = p.id and a.user_id = $2
            where m.id = $1 and m.deleted_at is null and p.status <> 'deleted'
            """,
            meal_id,
            user_id,
        )


async def pet_of_meal(conn: asyncpg.Connection, meal_id: int) -> int | None:
    """The pet a live meal belongs to (to take that pet's lock before changing the meal)."""
    with domain_errors():
        return await conn.fetchval("select pet_id from meals where id = $1 and deleted_at is null", meal_id)


# ---- reads over a range ----------------------------------------------------------------------

# $1 the pet or group id, $2/$3 the [from, to) instants, $4 fed_by (null: anyone), $5 meal_type
_PET_SCOPE = "m.pet_id = $1"
_GROUP_SCOPE = "m.pet_id in (select id from pets where group_id = $1 and status <> 'deleted')"
_RANGE = """
    m.deleted_at is null
    and ($2::timestamptz is null or m.fed_at >= $2) and ($3::timestamptz is null or m.fed_at < $3)
    and ($4::bigint is null or m.fed_by = $4) and ($5::text is null or m.meal_type = $5)
"""


def _scope(scope: str) -> str:
    return {"pet": _PET_SCOPE, "group": _GROUP_SCOPE}[scope]


async def list_meals(
    conn: asyncpg.Connection,
    scope: str,
    scope_id: int,
    *,
    start: datetime | None,
    end: datetime | None,
    fed_by: int | None,
    meal_type: str | None,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    """A pet's or group's meals, newest first."""
    with domain_errors():
        return await conn.fetch(
            f"""
            select {_MEAL_COLUMNS} {_MEAL_FROM}
            where {_scope(scope)} and {_RANGE}
            order by m.fed_at desc, m.id desc
            limit $6 offset $7
            """,
            scope_id, start, end, fed_by, meal_type, limit, offset,
        )


async def summary(
    conn: asyncpg.Connection,
    scope: str,
    scope_id: int,
    *,
    start: datetime,
    end: datetime,
    zone: str,
    fed_by: int | None,
    meal_type: str | None,
    target: int | None,
) -> dict[str, Any]:
    """The summary's sections, one grouped query each: totals, meal types, top feeders, top foods
    and (for a pet with a calorie target) the days within 90-110 % of it."""
    where = f"where {_scope(scope)} and {_RANGE}"
    args = (scope_id, start, end, fed_by, meal_type)
    with domain_errors():
        totals = await conn.fetchrow(
            f"""
            select count(*) as meals, coalesce(sum(m.calories), 0) as calories,
                   coalesce(sum(m.actual_weight_g), 0) as weight_g, coalesce(sum(m.protein_g), 0) as protein_g,
                   coalesce(sum(m.fat_g), 0) as fat_g, coalesce(sum(m.moisture_g), 0) as moisture_g,
                   coalesce(sum(m.carbohydrate_g), 0) as carbohydrate_g
            from meals m {where}
            """,
            *args,
        )
        types = await conn.fetch(
            f"""
            select coalesce(m.meal_type, 'unspecified') as meal_type, count(*) as n
            from meals m {where} group by 1 order by 1
            """,
            *args,
        )
        feeders = await conn.fetch(
            f"""
            select m.fed_by, {display_name_sql("u")} as name, count(*) as n
            from meals m left join users u on u.id = m.fed_by {where}
            group by m.fed_by, u.id order by n desc, m.fed_by limit 5
            """,
            *args,
        )
        foods = await conn.fetch(
            f"""
            select m.food_id, {_FOOD_NAME} as food_name, count(*) as n, sum(m.calories) as calories
            from meals m join foods f on f.id = m.food_id {where}
            group by m.food_id, f.brand, f.product_name order by n desc, m.food_id limit 5
            """,
            *args,
        )
        target_days = None
        if target:
            target_days = await conn.fetchrow(
                f"""
                select count(*) as days_fed,
                       count(*) filter (where pct between 90 and 110) as days_on_target
                from (
                    select (m.fed_at at time zone $6)::date as day, sum(m.calories) * 100 / $7 as pct
                    from meals m {where} group by 1
                ) d
                """,
                *args, zone, float(target),
            )
    return {"totals": totals, "types": types, "feeders": feeders, "foods": foods, "target_days": target_days}


# ---- the aggregates' reload ------------------------------------------------------------------


async def load_aggregates(
    conn: asyncpg.Connection, pet_ids: list[int], group_ids: list[int], *, window_s: float
) -> tuple[dict[int, int], dict[int, int], list[asyncpg.Record]]:
    """Versions of the pets (not deleted) and groups that exist, and every live meal of those pets
    and of the pets in those groups fed within the last `window_s` seconds or later. One snapshot
    (repeatable read), so each version is exactly the state of the meals returned with it."""
    with domain_errors():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            pets = await conn.fetch(
                "select id, meal_version from pets where id = any($1::bigint[]) and status <> 'deleted'", pet_ids
            )
            groups = await conn.fetch("select id, meal_version from groups where id = any($1::bigint[])", group_ids)
            rows = await conn.fetch(
                f"""
                select {ENTRY_COLUMNS}, p.group_id as pet_group_id {_ENTRY_FROM}
                where m.deleted_at is null and p.status <> 'deleted'
                  and m.fed_at >= now() - make_interval(secs => $3)
                  and (m.pet_id = any($1::bigint[]) or p.group_id = any($2::bigint[]))
                """,
                pet_ids,
                group_ids,
                window_s,
            )
    return (
        {r["id"]: r["meal_version"] for r in pets},
        {r["id"]: r["meal_version"] for r in groups},
        rows,
    )


async def day_totals(conn: asyncpg.Connection, pet_id: int, start: datetime, end: datetime) -> asyncpg.Record:
    """A pet's row and its meals' totals over [start, end) in one statement: what today's view
    would cost without the aggregates (loadtests' `meals_today` baseline runs it per request)."""
    with domain_errors():
        return await conn.fetchrow(
            """
            select p.id, p.name, p.daily_calorie_target, p.group_id, g.timezone, t.*
            from pets p
            left join groups g on g.id = p.group_id
            cross join lateral (
                select count(m.id) as meals, coalesce(sum(m.calories), 0) as calories,
                       coalesce(sum(m.actual_weight_g), 0) as weight_g, coalesce(sum(m.protein_g), 0) as protein_g,
                       coalesce(sum(m.fat_g), 0) as fat_g, coalesce(sum(m.moisture_g), 0) as moisture_g,
                       coalesce(sum(m.carbohydrate_g), 0) as carbohydrate_g,
                       count(*) filter (where m.meal_type = 'breakfast') as breakfast,
                       count(*) filter (where m.meal_type = 'lunch') as lunch,
                       count(*) filter (where m.meal_type = 'dinner') as dinner,
                       count(*) filter (where m.meal_type = 'snack') as snack,
                       count(distinct m.pet_id) as pets_fed
                from meals m
                where m.pet_id = p.id and m.deleted_at is null and m.fed_at >= $2 and m.fed_at < $3
            ) t
            where p.id = $1
            """,
            pet_id,
            start,
            end,
        )


async def day_entries(conn: asyncpg.Connection, pet_id: int, start: datetime, end: datetime) -> list[asyncpg.Record]:
    """A pet's meals over [start, end) as the aggregates hold them, in feeding order."""
    with domain_errors():
        return await conn.fetch(
            f"""select {ENTRY_COLUMNS} {_ENTRY_FROM}
                where m.pet_id = $1 and m.deleted_at is null and m.fed_at >= $2 and m.fed_at < $3
                order by m.fed_at, m.id""",
            pet_id,
            start,
            end,
        )


async def set_timezone(conn: asyncpg.Connection, group_id: int, zone: str | None) -> None:
    with domain_errors():
        await conn.execute("update groups set timezone = $2, updated_at = now() where id = $1", group_id, zone)
