"""Pets, pet types and the list views' health summary (000; 002 shares the same table).

A deleted pet (status 'deleted') is kept for its records but behaves as if it did not exist: no
function here returns one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

# pet_types.id is a 4-byte serial: a larger id cannot exist, and asking would raise in asyncpg
MAX_TYPE_ID = 2**31 - 1
# The columns 000's update may change; anything else in `fields` is a caller bug.
UPDATABLE = frozenset({"name", "birthday", "country", "description", "pet_type_id", "sex", "status"})
# 000's vaccination_status: an open vaccination due within this many days is "due soon"
DUE_SOON_DAYS = 30

_PET_COLUMNS = """
    p.*, t.slug as pet_type_slug, t.name as pet_type_name,
    t.has_weights, t.has_medical_records, t.has_vaccinations, t.has_microchips
"""


# ---- pet types ----


async def list_types(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("select * from pet_types order by sort_order, id")


async def get_type(conn: asyncpg.Connection, type_id: int) -> asyncpg.Record | None:
    if not 0 < type_id <= MAX_TYPE_ID:
        return None
    return await conn.fetchrow("select * from pet_types where id = $1", type_id)


async def type_by_slug(conn: asyncpg.Connection, slug: str) -> asyncpg.Record | None:
    return await conn.fetchrow("select * from pet_types where slug = $1", slug)


# ---- pets ----


async def get(conn: asyncpg.Connection, pet_id: int) -> asyncpg.Record | None:
    """The pet with its type's slug, name and flags; None when missing or deleted."""
    return await conn.fetchrow(
        f"""
        select {_PET_COLUMNS}
        from pets p join pet_types t on t.id = p.pet_type_id
        where p.id = $1 and p.status <> 'deleted'
        """,
        pet_id,
    )


async def create(
    conn: asyncpg.Connection,
    *,
    owner_id: int,
    pet_type_id: int,
    name: str,
    country: str | None,
    birthday: date | None = None,
    description: str | None = None,
    sex: str = "not_specified",
) -> asyncpg.Record:
    """A new active pet, returned as `get` returns it (one statement, so nothing half-written)."""
    return await conn.fetchrow(
        f"""
        with p as (
            insert into pets (owner_id, pet_type_id, name, country, birthday, description, sex)
            values ($1, $2, $3, $4, $5, $6, $7)
            returning *
        )
        select {_PET_COLUMNS} from p join pet_types t on t.id = p.pet_type_id
        """,
        owner_id,
        pet_type_id,
        name,
        country,
        birthday,
        description,
        sex,
    )


async def update(conn: asyncpg.Connection, pet_id: int, fields: Mapping[str, Any]) -> asyncpg.Record | None:
    """Set the given columns (and updated_at); None when the pet is missing or deleted meanwhile."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    names = list(fields)
    # column names come from UPDATABLE only, never from a client
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    sets = f"{assignments}, updated_at = now()" if assignments else "updated_at = now()"
    return await conn.fetchrow(
        f"""
        with p as (
            update pets set {sets} where id = $1 and status <> 'deleted' returning *
        )
        select {_PET_COLUMNS} from p join pet_types t on t.id = p.pet_type_id
        """,
        pet_id,
        *(fields[n] for n in names),
    )


async def soft_delete(conn: asyncpg.Connection, pet_id: int) -> bool:
    """Mark the pet deleted (its records stay for support); False when it was already gone."""
    status = await conn.execute(
        "update pets set status = 'deleted', updated_at = now() where id = $1 and status <> 'deleted'", pet_id
    )
    return status == "UPDATE 1"


async def list_owned(
    conn: asyncpg.Connection, owner_id: int, *, pet_type_slug: str | None = None
) -> list[asyncpg.Record]:
    """The user's pets (not deleted), oldest first, optionally of one type (by slug)."""
    return await conn.fetch(
        f"""
        select {_PET_COLUMNS}
        from pets p join pet_types t on t.id = p.pet_type_id
        where p.owner_id = $1 and p.status <> 'deleted' and ($2::text is null or t.slug = $2)
        order by p.id
        """,
        owner_id,
        pet_type_slug,
    )


