"""Where a tenant's alerts go: the mail address (default: the owner's) and the webhook URL with its
signing secret. The secret is made when a webhook URL is first set (or on rotation) and answered
that once; reads only say whether one exists."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from domain.errors import Invalid, NotFound
from domain.notification_webhooks import RefusedUrl, UrlPolicy, check_url, new_secret
from storage import notifications as store


@dataclass(frozen=True, slots=True)
class SettingsAnswer:
    row: asyncpg.Record
    # the secret made by this call, answered once; None when none was made
    new_secret: str | None = None


async def read(pool: asyncpg.Pool, tenant_id: int) -> SettingsAnswer:
    async with pool.acquire() as conn:
        return SettingsAnswer(await store.settings(conn, tenant_id))


async def update(
    pool: asyncpg.Pool, tenant_id: int, *, email: str | None, webhook_url: str | None, policy: UrlPolicy
) -> SettingsAnswer:
    if webhook_url is not None:
        try:
            check_url(webhook_url, policy)
        except RefusedUrl as exc:
            raise Invalid(fields={"webhook_url": [str(exc)]}) from None
    async with pool.acquire() as conn, conn.transaction():
        await store.lock_settings(conn, tenant_id)
        current = await store.settings(conn, tenant_id)
        # a webhook without a secret could not be signed: the first URL brings one
        secret = new_secret() if webhook_url is not None and current["webhook_secret"] is None else None
        await store.save_settings(conn, tenant_id, email=email, webhook_url=webhook_url, new_secret=secret)
        return SettingsAnswer(await store.settings(conn, tenant_id), secret)


async def rotate(pool: asyncpg.Pool, tenant_id: int) -> SettingsAnswer:
    """A new secret in place of the old one, which stops signing at once (the next delivery, and
    a retry of an earlier one, is signed with the new one)."""
    secret = new_secret()
    async with pool.acquire() as conn, conn.transaction():
        await store.lock_settings(conn, tenant_id)
        await store.rotate_secret(conn, tenant_id, secret)
        return SettingsAnswer(await store.settings(conn, tenant_id), secret)


async def log_page(
    pool: asyncpg.Pool,
    tenant_id: int,
    *,
    type_: str | None,
    status: str | None,
    limit: int,
    offset: int,
    must_exist: bool = False,
) -> tuple[list[asyncpg.Record], int]:
    """One page of the tenant's alerts, newest first. `must_exist`: a tenant id from the path (a
    super admin's read), 404 when there is no such tenant rather than an empty page."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        if must_exist and not await store.tenant_exists(conn, tenant_id):
            raise NotFound()
        return await store.list_page(conn, tenant_id, type_=type_, status=status, limit=limit, offset=offset)
