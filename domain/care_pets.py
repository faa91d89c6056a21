"""002's pet rules over the one `pets` table, with the reference's words.

- A new pet belongs to its creator and starts in their personal group.
- Reading a pet needs a relation to it (domain/pet_access.py's `care_role`: owner, the pet's
  group, or a 000 grant); changing it needs owner, group creator or member (a 000 editor counts as
  member); deleting it and moving it to another group need its owner, and the move also needs the
  creator's role in the target group. A missing or deleted pet is a 404, an existing one the caller
  has no relation to a 403 (the reference's statuses; 000 answers the same way).
- 002's `pet_type` is the pet type's slug (a 000 type 002 does not name shows as `other`); its
  `gender` `unknown` is 000's `not_specified`; `current_weight_kg` is the latest weight record,
  and setting it records that day's weight, which 000 lists as the pet's latest weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import asyncpg

from domain.errors import Forbidden, Invalid, NotFound
from domain.inputs import parse_positive_int
from domain.pet_access import CARE_WRITERS, CareRole, care_role
from storage import care_pets as care_pets_sql
from storage import groups as groups_sql
from storage import pets as pets_sql

PET_TYPES: Final = ("dog", "cat", "bird", "fish", "rabbit", "other")
GENDERS: Final = ("male", "female", "unknown")
# 002's gender -> 000's sex (pets.sex), and back
_SEX_OF_GENDER: Final = {"male": "male", "female": "female", "unknown": "not_specified"}
_GENDER_OF_SEX: Final = {"male": "male", "female": "female", "not_specified": "unknown"}
# the age in whole years, as the reference counts it
_DAYS_PER_YEAR = 365.25


def pet_not_found() -> NotFound:
    return NotFound("Pet not found", code="pet_not_found")


def pet_type_of(slug: str) -> str:
    return slug if slug in PET_TYPES else "other"


def gender_of(sex: str) -> str:
    return _GENDER_OF_SEX.get(sex, "unknown")


def sex_of(gender: str) -> str:
    return _SEX_OF_GENDER[gender]


def age_in_years(birthday: date | None, today: date) -> int | None:
    if birthday is None:
        return None
    return int((today - birthday).days / _DAYS_PER_YEAR)


def parse_pet_id(raw: str) -> int:
    value = parse_positive_int(raw)
    if value is None:
        raise pet_not_found()
    return value


@dataclass(frozen=True, slots=True)
class CarePet:
    """A pet row (storage/care_pets.py's columns) and the caller's relation to it."""

    row: asyncpg.Record
    role: CareRole | None


@dataclass(frozen=True, slots=True)
class Assignment:
    pet: CarePet
    group: asyncpg.Record | None  # storage.groups.group_for's row, None when in no group


@dataclass(frozen=True, slots=True)
class PetChanges:
    """What a create or update sets: `pets` columns in 002's words already mapped (pet_type as
    its slug, gender as sex) and the current weight, which is a weight record."""

    fields: Mapping[str, Any]
    pet_type: str | None = None
    weight_kg: float | None = None


def _of(row: asyncpg.Record, user_id: int) -> CarePet:
    return CarePet(row, care_role(row["owner_id"], user_id, row["access_role"], row["group_role"]))


async def _columns(conn: asyncpg.Connection, changes: PetChanges) -> dict[str, Any]:
    fields = dict(changes.fields)
    if changes.pet_type is not None:
        type_row = await pets_sql.type_by_slug(conn, changes.pet_type)
        if type_row is None:  # the six slugs are seeded by 0005; an operator may have dropped one
            raise Invalid(fields={"pet_type": ["The selected pet type is invalid."]})
        fields["pet_type_id"] = type_row["id"]
    return fields


async def _reach(conn: asyncpg.Connection, pet_id: int, user_id: int) -> CarePet:
    """The pet and the caller's relation to it: 404 when missing or deleted, 403 without one."""
    row = await care_pets_sql.get_for(conn, pet_id, user_id)
    if row is None:
        raise pet_not_found()
    pet = _of(row, user_id)
    if pet.role is None:
        raise Forbidden("User doesn't have permission to this pet", code="pet_forbidden")
    return pet


