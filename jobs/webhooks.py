"""`webhooks.process`: apply one stored, verified webhook delivery (domain/webhooks.py stored it).

Payload: `{webhook_event_id, accept_sandbox}`; the event itself is read from its row, so the jobs
table holds no provider data twice and nothing secret.

Exactly once. The whole effect (purchases, subscription, ledger entry) and the row's `processed`
mark are one transaction, taken behind the webhook row's lock: a worker killed anywhere in it
leaves nothing, and the re-run (Ray's retry of the task, or the sweeper's) applies it in full. A
re-run after the commit finds the row processed and does nothing; the ledger's unique `source`
(`revenuecat:<event id>`) is the second lock on the same door. An event that cannot be applied as
sent (no tenant, unknown product) is marked ignored with the reason, not retried; an
infrastructure error is retried with backoff, and the last attempt marks the row failed so an
operator sees it (the provider's own retries then meet the stored row and change nothing).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from domain import purchases
from domain.webhooks import EventStatus, Provider, apply_deletion, apply_media_status
from jobs.registry import JobContext, PermanentJobError, job
from storage import webhook_events as events_sql

log = logging.getLogger(__name__)

KIND = "webhooks.process"


def _check(payload: Any) -> tuple[int, bool]:
    try:
        return int(payload["webhook_event_id"]), bool(payload.get("accept_sandbox", True))
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentJobError(f"bad webhooks.process payload: {exc!r}") from None


@job(KIND)
async def process(payload: Any, ctx: JobContext) -> dict[str, Any]:
    row_id, accept_sandbox = _check(payload)
    # which worker process holds which job's locks, for whoever reads pg_stat_activity
    await ctx.conn.execute(
        "select set_config('application_name', $1, false)", f"roost job {ctx.job_id} pid {os.getpid()}"
    )
    try:
        return await _process(ctx, row_id, accept_sandbox)
    except Exception as exc:
        if ctx.last_attempt and not isinstance(exc, PermanentJobError):
            try:
                await events_sql.finish(
                    ctx.conn, row_id, status=EventStatus.FAILED, outcome=f"{type(exc).__name__}: {exc}", tenant_id=None
                )
            except Exception:
                log.exception("could not mark the webhook event failed", extra={"webhook_event_id": row_id})
        raise


async def _process(ctx: JobContext, row_id: int, accept_sandbox: bool) -> dict[str, Any]:
    conn = ctx.conn
    async with conn.transaction():
        row = await events_sql.lock(conn, row_id)
        if row is None:
            return {"webhook_event_id": row_id, "outcome": "gone"}
        if row["status"] != EventStatus.RECEIVED:
            return {"webhook_event_id": row_id, "outcome": f"already {row['status']}"}
        provider = Provider(row["provider"])
        try:
            async with conn.transaction():  # a savepoint: an unusable event leaves no half-effect
                status, outcome, tenant_id = await _apply(conn, provider, row["payload"], accept_sandbox)
        except purchases.UnusableEvent as exc:
            status, outcome, tenant_id = EventStatus.IGNORED, str(exc), None
        await events_sql.finish(conn, row_id, status=status, outcome=outcome, tenant_id=tenant_id)
    return {"webhook_event_id": row_id, "status": str(status), "outcome": outcome}


async def _apply(
    conn: Any, provider: Provider, payload: dict[str, Any], accept_sandbox: bool
) -> tuple[EventStatus, str, int | None]:
    if provider is Provider.REVENUECAT:
        applied = await purchases.apply_revenuecat(conn, payload, accept_sandbox=accept_sandbox)
        return EventStatus(applied.status), applied.outcome, applied.tenant_id
    result = await (apply_media_status if provider is Provider.MEDIA else apply_deletion)(conn, payload)
    return result.status, result.outcome, result.tenant_id
