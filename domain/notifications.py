"""001 tenant notifications: package and limit alerts, created by the domain where they happen and
delivered by the `notifications.deliver` job (jobs/notifications.py).

Types:
- `photo_limit_80`, `photo_limit_100`: an event's photos reached 80 % / 100 % of its package's
  photo limit. Created in the transaction that takes the slot crossing the threshold
  (`photo_slot_taken`), so a rolled-back upload leaves no alert, and once per event and threshold
  (dedup key `photo_limit_<n>:event:<id>`: a slot freed by a failed photo and taken again, or two
  uploads racing over the line, meet the unique index).
- `package_expiring`: a subscription that will not renew by itself (cancelled, or stuck on a
  billing issue) ends within NOTIFY_PACKAGE_EXPIRY_DAYS; found by every gateway's periodic scan
  (`scan_expiring`, on the app's clock), once per subscription and expiry time.
- `payment_failed`: a RevenueCat BILLING_ISSUE (which also fails a first payment's intent),
  created in the webhook job's transaction (domain/purchases.py), once per provider event.

Queueing. An alert made in a gateway request gets its delivery job in the same transaction (the
caller dispatches it after the commit; the job runner's sweep starts it otherwise). An alert made
inside a Ray job (the webhook job has no mail settings to give it) waits for the next periodic
run of `queue_unqueued`, at most NOTIFY_SCAN_INTERVAL_S later.

Status: pending (queued, or waiting to retry) -> sending (an attempt runs) -> delivered | failed
(NOTIFY_MAX_ATTEMPTS used up, or a refusal no retry can change, such as an SSRF-refused URL).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import asyncpg

from domain.mailer import MailTransport
from domain.notification_webhooks import UrlPolicy
from storage import jobs as jobs_sql
from storage import notifications as store
from storage.errors import domain_errors

if TYPE_CHECKING:
    from domain.settings import Settings

JOB_KIND = "notifications.deliver"
# one statement's worth of alerts per queueing round; the next round takes the rest
QUEUE_BATCH = 200


class NotificationType(StrEnum):
    PHOTO_LIMIT_80 = "photo_limit_80"
    PHOTO_LIMIT_100 = "photo_limit_100"
    PACKAGE_EXPIRING = "package_expiring"
    PAYMENT_FAILED = "payment_failed"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


TYPES = tuple(t.value for t in NotificationType)
STATUSES = tuple(s.value for s in NotificationStatus)
PHOTO_THRESHOLDS = ((80, NotificationType.PHOTO_LIMIT_80), (100, NotificationType.PHOTO_LIMIT_100))


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a delivery job needs from the gateway's settings; it travels in the job's payload (no
    secrets: the SMTP password stays in the worker's environment, the webhook secret in its row)."""

    transport: MailTransport
    allow_private: bool
    allow_http: bool
    timeout_s: float
    max_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Delivery:
        return cls(
            transport=MailTransport.from_settings(settings),
            allow_private=settings.notify_webhook_allow_private,
            allow_http=settings.notify_webhook_allow_private or settings.app_env == "development",
            timeout_s=settings.notify_webhook_timeout_s,
            max_attempts=settings.notify_max_attempts,
        )

    @property
    def url_policy(self) -> UrlPolicy:
        return UrlPolicy(allow_private=self.allow_private, allow_http=self.allow_http)

    def payload(self, notification_id: int) -> dict[str, Any]:
        return {
            "notification_id": notification_id,
            "transport": asdict(self.transport),
            "webhook": {
                "allow_private": self.allow_private,
                "allow_http": self.allow_http,
                "timeout_s": self.timeout_s,
            },
        }


def threshold_count(limit: int, percent: int) -> int:
    """The photo count at which `percent` of `limit` is reached (80 % of 50 is the 40th photo; of
    7, the 6th: rounded up, so the alert never comes before the share is really reached)."""
    return max(1, math.ceil(limit * percent / 100))


def crossed_thresholds(count: int, limit: int) -> list[tuple[int, NotificationType]]:
    """The thresholds the slot that made `count` crossed (count - 1 was below, count is not)."""
    if limit <= 0:
        return []
    return [(p, t) for p, t in PHOTO_THRESHOLDS if count - 1 < threshold_count(limit, p) <= count]


async def create(
    conn: asyncpg.Connection,
    *,
    tenant_id: int,
    type_: NotificationType,
    dedup_key: str,
    payload: dict[str, Any],
    event_id: int | None = None,
    delivery: Delivery | None = None,
) -> int | None:
    """Make the alert once (inside the caller's transaction); with `delivery`, queue its job in the
    same transaction and answer the job's id for the caller to dispatch after its commit."""
    notification_id = await store.insert_once(
        conn, tenant_id=tenant_id, type_=type_.value, dedup_key=dedup_key, payload=payload, event_id=event_id
    )
    if notification_id is None or delivery is None:
        return None
    return await _queue(conn, notification_id, delivery)


async def _queue(conn: asyncpg.Connection, notification_id: int, delivery: Delivery) -> int:
    with domain_errors():
        job_id, _ = await jobs_sql.insert(
            conn,
            JOB_KIND,
            delivery.payload(notification_id),
            max_attempts=delivery.max_attempts,
            idempotency_key=f"notification:{notification_id}",
        )
    await store.set_job(conn, notification_id, job_id)
    return job_id


