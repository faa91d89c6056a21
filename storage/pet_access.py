"""Queries for who may reach a pet: the pet with its type's capability flags, one caller's
per-pet grant and their role in the pet's 002 group, in one statement. domain/pet_access.py
decides what the row allows."""

from __future__ import annotations

import asyncpg


async def pet_for_caller(conn: asyncpg.Connection, pet_id: int, user_id: int | None) -> asyncpg.Record | None:
    """The pet (None when missing or deleted: a deleted pet does not exist), its type's slug, name
    and `has_*` flags, and `access_role`: the caller's row in pet_access, or null (the owner has
    none; `owner_id` says who that is), and `group_role`: the caller's role in the pet's group
    (creator, member, viewer) or null."""
    return await conn.fetchrow(
        """
        select p.*, t.slug as pet_type_slug, t.name as pet_type_name,
               t.has_weights, t.has_medical_records, t.has_vaccinations, t.has_microchips,
               a.role as access_role, m.role as group_role
        from pets p
        join pet_types t on t.id = p.pet_type_id
        left join pet_access a on a.pet_id = p.id and a.user_id = $2
        left join group_members m on m.group_id = p.group_id and m.user_id = $2
        where p.id = $1 and p.status <> 'deleted'
        """,
        pet_id,
        user_id,
    )
