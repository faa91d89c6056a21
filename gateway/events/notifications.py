"""001 tenant notifications: the alert log and where alerts go.

- GET /tenant/notifications/logs?type=&status=&page=&per_page= (tenant:read): the tenant's
  alerts, newest first, with their delivery (per channel) and retry context.
- GET /tenant/notifications/settings (tenant:read), PUT (settings:write) {email, webhook_url}:
  the first webhook URL makes the signing secret, answered that once.
- POST /tenant/notifications/settings/secret (settings:write): a new secret, answered once.
- GET /tenants/{tenant}/notifications/logs: the same log of any tenant, for super admins (as
  they read /tenants/{tenant}/ledger).

The alerts themselves are made by the domain where they happen (domain/notifications.py) and
delivered by the `notifications.deliver` job; `notifications_ctx` is each gateway's loop that
scans for expiring packages and queues alerts that were made inside Ray jobs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from domain import notification_settings as settings_rules
from domain import notifications as rules
from domain.clock import utc_now
from domain.notification_webhooks import UrlPolicy
from domain.periodic import Periodic
from domain.tenant_abilities import SETTINGS_WRITE
from domain.tenant_abilities import TENANT_READ as TENANT_READ_ABILITY
from gateway.events.common_schemas import Item, Page, dump_all
from gateway.events.envelope import success
from gateway.events.guards import require_super_admin, require_tenant
from gateway.events.notification_models import (
    NotificationLogQuery,
    NotificationPublic,
    NotificationSettingsPublic,
    NotificationSettingsUpdate,
    WebhookSecretPublic,
)
from gateway.events.openapi import RATE_LIMITED, TENANT_READ, TENANT_WRITE
from gateway.events.pagination import page_body, page_of
from gateway.kernel.keys import clock_key, jobs_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse, path_id, query_choice

log = logging.getLogger(__name__)

# every tenant route: a token without the ability, an account that administers no tenant (403);
# past the tenant's per-minute budget (429)
_TENANT_ERRORS = (403, 429)




@documented(
    "List the tenant's notifications",
    description="Package and limit alerts (photo_limit_80, photo_limit_100, package_expiring, payment_failed), "
    "newest first, with each channel's outcome and the retry context (attempts, last_error, next_attempt_at).",
    response=Page[NotificationPublic],
    query=NotificationLogQuery,
    auth=TENANT_READ,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def notification_logs(request: web.Request) -> web.Response:
    """GET /tenant/notifications/logs?type=&status=&page=&per_page=."""
    caller = await require_tenant(request, TENANT_READ_ABILITY)
    return await _logs(request, caller.tenant_id, must_exist=False)


@documented(
    "List a tenant's notifications (super admins)",
    response=Page[NotificationPublic],
    query=NotificationLogQuery,
    auth=TENANT_READ,
    errors=(403, 404),
    path_params={"tenant": "The tenant's id."},
)
async def admin_notification_logs(request: web.Request) -> web.Response:
    """GET /tenants/{tenant}/notifications/logs: as /tenant/notifications/logs, for any tenant."""
    require_super_admin(request)
    return await _logs(request, path_id(request, "tenant"), must_exist=True)


async def _logs(request: web.Request, tenant_id: int, *, must_exist: bool) -> web.Response:
    page = page_of(request)
    type_ = query_choice(request, "type", rules.TYPES)
    status = query_choice(request, "status", rules.STATUSES)
    rows, total = await settings_rules.log_page(
        request.config_dict[pool_key],
        tenant_id,
        type_=type_,
        status=status,
        limit=page.per_page,
        offset=page.offset,
        must_exist=must_exist,
    )
    items = dump_all(NotificationPublic.from_row(r) for r in rows)
    return success(page_body(request, request.config_dict[settings_key].app_url, page, items, total))


def _policy(request: web.Request) -> UrlPolicy:
    return rules.Delivery.from_settings(request.config_dict[settings_key]).url_policy


@documented(
    "Show where the tenant's notifications go",
    response=Item[NotificationSettingsPublic],
    auth=TENANT_READ,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def show_settings(request: web.Request) -> web.Response:
    """GET /tenant/notifications/settings."""
    caller = await require_tenant(request, TENANT_READ_ABILITY)
    answer = await settings_rules.read(request.config_dict[pool_key], caller.tenant_id)
    return success(Item(data=NotificationSettingsPublic.from_row(answer.row)))


@documented(
    "Set where the tenant's notifications go",
    description="The first webhook URL makes the signing secret, answered in `webhook_secret` this once.",
    response=Item[NotificationSettingsPublic],
    body=NotificationSettingsUpdate,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 400),
    headers_out=RATE_LIMITED,
)
async def update_settings(request: web.Request) -> web.Response:
    """PUT /tenant/notifications/settings {email, webhook_url} (settings:write)."""
    caller = await require_tenant(request, SETTINGS_WRITE)
    body = await parse(request, NotificationSettingsUpdate)
    answer = await settings_rules.update(
        request.config_dict[pool_key],
        caller.tenant_id,
        email=body.email,
        webhook_url=body.webhook_url,
        policy=_policy(request),
    )
    return success(Item(data=NotificationSettingsPublic.from_row(answer.row, secret=answer.new_secret)))


@documented(
    "Rotate the notification webhook's signing secret",
    description="The old secret stops signing at once; the new one is answered this once.",
    response=Item[WebhookSecretPublic],
    auth=TENANT_WRITE,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def rotate_secret(request: web.Request) -> web.Response:
    """POST /tenant/notifications/settings/secret (settings:write)."""
    caller = await require_tenant(request, SETTINGS_WRITE)
    answer = await settings_rules.rotate(request.config_dict[pool_key], caller.tenant_id)
    assert answer.new_secret is not None
    secret = WebhookSecretPublic(webhook_secret=answer.new_secret, secret_rotated_at=answer.row["secret_rotated_at"])
    return success(Item(data=secret))


# -- each gateway's loop ----------------------------------------------------------------------------


async def run_notifications_once(app: web.Application) -> int:
    """Alerts for packages about to expire, then a job for every alert without one, each job
    dispatched; and alerts whose job was given up marked failed. Returns how many jobs were
    dispatched (tests call this instead of waiting)."""
    settings, jobs = app[settings_key], app[jobs_key]
    delivery = rules.Delivery.from_settings(settings)
    pool = app[pool_key]
    queued = await rules.scan_expiring(
        pool, now=utc_now(app[clock_key]), days=settings.notify_package_expiry_days, delivery=delivery
    )
    queued += await rules.queue_unqueued(pool, delivery)
    await rules.settle_given_up(pool)
    for job_id in queued:
        try:
            await jobs.dispatch(job_id)
        except Exception:
            # committed; the job runner's sweep starts it
            log.exception("notification job dispatch failed", extra={"job_id": job_id})
    return len(queued)


async def notifications_ctx(app: web.Application) -> AsyncIterator[None]:
    """Needs postgres_ctx and jobs_ctx before it."""

    async def run() -> None:
        dispatched = await run_notifications_once(app)
        if dispatched:
            log.info("notifications queued", extra={"count": dispatched})

    # a failed run (a database blip) is logged and the next interval retries: see domain/periodic.py
    loop = Periodic("tenant-notifications", run, app[settings_key].notify_scan_interval_s, clock=app[clock_key])
    loop.start()
    yield
    await loop.stop()
