"""001 tenant notifications: the alerts (created once per dedup key), their delivery state, the
tenant's notification settings, and the scans that find what to alert about and what to queue.

Delivery state is written only by the `notifications.deliver` job (jobs/notifications.py), one
statement per step, outside a transaction: each step is what happened, whatever happens next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from storage.errors import domain_errors

# What the list and the job read: the alert, and its job's next due time while it waits to retry.
_ROW = """
    select n.*, case when n.status = 'pending' and j.status = 'pending' then j.run_after end as next_attempt_at
    from tenant_notifications n left join jobs j on j.id = n.job_id
"""


async def insert_once(
    conn: asyncpg.Connection,
    *,
    tenant_id: int,
    type_: str,
    dedup_key: str,
    payload: dict[str, Any],
    event_id: int | None = None,
) -> int | None:
    """The new alert's id, or None when this tenant has one with this key already. A concurrent
    insert of the same key waits for the other transaction and then does nothing (or inserts, if
    that one rolled back): the unique index decides, so an alert is created once."""
    with domain_errors():
        return await conn.fetchval(
            """
            insert into tenant_notifications (tenant_id, event_id, type, dedup_key, payload)
            values ($1, $2, $3, $4, $5)
            on conflict (tenant_id, dedup_key) do nothing
            returning id
            """,
            tenant_id,
            event_id,
            type_,
            dedup_key,
            payload,
        )


async def set_job(conn: asyncpg.Connection, notification_id: int, job_id: int) -> None:
    await conn.execute(
        "update tenant_notifications set job_id = $2, updated_at = now() where id = $1", notification_id, job_id
    )


async def lock_unqueued(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Alerts no gateway has queued a job for yet (made inside a Ray job, or a gateway died before
    queueing), oldest first; `skip locked` so gateways sweeping at once take different rows."""
    return await conn.fetch(
        """
        select id, tenant_id from tenant_notifications
        where job_id is null and status = 'pending'
        order by id limit $1
        for update skip locked
        """,
        limit,
    )


async def fail_given_up(conn: asyncpg.Connection) -> int:
    """Alerts whose job failed without the handler saying so (its worker died on the last
    attempt, so the runtime gave up): failed, with the job's error. Returns how many."""
    rows = await conn.fetch(
        """
        update tenant_notifications n set status = 'failed', updated_at = now(),
            last_error = left(coalesce(j.error, 'the delivery job failed'), 2000)
        from jobs j
        where j.id = n.job_id and j.status = 'failed' and n.status in ('pending', 'sending')
        returning n.id
        """
    )
    return len(rows)


