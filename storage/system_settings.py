"""Runtime settings rows (`system_settings`): name -> JSON value."""

from __future__ import annotations

from typing import Any

import asyncpg


async def get_all(conn: asyncpg.Connection) -> dict[str, Any]:
    rows = await conn.fetch("select name, value from system_settings")
    return {r["name"]: r["value"] for r in rows}


async def get(conn: asyncpg.Connection, name: str) -> Any | None:
    return await conn.fetchval("select value from system_settings where name = $1", name)


async def put(conn: asyncpg.Connection, name: str, value: Any) -> None:
    await conn.execute(
        """
        insert into system_settings (name, value) values ($1, $2)
        on conflict (name) do update set value = excluded.value, updated_at = now()
        """,
        name,
        value,
    )
