"""Pets and health records for the health-record tests, written straight to the database so these
tests do not depend on the pets surface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from tests.builders import bearer, make_token, make_user


async def insert_pet(pool: asyncpg.Pool, owner_id: int, pet_type_slug: str = "cat", **fields: Any) -> int:
    fields.setdefault("name", "Whiskers")
    fields.setdefault("country", "VN")
    names = list(fields)
    cols = ", ".join(names)
    params = ", ".join(f"${i}" for i in range(3, len(names) + 3))
    return await pool.fetchval(
        f"""
        insert into pets (owner_id, pet_type_id, {cols})
        values ($1, (select id from pet_types where slug = $2), {params})
        returning id
        """,
        owner_id,
        pet_type_slug,
        *fields.values(),
    )


async def add_collaborator(pool: asyncpg.Pool, pet_id: int, user_id: int, role: str) -> None:
    await pool.execute(
        "insert into pet_access (pet_id, user_id, role) values ($1, $2, $3)", pet_id, user_id, role
    )


async def set_pet_status(pool: asyncpg.Pool, pet_id: int, status: str) -> None:
    await pool.execute("update pets set status = $2 where id = $1", pet_id, status)


async def make_weight(pool: asyncpg.Pool, pet_id: int, weight_kg: float, record_date: date) -> int:
    return await pool.fetchval(
        "insert into pet_weights (pet_id, weight_kg, record_date) values ($1, $2, $3) returning id",
        pet_id,
        weight_kg,
        record_date,
    )


async def make_medical_record(pool: asyncpg.Pool, pet_id: int, record_date: date, record_type: str = "checkup") -> int:
    return await pool.fetchval(
        "insert into medical_records (pet_id, record_type, record_date) values ($1, $2, $3) returning id",
        pet_id,
        record_type,
        record_date,
    )


async def make_vaccination(
    pool: asyncpg.Pool,
    pet_id: int,
    vaccine_name: str,
    administered_at: date,
    due_at: date | None = None,
    *,
    completed: bool = False,
) -> int:
    return await pool.fetchval(
        """
        insert into vaccinations (pet_id, vaccine_name, administered_at, due_at, completed_at)
        values ($1, $2, $3, $4, case when $5 then now() end) returning id
        """,
        pet_id,
        vaccine_name,
        administered_at,
        due_at,
        completed,
    )


async def make_microchip(pool: asyncpg.Pool, pet_id: int, chip_number: str, implanted_at: date | None = None) -> int:
    return await pool.fetchval(
        "insert into microchips (pet_id, chip_number, implanted_at) values ($1, $2, $3) returning id",
        pet_id,
        chip_number,
        implanted_at,
    )


# ---- people around one pet ---------------------------------------------------------------------

@dataclass
class Cast:
    """A pet and everyone who might ask about it, each with an all-abilities token's headers."""

    pet_id: int
    owner: asyncpg.Record
    owner_h: dict[str, str]
    editor_h: dict[str, str]
    viewer_h: dict[str, str]
    admin_h: dict[str, str]
    stranger_h: dict[str, str]


async def cast(client: Any, pool: asyncpg.Pool, pet_type_slug: str = "cat") -> Cast:
    app = client.app
    owner = await make_user(app)
    editor = await make_user(app)
    viewer = await make_user(app)
    admin = await make_user(app, admin=True)
    stranger = await make_user(app)
    pet_id = await insert_pet(pool, owner["id"], pet_type_slug)
    await add_collaborator(pool, pet_id, editor["id"], "editor")
    await add_collaborator(pool, pet_id, viewer["id"], "viewer")

    async def headers(user: asyncpg.Record) -> dict[str, str]:
        return bearer(await make_token(app, user["id"]))

    return Cast(
        pet_id=pet_id,
        owner=owner,
        owner_h=await headers(owner),
        editor_h=await headers(editor),
        viewer_h=await headers(viewer),
        admin_h=await headers(admin),
        stranger_h=await headers(stranger),
    )


async def token_headers(client: Any, user_id: int, *abilities: str) -> dict[str, str]:
    return bearer(await make_token(client.app, user_id, abilities=abilities))


def assert_error(body: dict[str, Any], message: str) -> None:
    assert body["success"] is False
    assert body["data"] is None
    assert body["message"] == message
    assert body["error"] == message


def assert_feature_gate(body: dict[str, Any]) -> None:
    assert body["success"] is False
    assert body["error_code"] == "FEATURE_NOT_AVAILABLE_FOR_PET_TYPE"
    assert body["errors"] == {"pet_type": ["Feature not available for this pet type"]}
