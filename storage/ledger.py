"""The tenant ledger: append-only entries (a trigger refuses UPDATE and DELETE) and the balance row
that moves with them in the same transaction (tenant_accounts)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from storage.errors import domain_errors

COLUMNS = (
    "id, tenant_id, type, credits, balance_after, amount_cents, currency, package_id, package_expires_at, "
    "purchase_id, source, description, occurred_at, created_at"
)
_WITH_PACKAGE = (
    "select e.id, e.tenant_id, e.type, e.credits, e.balance_after, e.amount_cents, e.currency, e.package_id, "
    "p.slug as package_slug, e.package_expires_at, e.purchase_id, e.source, e.description, e.occurred_at, "
    "e.created_at from ledger_entries e join packages p on p.id = e.package_id"
)


async def lock_account(conn: asyncpg.Connection, tenant_id: int) -> asyncpg.Record | None:
    """The tenant's balance and package under row locks (tenant_accounts, then tenants), created on
    first use; None if there is no such tenant. Every entry of one tenant is written behind these
    locks, so balance_after is always the previous entry's plus its own credits."""
    with domain_errors():
        await conn.execute(
            """
            insert into tenant_accounts (tenant_id)
            select id from tenants where id = $1
            on conflict (tenant_id) do nothing
            """,
            tenant_id,
        )
        return await conn.fetchrow(
            """
            select a.tenant_id, a.credits, a.last_entry_id, t.package_id
            from tenant_accounts a join tenants t on t.id = a.tenant_id
            where a.tenant_id = $1
            for update of a, t
            """,
            tenant_id,
        )


async def source_taken(conn: asyncpg.Connection, source: str) -> bool:
    return bool(await conn.fetchval("select exists (select 1 from ledger_entries where source = $1)", source))


async def insert(
    conn: asyncpg.Connection,
    *,
    tenant_id: int,
    type_: str,
    credits: int,
    balance_after: int,
    amount_cents: int,
    currency: str | None,
    package_id: int,
    package_expires_at: datetime | None,
    purchase_id: int | None,
    source: str,
    description: str,
    occurred_at: datetime,
) -> asyncpg.Record | None:
    """The new entry, or None when `source` already has one (that effect happened already). The
    caller holds lock_account's locks and moves the balance with `move_balance`."""
    with domain_errors():
        return await conn.fetchrow(
            f"""
            insert into ledger_entries (tenant_id, type, credits, balance_after, amount_cents, currency,
                                        package_id, package_expires_at, purchase_id, source, description,
                                        occurred_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            on conflict (source) do nothing
            returning {COLUMNS}
            """,
            tenant_id,
            type_,
            credits,
            balance_after,
            amount_cents,
            currency,
            package_id,
            package_expires_at,
            purchase_id,
            source,
            description,
            occurred_at,
        )


async def move_balance(
    conn: asyncpg.Connection, tenant_id: int, *, credits: int, entry_id: int, package_id: int
) -> None:
    """The balance row and the tenant's package follow the entry just written."""
    with domain_errors():
        await conn.execute(
            """
            update tenant_accounts set credits = $2, last_entry_id = $3, updated_at = now()
            where tenant_id = $1
            """,
            tenant_id,
            credits,
            entry_id,
        )
        await conn.execute(
            "update tenants set package_id = $2, updated_at = now() where id = $1 and package_id <> $2",
            tenant_id,
            package_id,
        )


async def balance(conn: asyncpg.Connection, tenant_id: int) -> asyncpg.Record | None:
    """Credits and the current package (with its slug), as of the last committed entry."""
    return await conn.fetchrow(
        """
        select t.id as tenant_id, coalesce(a.credits, 0) as credits, a.last_entry_id,
               p.id as package_id, p.slug as package_slug, p.name as package_name
        from tenants t join packages p on p.id = t.package_id
        left join tenant_accounts a on a.tenant_id = t.id
        where t.id = $1
        """,
        tenant_id,
    )


async def list_page(
    conn: asyncpg.Connection,
    tenant_id: int,
    *,
    types: list[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[asyncpg.Record], int]:
    """One page of the tenant's entries, newest first (by id: the order they were written in),
    filtered by type and by occurred_at in [since, until)."""
    where = (
        " where e.tenant_id = $1 and ($2::text[] is null or e.type = any($2::text[]))"
        " and ($3::timestamptz is null or e.occurred_at >= $3) and ($4::timestamptz is null or e.occurred_at < $4)"
    )
    with domain_errors():
        rows = await conn.fetch(
            _WITH_PACKAGE + where + " order by e.id desc limit $5 offset $6",
            tenant_id,
            types,
            since,
            until,
            limit,
            offset,
        )
        total = await conn.fetchval("select count(*) from ledger_entries e" + where, tenant_id, types, since, until)
    return rows, total
