"""A tenant's settings (001): the theme in tenants.theme, the rest in tenant_settings (0016), read
together with the package's bounds. domain/tenant_settings.py decides what may be written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from domain.errors import NotFound
from storage.errors import domain_errors

# the columns a write may set; anything else is a caller bug
COLUMNS = frozenset({"photo_limit", "gallery_days", "logo_key", "imprint_url", "privacy_url", "terms_url"})

_SELECT = """
    select t.id as tenant_id, t.theme,
           p.photo_limit as package_photo_limit, p.gallery_days as package_gallery_days,
           p.event_limit as package_event_limit,
           s.photo_limit, s.gallery_days, s.logo_key, s.imprint_url, s.privacy_url, s.terms_url,
           greatest(t.updated_at, s.updated_at) as updated_at
    from tenants t
    join packages p on p.id = t.package_id
    left join tenant_settings s on s.tenant_id = t.id
    where t.id = $1
"""


async def get(conn: asyncpg.Connection, tenant_id: int) -> asyncpg.Record:
    """The tenant's settings (its row need not exist: then every choice is null)."""
    with domain_errors():
        row = await conn.fetchrow(_SELECT, tenant_id)
    if row is None:  # the caller's own tenant, deleted since it signed in
        raise NotFound("Tenant not found.")
    return row


async def lock(conn: asyncpg.Connection, tenant_id: int) -> asyncpg.Record:
    """Create the row if need be and hold it until the transaction ends; the settings as they are."""
    with domain_errors():
        await conn.execute(
            "insert into tenant_settings (tenant_id) values ($1) on conflict (tenant_id) do nothing", tenant_id
        )
        await conn.execute("select 1 from tenant_settings where tenant_id = $1 for update", tenant_id)
    return await get(conn, tenant_id)


async def update_columns(conn: asyncpg.Connection, tenant_id: int, values: dict[str, Any], now: datetime) -> None:
    """Set these columns of the (locked) row; a None clears."""
    unknown = set(values) - COLUMNS
    if unknown:
        raise ValueError(f"not settings columns: {sorted(unknown)}")
    if not values:
        return
    names = sorted(values)
    assignments = ", ".join(f"{name} = ${i + 3}" for i, name in enumerate(names))
    with domain_errors():
        await conn.execute(
            f"update tenant_settings set {assignments}, updated_at = $2 where tenant_id = $1",
            tenant_id,
            now,
            *(values[n] for n in names),
        )


async def update_theme(
    conn: asyncpg.Connection, tenant_id: int, set_: dict[str, str], remove: list[str], now: datetime
) -> None:
    """Merge `set_` into the theme and drop the `remove` keys; keys the settings do not know (an
    older free-form theme's) stay as they are."""
    with domain_errors():
        await conn.execute(
            "update tenants set theme = (theme - $2::text[]) || $3::jsonb, updated_at = $4 where id = $1",
            tenant_id,
            remove,
            set_,
            now,
        )