async def add_collaborator(conn: asyncpg.Connection, pet_id: int, user_id: int, role: str) -> None:
    """Make `user_id` an editor or viewer of the pet (replacing an earlier role)."""
    await conn.execute(
        """
        insert into pet_access (pet_id, user_id, role) values ($1, $2, $3)
        on conflict (pet_id, user_id) do update set role = excluded.role
        """,
        pet_id,
        user_id,
        role,
    )


# ---- health summary ----


def utc_today() -> date:
    return datetime.now(UTC).date()


def empty_summary() -> dict[str, Any]:
    return {
        "latest_weight_kg": None,
        "latest_weight_record_date": None,
        "previous_weight_kg": None,
        "previous_weight_record_date": None,
        "vaccination_status": "unknown",
    }


async def health_summaries(
    conn: asyncpg.Connection, pet_ids: Iterable[int], *, today: date | None = None
) -> dict[int, dict[str, Any]]:
    """000's `health_summary` for every pet in `pet_ids`, in ONE statement whatever their number.

    Returns pet id -> {latest_weight_kg (Decimal|None), latest_weight_record_date (date|None),
    previous_weight_kg, previous_weight_record_date, vaccination_status}; every requested id is
    present (no weights, no open vaccinations: Nones and "unknown"). Weights are ordered by
    record_date desc then id desc. The status looks at open vaccinations (not completed) with a due
    date: overdue if any is due before `today` (UTC by default), else due_soon if any is due by
    today + 30 days, else up_to_date if any is due later, else unknown.
    """
    ids = list(dict.fromkeys(pet_ids))
    if not ids:
        return {}
    today = today or utc_today()
    rows = await conn.fetch(
        """
        select ids.id as pet_id,
               w.latest_weight_kg, w.latest_weight_record_date,
               w.previous_weight_kg, w.previous_weight_record_date,
               coalesce(v.status, 'unknown') as vaccination_status
        from unnest($1::bigint[]) as ids(id)
        left join lateral (
            -- the two newest weights, via the (pet_id, record_date desc, id desc) index
            select (array_agg(x.weight_kg order by x.record_date desc, x.id desc))[1] as latest_weight_kg,
                   (array_agg(x.record_date order by x.record_date desc, x.id desc))[1] as latest_weight_record_date,
                   (array_agg(x.weight_kg order by x.record_date desc, x.id desc))[2] as previous_weight_kg,
                   (array_agg(x.record_date order by x.record_date desc, x.id desc))[2] as previous_weight_record_date
            from (
                select id, weight_kg, record_date from pet_weights
                where pet_id = ids.id
                order by record_date desc, id desc
                limit 2
            ) x
        ) w on true
        left join lateral (
            select case
                     when count(*) = 0 then null
                     when bool_or(due_at < $2) then 'overdue'
                     when bool_or(due_at <= $2 + $3::int) then 'due_soon'
                     else 'up_to_date'
                   end as status
            from vaccinations
            where pet_id = ids.id and completed_at is null and due_at is not null
        ) v on true
        """,
        ids,
        today,
        DUE_SOON_DAYS,
    )
    return {r["pet_id"]: _summary(r) for r in rows}


def _summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "latest_weight_kg": row["latest_weight_kg"],
        "latest_weight_record_date": row["latest_weight_record_date"],
        "previous_weight_kg": row["previous_weight_kg"],
        "previous_weight_record_date": row["previous_weight_record_date"],
        "vaccination_status": row["vaccination_status"],
    }


def weight_number(value: Decimal | None) -> float | None:
    """Weights leave as JSON numbers (numeric(7,3) in the table)."""
    return float(value) if value is not None else None
