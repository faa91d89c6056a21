"""Packages: what a tenant bought (photos per event, gallery window, events at once)."""

from __future__ import annotations

import asyncpg

from domain.errors import Conflict, Invalid
from storage.errors import domain_errors

COLUMNS = "id, slug, name, photo_limit, gallery_days, event_limit, created_at"


async def create(
    conn: asyncpg.Connection, *, slug: str, name: str, photo_limit: int, gallery_days: int, event_limit: int | None
) -> asyncpg.Record:
    """A new package; a taken slug is a 422 on `slug`."""
    try:
        with domain_errors():
            return await conn.fetchrow(
                f"""
                insert into packages (slug, name, photo_limit, gallery_days, event_limit)
                values ($1, $2, $3, $4, $5) returning {COLUMNS}
                """,
                slug,
                name,
                photo_limit,
                gallery_days,
                event_limit,
            )
    except Conflict as exc:
        message = f"A package with the slug {slug!r} already exists."
        raise Invalid(message, code="already_taken", fields={"slug": [message]}) from exc


async def by_slug_or_name(conn: asyncpg.Connection, value: str) -> asyncpg.Record | None:
    """The package an operator means: its slug, or its display name in any case."""
    return await conn.fetchrow(
        f"select {COLUMNS} from packages where slug = $1 or lower(name) = lower($1) order by slug <> $1, id limit 1",
        value,
    )


async def list_all(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        select {COLUMNS}, (select count(*) from tenants t where t.package_id = p.id) as tenants_count
        from packages p order by photo_limit, id
        """
    )
