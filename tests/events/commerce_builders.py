"""Builders for 001's commerce tests: an app with webhook secrets, delivering signed events, and
the ledger invariants every scenario ends by checking."""

from __future__ import annotations

from typing import Any

import asyncpg

from domain.settings import Settings
from tests.revenuecat_fakes import TEST_SECRETS, body_of, signed_headers
from tests.waiting import eventually

RC_PATH = "/api/v1/webhooks/revenuecat"


def commerce_settings(settings: Settings, **overrides: Any) -> Settings:
    update = {
        "webhook_secret_revenuecat": TEST_SECRETS["revenuecat"],
        "webhook_secret_media": TEST_SECRETS["media"],
        "webhook_secret_deletion": TEST_SECRETS["deletion"],
        # the tenant budget is not what these tests are about
        "event_tenant_api_per_minute": 100_000,
    }
    return settings.model_copy(update=update | overrides)


async def deliver(client, document: dict[str, Any], *, path: str = RC_PATH, provider: str = "revenuecat", **sign_kw):
    body = body_of(document)
    return await client.post(path, data=body, headers=signed_headers(body, provider, **sign_kw))


async def processed(pool: asyncpg.Pool, provider: str, event_id: str, timeout: float = 30.0) -> asyncpg.Record:
    """The stored event once its job has finished with it."""

    async def done() -> asyncpg.Record | None:
        row = await pool.fetchrow(
            "select * from webhook_events where provider = $1 and event_id = $2", provider, event_id
        )
        return row if row is not None and row["status"] != "received" else None

    return await eventually(done, timeout=timeout, interval=0.05, what=f"{provider} event {event_id} processed")


async def assert_ledger_consistent(pool: asyncpg.Pool, tenant_id: int) -> int:
    """The balance equals the sum of the entries, each balance_after runs on from the one before,
    and the tenant's package is the last entry's; returns the balance."""
    entries = await pool.fetch("select * from ledger_entries where tenant_id = $1 order by id", tenant_id)
    running = 0
    for entry in entries:
        running += entry["credits"]
        assert entry["balance_after"] == running, dict(entry)
    account = await pool.fetchrow("select * from tenant_accounts where tenant_id = $1", tenant_id)
    assert (account["credits"] if account else 0) == running
    if entries:
        assert account["last_entry_id"] == entries[-1]["id"]
        package = await pool.fetchval("select package_id from tenants where id = $1", tenant_id)
        assert package == entries[-1]["package_id"]
    return running