async def get(conn: asyncpg.Connection, notification_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(_ROW + " where n.id = $1", notification_id)


async def start_attempt(conn: asyncpg.Connection, notification_id: int, attempt: int) -> asyncpg.Record | None:
    """pending|sending -> sending with the attempt's number; None if already delivered or failed."""
    return await conn.fetchrow(
        """
        update tenant_notifications set status = 'sending', attempts = $2, updated_at = now()
        where id = $1 and status in ('pending', 'sending')
        returning *
        """,
        notification_id,
        attempt,
    )


async def set_channel(conn: asyncpg.Connection, notification_id: int, channel: str, state: dict[str, Any]) -> None:
    await conn.execute(
        """
        update tenant_notifications set channels = channels || jsonb_build_object($2::text, $3::jsonb),
            updated_at = now()
        where id = $1
        """,
        notification_id,
        channel,
        state,
    )


async def finish(
    conn: asyncpg.Connection, notification_id: int, *, status: str, last_error: str | None
) -> None:
    """The attempt's outcome: delivered, failed (for good), or pending (a retry follows)."""
    await conn.execute(
        """
        update tenant_notifications set status = $2, last_error = coalesce($3, last_error),
            delivered_at = case when $2 = 'delivered' then now() end, updated_at = now()
        where id = $1
        """,
        notification_id,
        status,
        last_error,
    )


async def list_page(
    conn: asyncpg.Connection, tenant_id: int, *, type_: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """One page of the tenant's alerts, newest first, and the filter's total."""
    where = "n.tenant_id = $1 and ($2::text is null or n.type = $2) and ($3::text is null or n.status = $3)"
    with domain_errors():
        rows = await conn.fetch(
            _ROW + f" where {where} order by n.id desc limit $4 offset $5", tenant_id, type_, status, limit, offset
        )
        total = await conn.fetchval(
            f"select count(*) from tenant_notifications n where {where}", tenant_id, type_, status
        )
    return rows, total


async def event_for_alert(conn: asyncpg.Connection, event_id: int) -> asyncpg.Record | None:
    with domain_errors():
        return await conn.fetchrow("select id, tenant_id, name from events where id = $1", event_id)


async def tenant_exists(conn: asyncpg.Connection, tenant_id: int) -> bool:
    with domain_errors():
        return bool(await conn.fetchval("select exists (select 1 from tenants where id = $1)", tenant_id))


# -- where alerts go ------------------------------------------------------------------------------


async def settings(conn: asyncpg.Connection, tenant_id: int) -> asyncpg.Record:
    """The tenant's settings with the address mail goes to when none is set (the owner's, else the
    first admin's). Every column null when the tenant has no settings row."""
    with domain_errors():
        return await conn.fetchrow(
            """
            select s.email, s.webhook_url, s.webhook_secret, s.secret_rotated_at, s.updated_at,
                (select u.email from tenant_users tu join users u on u.id = tu.user_id
                 where tu.tenant_id = $1 order by (tu.role = 'owner') desc, tu.created_at, tu.user_id
                 limit 1) as default_email
            from (select $1::bigint as tenant_id) t
            left join tenant_notification_settings s on s.tenant_id = t.tenant_id
            """,
            tenant_id,
        )


async def save_settings(
    conn: asyncpg.Connection, tenant_id: int, *, email: str | None, webhook_url: str | None, new_secret: str | None
) -> None:
    """Set email and webhook_url; `new_secret` (when given) replaces the secret."""
    with domain_errors():
        await conn.execute(
            """
            insert into tenant_notification_settings as s
                (tenant_id, email, webhook_url, webhook_secret, secret_rotated_at)
            values ($1, $2, $3, $4, case when $4::text is not null then now() end)
            on conflict (tenant_id) do update set
                email = excluded.email, webhook_url = excluded.webhook_url,
                webhook_secret = coalesce(excluded.webhook_secret, s.webhook_secret),
                secret_rotated_at = coalesce(excluded.secret_rotated_at, s.secret_rotated_at),
                updated_at = now()
            """,
            tenant_id,
            email,
            webhook_url,
            new_secret,
        )


async def rotate_secret(conn: asyncpg.Connection, tenant_id: int, secret: str) -> None:
    with domain_errors():
        await conn.execute(
            """
            insert into tenant_notification_settings (tenant_id, webhook_secret, secret_rotated_at)
            values ($1, $2, now())
            on conflict (tenant_id) do update set webhook_secret = excluded.webhook_secret,
                secret_rotated_at = excluded.secret_rotated_at, updated_at = now()
            """,
            tenant_id,
            secret,
        )


async def lock_settings(conn: asyncpg.Connection, tenant_id: int) -> None:
    """Serialise a tenant's settings writes (the first PUT makes the secret exactly once)."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended('tenant_notification_settings', $1))", tenant_id)


# -- what is about to expire ------------------------------------------------------------------------


async def expiring_subscriptions(conn: asyncpg.Connection, now: datetime, until: datetime) -> list[asyncpg.Record]:
    """Subscriptions that end between `now` and `until` and will not renew by themselves
    (cancelled, or stuck on a billing issue), with the package they hold."""
    return await conn.fetch(
        """
        select s.id, s.tenant_id, s.status, s.expires_at, p.slug as package_slug, c.provider_product_id
        from tenant_subscriptions s
        join packages p on p.id = s.package_id
        join commerce_products c on c.id = s.product_id
        where s.status in ('cancelled', 'billing_issue') and s.expires_at > $1 and s.expires_at <= $2
        order by s.expires_at
        """,
        now,
        until,
    )