async def _reload(conn: asyncpg.Connection, pet_id: int, user_id: int) -> CarePet:
    row = await care_pets_sql.get_for(conn, pet_id, user_id)
    if row is None:  # deleted by a concurrent request
        raise pet_not_found()
    return _of(row, user_id)


async def create(pool: asyncpg.Pool, user_id: int, changes: PetChanges, today: date) -> CarePet:
    async with pool.acquire() as conn, conn.transaction():
        group_id = await groups_sql.personal_group_id(conn, user_id)
        if group_id is None:  # every registration makes one; an account from before it did not
            group_id = await groups_sql.create_personal(conn, user_id)
        pet_id = await care_pets_sql.create(
            conn, owner_id=user_id, group_id=group_id, fields=await _columns(conn, changes)
        )
        if changes.weight_kg is not None:
            await care_pets_sql.record_weight(conn, pet_id, changes.weight_kg, today)
        return await _reload(conn, pet_id, user_id)


async def accessible(pool: asyncpg.Pool, user_id: int) -> list[CarePet]:
    async with pool.acquire() as conn:
        rows = await care_pets_sql.accessible(conn, user_id)
    return [_of(row, user_id) for row in rows]


def of_rows(rows: list[asyncpg.Record], user_id: int) -> list[CarePet]:
    """Rows of storage/care_pets.py with the caller's relation to each."""
    return [_of(row, user_id) for row in rows]


async def details(pool: asyncpg.Pool, pet_id: int, user_id: int) -> CarePet:
    async with pool.acquire() as conn:
        return await _reach(conn, pet_id, user_id)


async def update(pool: asyncpg.Pool, pet_id: int, user_id: int, changes: PetChanges, today: date) -> CarePet:
    async with pool.acquire() as conn, conn.transaction():
        pet = await _reach(conn, pet_id, user_id)
        if pet.role not in CARE_WRITERS:
            raise Forbidden("You don't have permission to modify this pet", code="pet_forbidden")
        if not await care_pets_sql.update(conn, pet_id, await _columns(conn, changes)):
            raise pet_not_found()
        if changes.weight_kg is not None:
            await care_pets_sql.record_weight(conn, pet_id, changes.weight_kg, today)
        return await _reload(conn, pet_id, user_id)


async def delete(pool: asyncpg.Pool, pet_id: int, user_id: int) -> CarePet:
    """Soft delete (records stay, the pet leaves its group); the pet as it was."""
    async with pool.acquire() as conn, conn.transaction():
        pet = await _reach(conn, pet_id, user_id)
        if pet.role != "owner":
            raise Forbidden("You don't have permission to delete this pet", code="pet_forbidden")
        if not await care_pets_sql.soft_delete(conn, pet_id):
            raise pet_not_found()
    return pet


async def assign_group(pool: asyncpg.Pool, pet_id: int, user_id: int, group_id: int | None) -> Assignment:
    """Move the owner's pet into a group they created. A group they do not belong to (or none at
    all) is "Group not found", as in the reference."""
    async with pool.acquire() as conn, conn.transaction():
        pet = await _reach(conn, pet_id, user_id)
        if pet.role != "owner":
            raise Forbidden("You don't have permission to assign this pet to a group", code="pet_forbidden")
        role = await groups_sql.role_in(conn, group_id, user_id) if group_id is not None else None
        if group_id is None or role is None:
            raise NotFound("Group not found", code="group_not_found")
        if role != "creator":
            raise Forbidden("You don't have permission to assign this pet to this group", code="not_group_creator")
        if not await care_pets_sql.assign_group(conn, pet_id, group_id):
            raise pet_not_found()
        return await _assignment(conn, pet_id, user_id)


async def current_group(pool: asyncpg.Pool, pet_id: int, user_id: int) -> Assignment:
    async with pool.acquire() as conn:
        await _reach(conn, pet_id, user_id)
        return await _assignment(conn, pet_id, user_id)


async def _assignment(conn: asyncpg.Connection, pet_id: int, user_id: int) -> Assignment:
    pet = await _reload(conn, pet_id, user_id)
    group_id = pet.row["group_id"]
    group = await groups_sql.group_for(conn, group_id, user_id) if group_id is not None else None
    return Assignment(pet, group)
