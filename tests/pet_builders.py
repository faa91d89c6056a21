"""Builders for pets and their collaborators, shared by every pet and health-record test."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
from aiohttp import web

from gateway.kernel.keys import pool_key
from storage import pets as pets_sql


def _pool(app_or_pool: web.Application | asyncpg.Pool) -> asyncpg.Pool:
    return app_or_pool[pool_key] if isinstance(app_or_pool, web.Application) else app_or_pool


async def pet_type_id(app_or_pool: web.Application | asyncpg.Pool, slug: str) -> int:
    async with _pool(app_or_pool).acquire() as conn:
        row = await pets_sql.type_by_slug(conn, slug)
    assert row is not None, slug
    return row["id"]


async def make_pet(
    app_or_pool: web.Application | asyncpg.Pool,
    owner_id: int,
    *,
    pet_type: str = "cat",
    name: str | None = None,
    country: str | None = "VN",
    birthday: date | None = None,
    description: str | None = None,
    sex: str = "not_specified",
    status: str = "active",
) -> asyncpg.Record:
    """An active pet of `owner_id` (a cat unless `pet_type` names another slug), as
    storage.pets.get returns it (type slug, name and flags included); with status="deleted" the
    bare pets row, since storage.pets.get no longer sees it."""
    pool = _pool(app_or_pool)
    async with pool.acquire() as conn:
        type_row = await pets_sql.type_by_slug(conn, pet_type)
        assert type_row is not None, pet_type
        row = await pets_sql.create(
            conn,
            owner_id=owner_id,
            pet_type_id=type_row["id"],
            name=name or f"Pet {uuid.uuid4().hex[:6]}",
            country=country,
            birthday=birthday,
            description=description,
            sex=sex,
        )
        if status != "active":
            row = await conn.fetchrow("update pets set status = $2 where id = $1 returning *", row["id"], status)
            if status != "deleted":
                row = await pets_sql.get(conn, row["id"])
    return row


async def add_collaborator(app_or_pool: web.Application | asyncpg.Pool, pet_id: int, user_id: int, role: str) -> None:
    """Make `user_id` an `editor` or `viewer` of the pet."""
    async with _pool(app_or_pool).acquire() as conn:
        await pets_sql.add_collaborator(conn, pet_id, user_id, role)
