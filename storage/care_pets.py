"""002's queries over the one `pets` table: a pet as 002 shows it (owner and group names, the
latest weight as its current weight, the caller's per-pet grant and group role), the pets a user
can reach, a group's pets, and 002's writes (care fields, group assignment, the current weight as
a weight record). A deleted pet is never returned.

`access_role` and `group_role` are the raw facts; domain/pet_access.py's `care_role` says what
they make of the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from storage.groups import display_name_sql

# The columns 002's update may change; anything else in `fields` is a caller bug.
UPDATABLE = frozenset(
    {
        "name",
        "pet_type_id",
        "breed",
        "sex",
        "birthday",
        "target_weight_kg",
        "height_cm",
        "is_spayed",
        "microchip_id",
        "daily_calorie_target",
        "notes",
    }
)

# $1 is always the caller's user id
_COLUMNS = f"""
    p.*, t.slug as pet_type_slug, {display_name_sql("o")} as owner_name, g.name as group_name,
    w.weight_kg as current_weight_kg, a.role as access_role, m.role as group_role
"""
_FROM = """
    from pets p
    join pet_types t on t.id = p.pet_type_id
    join users o on o.id = p.owner_id
    left join groups g on g.id = p.group_id
    left join group_members m on m.group_id = p.group_id and m.user_id = $1
    left join pet_access a on a.pet_id = p.id and a.user_id = $1
    left join lateral (
        -- the latest weight (by record_date, then id) is the current one, for both contracts
        select weight_kg from pet_weights
        where pet_id = p.id
        order by record_date desc, id desc
        limit 1
    ) w on true
"""


async def get_for(conn: asyncpg.Connection, pet_id: int, user_id: int) -> asyncpg.Record | None:
    """The pet as 002 shows it to `user_id`; None when missing or deleted."""
    return await conn.fetchrow(
        f"select {_COLUMNS} {_FROM} where p.id = $2 and p.status <> 'deleted'", user_id, pet_id
    )


async def accessible(conn: asyncpg.Connection, user_id: int) -> list[asyncpg.Record]:
    """Every pet the user owns, has a grant on, or shares a group with: newest first."""
    return await conn.fetch(
        f"""
        select {_COLUMNS} {_FROM}
        where p.id in (
            select id from pets where owner_id = $1
            union
            select q.id from pets q join group_members gm on gm.group_id = q.group_id where gm.user_id = $1
            union
            select pet_id from pet_access where user_id = $1
        ) and p.status <> 'deleted'
        order by p.created_at desc, p.id desc
        """,
        user_id,
    )


async def in_group(conn: asyncpg.Connection, group_id: int, user_id: int) -> list[asyncpg.Record]:
    """The pets assigned to the group, as `user_id` sees them: newest first."""
    return await conn.fetch(
        f"""
        select {_COLUMNS} {_FROM}
        where p.group_id = $2 and p.status <> 'deleted'
        order by p.created_at desc, p.id desc
        """,
        user_id,
        group_id,
    )


async def create(
    conn: asyncpg.Connection, *, owner_id: int, group_id: int | None, fields: Mapping[str, Any]
) -> int:
    """A new active pet in `group_id` with 002's fields (`UPDATABLE` columns); its id."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not insertable: {sorted(unknown)}")
    names = list(fields)
    columns = ", ".join(["owner_id", "group_id", "group_assigned_at", *names])
    values = ", ".join(["$1", "$2", "case when $2::bigint is null then null else now() end"]
                       + [f"${i}" for i in range(3, 3 + len(names))])
    return await conn.fetchval(
        f"insert into pets ({columns}) values ({values}) returning id",
        owner_id,
        group_id,
        *(fields[n] for n in names),
    )


async def update(conn: asyncpg.Connection, pet_id: int, fields: Mapping[str, Any]) -> bool:
    """Set the given columns (and updated_at); False when the pet is missing or deleted meanwhile."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    names = list(fields)
    # column names come from UPDATABLE only, never from a client
    sets = ", ".join([*(f"{name} = ${i}" for i, name in enumerate(names, start=2)), "updated_at = now()"])
    status = await conn.execute(
        f"update pets set {sets} where id = $1 and status <> 'deleted'", pet_id, *(fields[n] for n in names)
    )
    return status == "UPDATE 1"


async def record_weight(conn: asyncpg.Connection, pet_id: int, weight_kg: Decimal | float, day: date) -> None:
    """The pet's weight on `day` (one per pet and day: a second one that day replaces it). The
    latest weight is the pet's current weight in both contracts; nothing else stores it."""
    await conn.execute(
        """
        insert into pet_weights (pet_id, weight_kg, record_date) values ($1, $2, $3)
        on conflict (pet_id, record_date) do update set weight_kg = excluded.weight_kg, updated_at = now()
        """,
        pet_id,
        weight_kg,
        day,
    )


async def soft_delete(conn: asyncpg.Connection, pet_id: int) -> bool:
    """Mark the pet deleted and out of its group (records stay); False when it was already gone."""
    status = await conn.execute(
        """
        update pets set status = 'deleted', group_id = null, group_assigned_at = null, updated_at = now()
        where id = $1 and status <> 'deleted'
        """,
        pet_id,
    )
    return status == "UPDATE 1"


async def assign_group(conn: asyncpg.Connection, pet_id: int, group_id: int) -> bool:
    """Move the pet to the group (from whichever it was in); False when it is gone."""
    status = await conn.execute(
        """
        update pets set group_id = $2, group_assigned_at = now(), updated_at = now()
        where id = $1 and status <> 'deleted'
        """,
        pet_id,
        group_id,
    )
    return status == "UPDATE 1"


async def lock(conn: asyncpg.Connection, pet_id: int) -> asyncpg.Record | None:
    """The pet's row, locked for the transaction (None when missing or deleted)."""
    return await conn.fetchrow("select * from pets where id = $1 and status <> 'deleted' for update", pet_id)
