"""Builders for the notification tests: an app whose mail goes to a local SMTP inbox, a local
webhook receiver that checks the signature, and waiting for an alert to settle."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiohttp import web

from domain import notifications
from gateway.kernel.keys import jobs_key, pool_key, settings_key
from tests.events.commerce_builders import commerce_settings
from tests.smtp_inbox import mail_settings
from tests.waiting import eventually

LOGS = "/api/v1/tenant/notifications/logs"
SETTINGS = "/api/v1/tenant/notifications/settings"
WAIT_S = 30.0


def notify_settings(settings, inbox, **overrides: Any):
    """Mail to `inbox`, local receivers allowed, quick and few retries."""
    base = commerce_settings(settings, notify_webhook_allow_private=True, notify_max_attempts=3)
    return mail_settings(base, inbox).model_copy(update=overrides)


@dataclass
class Receiver:
    """A tenant's webhook endpoint: answers `fail_first` requests with 500, then 200; records
    every request and whether its signature was right for `secret`."""

    secret: str = ""
    fail_first: int = 0
    always_fail: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get("X-Roost-Signature", "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        expected = hmac.new(self.secret.encode(), f"{parts.get('t')}.".encode() + body, hashlib.sha256).hexdigest()
        self.requests.append(
            {
                "body": body,
                "headers": dict(request.headers),
                "signed": hmac.compare_digest(expected, parts.get("sha256", "")),
                "fresh": abs(int(parts.get("t", "0")) - time.time()) < 300,
            }
        )
        if self.always_fail or len(self.requests) <= self.fail_first:
            return web.Response(status=500, text="not today")
        return web.Response(status=200, text="ok")


async def start_receiver(aiohttp_server, receiver: Receiver) -> Receiver:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app)
    receiver.url = str(server.make_url("/hook"))
    return receiver


async def settle(pool: asyncpg.Pool, notification_id: int, timeout: float = WAIT_S) -> asyncpg.Record:
    """The alert once it is delivered or failed."""

    async def done() -> asyncpg.Record | None:
        row = await pool.fetchrow("select * from tenant_notifications where id = $1", notification_id)
        return row if row is not None and row["status"] in ("delivered", "failed") else None

    return await eventually(done, timeout=timeout, interval=0.05, what=f"notification {notification_id} settled")


async def alerts(pool: asyncpg.Pool, tenant_id: int) -> list[asyncpg.Record]:
    return await pool.fetch("select * from tenant_notifications where tenant_id = $1 order by id", tenant_id)


async def raise_alert(app: web.Application, tenant_id: int, key: str | None = None) -> int:
    """A payment_failed alert made and queued by the domain (as the webhook job would), dispatched."""
    delivery = notifications.Delivery.from_settings(app[settings_key])
    async with app[pool_key].acquire() as conn, conn.transaction():
        job_id = await notifications.create(
            conn,
            tenant_id=tenant_id,
            type_=notifications.NotificationType.PAYMENT_FAILED,
            dedup_key=key or f"payment_failed:test:{time.time_ns()}",
            payload={"product_id": "roost.starter.monthly", "occurred_at": "2026-12-01T10:00:00+00:00", "detail": "x"},
            delivery=delivery,
        )
        nid = await conn.fetchval("select id from tenant_notifications where job_id = $1", job_id)
    assert job_id is not None
    await app[jobs_key].dispatch(job_id)
    return nid
