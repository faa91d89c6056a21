"""The commerce catalogue, purchase intents and provider subscriptions."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from storage.errors import domain_errors

PRODUCT_COLUMNS = (
    "c.id, c.provider_product_id, c.kind, c.package_id, p.slug as package_slug, c.credits, c.amount_cents, "
    "c.currency, c.period_days, c.active"
)
_PRODUCTS = f"select {PRODUCT_COLUMNS} from commerce_products c left join packages p on p.id = c.package_id"

PURCHASE_COLUMNS = (
    "u.id, u.tenant_id, u.product_id, c.provider_product_id, c.kind as product_kind, c.credits, "
    "c.package_id, pk.slug as package_slug, u.provider, u.amount_cents, u.currency, u.status, "
    "u.idempotency_key, u.request_hash, u.provider_transaction_id, u.expires_at, u.completed_at, "
    "u.created_at, u.updated_at"
)
_PURCHASES = (
    f"select {PURCHASE_COLUMNS} from purchases u join commerce_products c on c.id = u.product_id"
    " left join packages pk on pk.id = c.package_id"
)


async def list_products(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(_PRODUCTS + " where c.active order by c.kind, c.amount_cents, c.id")


async def product(conn: asyncpg.Connection, provider_product_id: str) -> asyncpg.Record | None:
    """An active product by the provider's id (a retired one cannot be bought any more)."""
    with domain_errors():
        return await conn.fetchrow(_PRODUCTS + " where c.provider_product_id = $1", provider_product_id)


async def insert_intent(
    conn: asyncpg.Connection,
    *,
    tenant_id: int,
    product: asyncpg.Record,
    idempotency_key: str | None,
    request_hash: str | None,
    user_id: int | None,
    expires_at: datetime,
) -> int | None:
    """The new intent's id, or None when the tenant already used this Idempotency-Key (the
    unique index settles concurrent requests with one key: exactly one inserts)."""
    with domain_errors():
        return await conn.fetchval(
            """
            insert into purchases (tenant_id, product_id, amount_cents, currency, idempotency_key, request_hash,
                                   created_by, expires_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8)
            on conflict (tenant_id, idempotency_key) do nothing
            returning id
            """,
            tenant_id,
            product["id"],
            product["amount_cents"],
            product["currency"],
            idempotency_key,
            request_hash,
            user_id,
            expires_at,
        )


async def insert_completed(
    conn: asyncpg.Connection,
    *,
    tenant_id: int,
    product: asyncpg.Record,
    amount_cents: int,
    currency: str,
    transaction_id: str | None,
    at: datetime,
) -> int:
    """A purchase the provider reported that no intent of ours announced (bought in the store
    directly): recorded as completed so the tenant's purchases show every payment."""
    with domain_errors():
        return await conn.fetchval(
            """
            insert into purchases (tenant_id, product_id, amount_cents, currency, status, provider_transaction_id,
                                   expires_at, completed_at)
            values ($1, $2, $3, $4, 'completed', $5, $6, $6)
            returning id
            """,
            tenant_id,
            product["id"],
            amount_cents,
            currency,
            transaction_id,
            at,
        )


async def by_key(conn: asyncpg.Connection, tenant_id: int, idempotency_key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        _PURCHASES + " where u.tenant_id = $1 and u.idempotency_key = $2", tenant_id, idempotency_key
    )


