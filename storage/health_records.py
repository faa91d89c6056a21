"""Queries for 000's health records: weights, medical records, vaccinations, microchips.

The four kinds are the same shape of aggregate (rows owned by one pet), so one table-driven module
serves them; table and column names come only from the fixed `KINDS` below, values are always
parameters. Every query is scoped by pet id, so a record of another pet is simply not found.
Unique violations become 422s on the field a client sent (the reference validates uniqueness).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from domain.errors import Invalid
from storage.errors import domain_errors


@dataclass(frozen=True, slots=True)
class Kind:
    table: str
    columns: tuple[str, ...]
    order_by: str


KINDS: dict[str, Kind] = {
    "weights": Kind("pet_weights", ("weight_kg", "record_date"), "record_date desc, id desc"),
    "medical_records": Kind(
        "medical_records", ("record_type", "description", "record_date", "vet_name"), "record_date desc, id desc"
    ),
    "vaccinations": Kind(
        "vaccinations",
        ("vaccine_name", "administered_at", "due_at", "notes", "completed_at"),
        "administered_at desc, id desc",
    ),
    # MySQL (the reference) sorts nulls last on desc; say so explicitly for PostgreSQL
    "microchips": Kind(
        "microchips", ("chip_number", "issuer", "implanted_at"), "implanted_at desc nulls last, id desc"
    ),
}

# unique constraint -> (field, message) a client sees
_UNIQUE_FIELDS: dict[str, tuple[str, str]] = {
    "pet_weights_pet_id_record_date_key": ("record_date", "The record date has already been taken."),
    "vaccinations_pet_id_vaccine_name_administered_at_key": (
        "vaccine_name",
        "The vaccine name has already been taken.",
    ),
    "microchips_chip_number_key": ("chip_number", "The chip number has already been taken."),
}

# vaccination list filters (?status=)
VACCINATION_FILTERS: dict[str, str] = {
    "active": "completed_at is null",
    "completed": "completed_at is not null",
    "all": "true",
}


def _unique_invalid(exc: asyncpg.UniqueViolationError, field: str | None = None) -> Invalid:
    default_field, message = _UNIQUE_FIELDS.get(exc.constraint_name or "", ("record", "The record already exists."))
    name = field or default_field
    if field:
        message = f"The {field.replace('_', ' ')} has already been taken."
    return Invalid("The given data was invalid.", code="already_taken", fields={name: [message]})


def _check(kind: str, values: dict[str, Any]) -> Kind:
    spec = KINDS[kind]
    unknown = set(values) - set(spec.columns)
    if unknown:  # a programming error, never client input
        raise ValueError(f"unknown columns for {kind}: {sorted(unknown)}")
    return spec


async def list_page(
    conn: asyncpg.Connection, kind: str, pet_id: int, *, limit: int, offset: int, status: str | None = None
) -> tuple[list[asyncpg.Record], int]:
    """One page of a pet's records, newest first, and the total count."""
    spec = KINDS[kind]
    where = "pet_id = $1"
    if status is not None:
        where += " and " + VACCINATION_FILTERS[status]
    with domain_errors():
        total = await conn.fetchval(f"select count(*) from {spec.table} where {where}", pet_id)
        rows = await conn.fetch(
            f"select * from {spec.table} where {where} order by {spec.order_by} limit $2 offset $3",
            pet_id,
            limit,
            offset,
        )
    return rows, total


async def get(conn: asyncpg.Connection, kind: str, pet_id: int, record_id: int, *, for_update: bool = False):
    spec = KINDS[kind]
    lock = " for update" if for_update else ""
    with domain_errors():
        return await conn.fetchrow(
            f"select * from {spec.table} where id = $1 and pet_id = $2{lock}", record_id, pet_id
        )


async def insert(conn: asyncpg.Connection, kind: str, pet_id: int, values: dict[str, Any]) -> asyncpg.Record:
    spec = _check(kind, values)
    names = list(values)
    placeholders = ", ".join(f"${i}" for i in range(2, len(names) + 2))
    sql = (
        f"insert into {spec.table} (pet_id{''.join(', ' + n for n in names)}) "
        f"values ($1{', ' if names else ''}{placeholders}) returning *"
    )
    with domain_errors():
        try:
            return await conn.fetchrow(sql, pet_id, *values.values())
        except asyncpg.UniqueViolationError as exc:
            raise _unique_invalid(exc) from exc


async def update(
    conn: asyncpg.Connection, kind: str, pet_id: int, record_id: int, values: dict[str, Any]
) -> asyncpg.Record | None:
    """The changed row, or None when no such record belongs to the pet."""
    spec = _check(kind, values)
    sets = ", ".join(f"{n} = ${i}" for i, n in enumerate(values, start=3))
    sql = (
        f"update {spec.table} set {sets}{', ' if sets else ''}updated_at = now() "
        "where id = $1 and pet_id = $2 returning *"
    )
    with domain_errors():
        try:
            return await conn.fetchrow(sql, record_id, pet_id, *values.values())
        except asyncpg.UniqueViolationError as exc:
            raise _unique_invalid(exc) from exc


async def delete(conn: asyncpg.Connection, kind: str, pet_id: int, record_id: int) -> bool:
    spec = KINDS[kind]
    with domain_errors():
        deleted = await conn.fetchval(
            f"delete from {spec.table} where id = $1 and pet_id = $2 returning id", record_id, pet_id
        )
    return deleted is not None


async def renew_vaccination(
    conn: asyncpg.Connection, pet_id: int, record_id: int, values: dict[str, Any]
) -> tuple[asyncpg.Record | None, asyncpg.Record | None]:
    """Complete an open vaccination and record its successor, in one transaction.

    Returns (old, new): (None, None) when the record is not the pet's; (old, None) when it was
    already completed (nothing changed). The row lock makes two concurrent renewals of one record
    produce one successor, not two.
    """
    async with conn.transaction():
        old = await get(conn, "vaccinations", pet_id, record_id, for_update=True)
        if old is None or old["completed_at"] is not None:
            return old, None
        with domain_errors():
            try:
                new = await conn.fetchrow(
                    """
                    insert into vaccinations (pet_id, vaccine_name, administered_at, due_at, notes)
                    values ($1, $2, $3, $4, $5) returning *
                    """,
                    pet_id,
                    old["vaccine_name"],
                    values["administered_at"],
                    values.get("due_at"),
                    values.get("notes"),
                )
            except asyncpg.UniqueViolationError as exc:
                # the name is copied, so the date the client sent is what collides
                raise _unique_invalid(exc, field="administered_at") from exc
            await conn.execute(
                "update vaccinations set completed_at = now(), updated_at = now() where id = $1", record_id
            )
        return old, new
