"""002 groups. Identity needs only the personal group every user gets; the rest comes with 002."""

from __future__ import annotations

import asyncpg

PERSONAL_GROUP_NAME = "Personal"


async def create_personal(conn: asyncpg.Connection, user_id: int, name: str | None = None) -> int:
    """The user's personal group (created once; later calls return the same id)."""
    group_id = await conn.fetchval(
        """
        insert into groups (name, creator_id, is_personal) values ($1, $2, true)
        on conflict (creator_id) where is_personal do nothing
        returning id
        """,
        (name or PERSONAL_GROUP_NAME)[:50],
        user_id,
    )
    if group_id is None:
        existing = await personal_group_id(conn, user_id)
        assert existing is not None  # the conflict was with it
        return existing
    await conn.execute(
        "insert into group_members (group_id, user_id, role) values ($1, $2, 'creator') on conflict do nothing",
        group_id,
        user_id,
    )
    return group_id


async def personal_group_id(conn: asyncpg.Connection, user_id: int) -> int | None:
    return await conn.fetchval("select id from groups where creator_id = $1 and is_personal", user_id)