async def get_for_tenant(conn: asyncpg.Connection, tenant_id: int, purchase_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(_PURCHASES + " where u.tenant_id = $1 and u.id = $2", tenant_id, purchase_id)


async def list_for_tenant(
    conn: asyncpg.Connection, tenant_id: int, *, status: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    where = " where u.tenant_id = $1 and ($2::text is null or u.status = $2)"
    rows = await conn.fetch(
        _PURCHASES + where + " order by u.created_at desc, u.id desc limit $3 offset $4",
        tenant_id,
        status,
        limit,
        offset,
    )
    total = await conn.fetchval("select count(*) from purchases u" + where, tenant_id, status)
    return rows, total


async def expire_lapsed(conn: asyncpg.Connection, tenant_id: int, now: datetime) -> int:
    """Pending intents past their expiry become `expired` (read paths call this first, so what a
    tenant sees is never a pending intent that can no longer be paid)."""
    result = await conn.execute(
        """
        update purchases set status = 'expired', updated_at = now()
        where tenant_id = $1 and status = 'pending' and expires_at <= $2
        """,
        tenant_id,
        now,
    )
    return int(result.split()[-1])


async def pending_to_complete(
    conn: asyncpg.Connection, tenant_id: int, product_id: int, preferred_id: int | None, at: datetime
) -> asyncpg.Record | None:
    """The intent a provider purchase completes, locked: the one the app named (if it is this
    tenant's, for this product, and still payable), else the oldest payable one."""
    return await conn.fetchrow(
        """
        select id from purchases
        where tenant_id = $1 and product_id = $2 and status = 'pending' and expires_at > $4
        order by (id = $3) desc, created_at, id
        limit 1
        for update
        """,
        tenant_id,
        product_id,
        preferred_id,
        at,
    )


async def complete(
    conn: asyncpg.Connection,
    purchase_id: int,
    *,
    transaction_id: str | None,
    at: datetime,
    amount_cents: int,
    currency: str,
) -> None:
    with domain_errors():
        await conn.execute(
            """
            update purchases set status = 'completed', provider_transaction_id = $2, completed_at = $3,
                                 amount_cents = $4, currency = $5, updated_at = now()
            where id = $1 and status = 'pending'
            """,
            purchase_id,
            transaction_id,
            at,
            amount_cents,
            currency,
        )


async def by_transaction(conn: asyncpg.Connection, tenant_id: int, transaction_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "select id, status from purchases where tenant_id = $1 and provider = 'revenuecat'"
        " and provider_transaction_id = $2 for update",
        tenant_id,
        transaction_id,
    )


async def set_status(conn: asyncpg.Connection, purchase_id: int, status: str, from_statuses: list[str]) -> bool:
    row = await conn.fetchval(
        """
        update purchases set status = $2, updated_at = now()
        where id = $1 and status = any($3::text[])
        returning id
        """,
        purchase_id,
        status,
        from_statuses,
    )
    return row is not None


async def fail_pending(conn: asyncpg.Connection, tenant_id: int, product_id: int) -> int | None:
    """The oldest pending intent for this product becomes `failed` (a billing issue on the first
    payment); its id, or None."""
    return await conn.fetchval(
        """
        update purchases set status = 'failed', updated_at = now()
        where id = (select id from purchases where tenant_id = $1 and product_id = $2 and status = 'pending'
                    order by created_at, id limit 1 for update)
        returning id
        """,
        tenant_id,
        product_id,
    )


# -- subscriptions --------------------------------------------------------------------------------

SUBSCRIPTION_COLUMNS = (
    "id, tenant_id, provider, subscription_key, product_id, package_id, fallback_package_id, status, expires_at, "
    "state_at, last_event_id"
)


async def subscription(conn: asyncpg.Connection, provider: str, key: str) -> asyncpg.Record | None:
    """The subscription under its row lock (the caller holds the tenant's ledger locks too)."""
    return await conn.fetchrow(
        f"select {SUBSCRIPTION_COLUMNS} from tenant_subscriptions where provider = $1 and subscription_key = $2"
        " for update",
        provider,
        key,
    )


async def insert_subscription(
    conn: asyncpg.Connection,
    *,
    tenant_id: int,
    provider: str,
    key: str,
    product_id: int,
    package_id: int,
    fallback_package_id: int,
    status: str,
    expires_at: datetime | None,
    state_at: datetime,
    event_id: str,
) -> None:
    with domain_errors():
        await conn.execute(
            """
            insert into tenant_subscriptions (tenant_id, provider, subscription_key, product_id, package_id,
                                              fallback_package_id, status, expires_at, state_at, last_event_id)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """,
            tenant_id,
            provider,
            key,
            product_id,
            package_id,
            fallback_package_id,
            status,
            expires_at,
            state_at,
            event_id,
        )


async def update_subscription(
    conn: asyncpg.Connection,
    sub_id: int,
    *,
    product_id: int,
    package_id: int,
    status: str,
    expires_at: datetime | None,
    state_at: datetime,
    event_id: str,
) -> None:
    """Only ever moves forward in provider time: the guard repeats the caller's check, so no
    older event can overwrite a newer state even if a caller forgot to compare."""
    await conn.execute(
        """
        update tenant_subscriptions
        set product_id = $2, package_id = $3, status = $4, expires_at = $5, state_at = $6, last_event_id = $7,
            updated_at = now()
        where id = $1 and state_at < $6
        """,
        sub_id,
        product_id,
        package_id,
        status,
        expires_at,
        state_at,
        event_id,
    )


async def subscriptions_for_tenant(conn: asyncpg.Connection, tenant_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"select {SUBSCRIPTION_COLUMNS} from tenant_subscriptions where tenant_id = $1 order by id", tenant_id
    )
