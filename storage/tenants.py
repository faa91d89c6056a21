"""Tenants and their admin users (tenant_users), read with their package and a few counts."""

from __future__ import annotations

from typing import Any

import asyncpg

from storage.errors import domain_errors

# A tenant as every reader shows it: its package inline, and how many events and admins it has
# (two index lookups on tenant_id; tenants are read one at a time or a page at a time).
_COLUMNS = """
    t.id, t.name, t.slug, t.theme, t.created_at, t.updated_at,
    p.id as package_id, p.slug as package_slug, p.name as package_name,
    p.photo_limit, p.gallery_days, p.event_limit,
    (select count(*) from events e where e.tenant_id = t.id) as events_count,
    (select count(*) from tenant_users tu where tu.tenant_id = t.id) as admins_count
"""
_FROM = " from tenants t join packages p on p.id = t.package_id "
_SELECT = "select " + _COLUMNS + _FROM


async def create(
    conn: asyncpg.Connection, *, name: str, slug: str, package_id: int, theme: dict[str, Any] | None = None
) -> asyncpg.Record:
    with domain_errors():
        tenant_id = await conn.fetchval(
            "insert into tenants (name, slug, package_id, theme) values ($1, $2, $3, $4) returning id",
            name,
            slug,
            package_id,
            theme or {},
        )
    return await get(conn, tenant_id)


async def free_slug(conn: asyncpg.Connection, base: str) -> str:
    """`base`, or `base-2`, `base-3`, … whichever is not taken yet (a concurrent create of the
    same name still hits the unique index, which the caller reports)."""
    taken = {
        r["slug"]
        for r in await conn.fetch(
            "select slug from tenants where slug = $1 or slug like $2", base, base + "-%"
        )
    }
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def add_admin(conn: asyncpg.Connection, tenant_id: int, user_id: int, role: str = "admin") -> None:
    with domain_errors():
        await conn.execute(
            "insert into tenant_users (user_id, tenant_id, role) values ($1, $2, $3)", user_id, tenant_id, role
        )


async def administered_by(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record | None:
    """The tenant this account administers, with the account's role in it (`admin_role`)."""
    return await conn.fetchrow(
        "select me.role as admin_role, " + _COLUMNS + _FROM + " join tenant_users me on me.tenant_id = t.id"
        " where me.user_id = $1",
        user_id,
    )


async def get(conn: asyncpg.Connection, tenant_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(_SELECT + " where t.id = $1", tenant_id)


async def list_page(conn: asyncpg.Connection, *, limit: int, offset: int) -> tuple[list[asyncpg.Record], int]:
    """One page of tenants, newest first, and how many there are in all."""
    rows = await conn.fetch(_SELECT + " order by t.created_at desc, t.id desc limit $1 offset $2", limit, offset)
    total = await conn.fetchval("select count(*) from tenants")
    return rows, total


async def list_all(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every tenant, oldest first, with its owners' emails (the CLI's listing)."""
    return await conn.fetch(
        "select " + _COLUMNS + """,
               (select string_agg(u.email, ', ' order by u.email)
                from tenant_users tu join users u on u.id = tu.user_id where tu.tenant_id = t.id) as admin_emails
        """
        + _FROM
        + " order by t.id"
    )
