"""002's foods: each group's shared food database (migration 0012). A soft-deleted food is never
returned. Rows carry the caller's role in the food's group (`user_role`, null when not a member);
domain/foods.py decides what that allows.

The keyword search is full-text over `search_vector` (brand weighted A, product name B) with a
prefix query per word of the keyword, so it can run on the partial GIN index `foods_search_idx`
rather than scanning foods (tests/petcare/test_foods.py reads the plan).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from storage.groups import display_name_sql

# The columns a create sets and an update may change; anything else in `fields` is a caller bug.
WRITABLE = frozenset(
    {
        "brand",
        "product_name",
        "food_type",
        "target_pet",
        "unit_weight_g",
        "calories_per_100g",
        "protein_percentage",
        "fat_percentage",
        "moisture_percentage",
        "carbohydrate_percentage",
    }
)

# $1 is always the caller's user id
_COLUMNS = f"""
    f.*, g.name as group_name, {display_name_sql("cu")} as creator_name, m.role as user_role
"""
_FROM = """
    from foods f
    join groups g on g.id = f.group_id
    left join users cu on cu.id = f.created_by
    left join group_members m on m.group_id = f.group_id and m.user_id = $1
"""
# the optional filters, $3 food_type and $4 target_pet (null: any)
_FILTERS = """
    and ($3::text is null or f.food_type = $3)
    and ($4::text is null or f.target_pet = $4)
"""

# $1 caller, $2 group, $3 food_type, $4 target_pet, $5 the keyword's tsquery (domain/foods.py's
# keyword_query: `word:* & word:*`), $6 limit. The query is a parameter, not computed in SQL, so
# the planner sees its words and can weigh the GIN index against the group's btree. Brand
# matches rank first (ts_rank weighs A 1.0 against B's 0.4), then alphabetical as the list is.
SEARCH_SQL = f"""
    select {_COLUMNS}, ts_rank(f.search_vector, $5::tsquery) as rank
    {_FROM}
    where f.group_id = $2 and f.deleted_at is null and f.search_vector @@ $5::tsquery
    {_FILTERS}
    order by rank desc, lower(f.brand), lower(f.product_name), f.id
    limit $6
"""


async def create(conn: asyncpg.Connection, group_id: int, created_by: int, fields: Mapping[str, Any]) -> int:
    unknown = set(fields) - WRITABLE
    if unknown:
        raise ValueError(f"not insertable: {sorted(unknown)}")
    names = list(fields)
    columns = ", ".join(["group_id", "created_by", *names])
    values = ", ".join(f"${i}" for i in range(1, 3 + len(names)))
    return await conn.fetchval(
        f"insert into foods ({columns}) values ({values}) returning id", group_id, created_by, *fields.values()
    )


async def get_for(conn: asyncpg.Connection, food_id: int, user_id: int) -> asyncpg.Record | None:
    """The food as `user_id` sees it (with their role in its group); None when missing or deleted."""
    return await conn.fetchrow(
        f"select {_COLUMNS} {_FROM} where f.id = $2 and f.deleted_at is null", user_id, food_id
    )


async def lock(conn: asyncpg.Connection, food_id: int) -> asyncpg.Record | None:
    """The food's row, locked for the transaction (None when missing or deleted)."""
    return await conn.fetchrow("select * from foods where id = $1 and deleted_at is null for update", food_id)


async def in_group(
    conn: asyncpg.Connection, group_id: int, user_id: int, *, food_type: str | None, target_pet: str | None
) -> list[asyncpg.Record]:
    """The group's foods, by brand then product name (the reference's order)."""
    return await conn.fetch(
        f"""
        select {_COLUMNS} {_FROM}
        where f.group_id = $2 and f.deleted_at is null {_FILTERS}
        order by lower(f.brand), lower(f.product_name), f.id
        """,
        user_id,
        group_id,
        food_type,
        target_pet,
    )


async def search(
    conn: asyncpg.Connection,
    group_id: int,
    user_id: int,
    query: str,
    *,
    food_type: str | None,
    target_pet: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(SEARCH_SQL, user_id, group_id, food_type, target_pet, query, limit)


async def update(conn: asyncpg.Connection, food_id: int, fields: Mapping[str, Any]) -> bool:
    """Set the given columns (and updated_at); False when the food is missing or deleted meanwhile."""
    unknown = set(fields) - WRITABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    names = list(fields)
    # column names come from WRITABLE only, never from a client
    sets = ", ".join([*(f"{name} = ${i}" for i, name in enumerate(names, start=2)), "updated_at = now()"])
    status = await conn.execute(
        f"update foods set {sets} where id = $1 and deleted_at is null", food_id, *fields.values()
    )
    return status == "UPDATE 1"


async def soft_delete(conn: asyncpg.Connection, food_id: int, now: datetime) -> bool:
    status = await conn.execute(
        "update foods set deleted_at = $2, updated_at = $2 where id = $1 and deleted_at is null", food_id, now
    )
    return status == "UPDATE 1"


async def set_photo(
    conn: asyncpg.Connection, food_id: int, key: str | None, content_type: str | None, now: datetime
) -> bool:
    """Point the food at a stored photo (or at none); False when it is gone."""
    status = await conn.execute(
        """
        update foods set photo_path = $2, photo_content_type = $3, photo_updated_at = $4, updated_at = $4
        where id = $1 and deleted_at is null
        """,
        food_id,
        key,
        content_type,
        now,
    )
    return status == "UPDATE 1"