async def photo_slot_taken(
    conn: asyncpg.Connection, event: asyncpg.Record, count: int, limit: int, delivery: Delivery | None
) -> list[int]:
    """After `storage.photos.reserve_slot` answered `count`: the alerts of the thresholds it
    crossed; the delivery jobs' ids to dispatch after the commit."""
    jobs: list[int] = []
    for percent, type_ in crossed_thresholds(count, limit):
        job_id = await create(
            conn,
            tenant_id=event["tenant_id"],
            type_=type_,
            dedup_key=f"{type_.value}:event:{event['id']}",
            payload={
                "event_id": event["id"],
                "event_name": event["name"],
                "percent": percent,
                "photo_count": count,
                "photo_limit": limit,
            },
            event_id=event["id"],
            delivery=delivery,
        )
        if job_id is not None:
            jobs.append(job_id)
    return jobs


async def photo_slot_retaken(conn: asyncpg.Connection, event_id: int, count: int, limit: int) -> None:
    """A slot taken by moderation (a rejected photo approved again): the same alerts, queued by
    the gateways' loop (moderation has no mail settings to give a job)."""
    if not crossed_thresholds(count, limit):
        return
    event = await store.event_for_alert(conn, event_id)
    if event is not None:
        await photo_slot_taken(conn, event, count, limit, None)


async def payment_failed(
    conn: asyncpg.Connection, *, tenant_id: int, source: str, product_id: str, at: datetime, detail: str
) -> None:
    """A failed payment (a RevenueCat BILLING_ISSUE), once per provider event (`source`)."""
    await create(
        conn,
        tenant_id=tenant_id,
        type_=NotificationType.PAYMENT_FAILED,
        dedup_key=f"payment_failed:{source}",
        payload={"product_id": product_id, "occurred_at": at.isoformat(), "detail": detail},
    )


async def scan_expiring(pool: asyncpg.Pool, *, now: datetime, days: int, delivery: Delivery) -> list[int]:
    """Alerts for subscriptions ending within `days` of `now`; the new delivery jobs' ids."""
    jobs: list[int] = []
    async with pool.acquire() as conn:
        subscriptions = await store.expiring_subscriptions(conn, now, now + timedelta(days=days))
        for sub in subscriptions:
            expires: datetime = sub["expires_at"]
            async with conn.transaction():
                job_id = await create(
                    conn,
                    tenant_id=sub["tenant_id"],
                    type_=NotificationType.PACKAGE_EXPIRING,
                    # a renewal that moves the expiry makes the next expiry an alert of its own
                    dedup_key=f"package_expiring:subscription:{sub['id']}:{int(expires.timestamp())}",
                    payload={
                        "package": sub["package_slug"],
                        "product_id": sub["provider_product_id"],
                        "subscription_status": sub["status"],
                        "expires_at": expires.isoformat(),
                        "days_left": max(0, (expires - now).days),
                    },
                    delivery=delivery,
                )
            if job_id is not None:
                jobs.append(job_id)
    return jobs


async def queue_unqueued(pool: asyncpg.Pool, delivery: Delivery) -> list[int]:
    """Queue a job for every alert that has none (made inside a Ray job, or its gateway died
    between the commit and the queueing); the jobs' ids to dispatch."""
    jobs: list[int] = []
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await store.lock_unqueued(conn, QUEUE_BATCH)
            for row in rows:
                jobs.append(await _queue(conn, row["id"], delivery))
        if len(rows) < QUEUE_BATCH:
            return jobs


async def settle_given_up(pool: asyncpg.Pool) -> int:
    """Mark failed the alerts whose job the runtime gave up on (a worker that died on the last
    attempt never wrote the alert's outcome); else they would say `sending` for ever."""
    async with pool.acquire() as conn:
        return await store.fail_given_up(conn)


def describe(type_: str, payload: dict[str, Any]) -> tuple[str, str]:
    """(subject, text) of the alert's mail; the webhook carries the payload itself."""
    if type_ in (NotificationType.PHOTO_LIMIT_80, NotificationType.PHOTO_LIMIT_100):
        name = payload.get("event_name", "")
        used, limit, percent = payload.get("photo_count"), payload.get("photo_limit"), payload.get("percent")
        if type_ == NotificationType.PHOTO_LIMIT_100:
            return (
                f"{name}: photo limit reached",
                f"Your event {name!r} has reached its photo limit ({used} of {limit} photos). "
                "Guests cannot add more photos until you upgrade your package.",
            )
        return (
            f"{name}: {percent} % of the photo limit used",
            f"Your event {name!r} has used {used} of its {limit} photos ({percent} %).",
        )
    if type_ == NotificationType.PACKAGE_EXPIRING:
        return (
            f"Your {payload.get('package')} package expires soon",
            f"Your {payload.get('package')} package expires at {payload.get('expires_at')} "
            f"({payload.get('days_left')} days left) and will not renew by itself.",
        )
    return (
        "A payment failed",
        f"The store reported a billing issue with {payload.get('product_id')} at {payload.get('occurred_at')}. "
        "Please check the payment method in your store account.",
    )
