"""001 webhooks: RevenueCat (POST /webhooks/revenuecat), the media pipeline's status callbacks
(POST /webhooks/media) and deletion callbacks (POST /webhooks/deletion), each with its own secret.

Verified, then stored, then processed (domain/webhooks.py has the rules): the size is checked
first (413), then the X-Signature over the raw bytes (401, nothing stored; 503 when the provider's
secret is not configured), then the body is parsed (400 for one that is not an event). The event
is stored once by the provider's event id with its job, in one transaction; the answer is 200 at
once (a duplicate too, changing nothing) and a Ray task applies it (jobs/webhooks.py).

Not counted against a tenant's budget: which tenant an event concerns is known only once it is
parsed and trusted, and a provider's deliveries must never be dropped by a tenant's own traffic.
A forged flood costs one HMAC per request and stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from domain.errors import PayloadTooLarge, ServiceUnavailable
from domain.webhooks import HEADER, Provider, parse_delivery, store_delivery, verify
from gateway.events.commerce_models import WebhookReceived
from gateway.events.envelope import success
from gateway.kernel.keys import clock_key, jobs_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented

log = logging.getLogger("roost.events.webhooks")

Handler = Callable[[web.Request], Awaitable[web.Response]]

_SIGNATURE_DOC = (
    "`t=<unix seconds>,sha256=<hex>` (HMAC-SHA256 of `<t>.<raw body>`; `t` more than "
    "WEBHOOK_SIGNATURE_TOLERANCE_S from now is refused as a replay), `sha256=<hex>` or a bare 64-digit hex "
    "(HMAC-SHA256 of the raw body), or the older `sha1=<hex>` / bare 40-digit hex (HMAC-SHA1)."
)
_ERRORS = (400, 401, 413, 503)


async def _receive(request: web.Request, provider: Provider, secret: str | None) -> web.Response:
    config = request.config_dict
    settings = config[settings_key]
    if secret is None:
        raise ServiceUnavailable(
            f"Webhooks from {provider.value} are not configured here.",
            code="webhook_not_configured",
            meta={"provider": provider.value},
        )
    if request.content_length is not None and request.content_length > settings.webhook_max_bytes:
        raise PayloadTooLarge(meta={"max_bytes": settings.webhook_max_bytes})
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(meta={"max_bytes": settings.webhook_max_bytes}) from exc
    if len(body) > settings.webhook_max_bytes:
        raise PayloadTooLarge(meta={"max_bytes": settings.webhook_max_bytes})
    verified = verify(
        secret,
        request.headers.get(HEADER),
        body,
        now=datetime.fromtimestamp(config[clock_key].time(), UTC),
        tolerance_s=settings.webhook_signature_tolerance_s,
        allow_sha1=settings.webhook_allow_sha1,
    )
    delivery = parse_delivery(provider, body)
    received = await store_delivery(
        config[pool_key], delivery, verified, accept_sandbox=settings.accepts_sandbox_purchases
    )
    if received.job_id is not None:
        try:
            await config[jobs_key].dispatch(received.job_id)
        except Exception:
            # stored with its job: the runner's sweep starts it if this dispatch did not
            log.exception("webhook job dispatch failed", extra={"job_id": received.job_id})
    return success(WebhookReceived(duplicate=not received.created, id=received.webhook_event_id))


def _doc(summary: str, what: str) -> Callable[[Handler], Handler]:
    return documented(
        summary,
        description=f"{what} Signed with the provider's shared secret in X-Signature: {_SIGNATURE_DOC} "
        "A redelivery of a stored event id answers 200 with `duplicate: true` and changes nothing.",
        response=WebhookReceived,
        errors=_ERRORS,
        headers_in={HEADER: "The signature (see the description)."},
    )


@_doc("RevenueCat webhook", "RevenueCat's `{api_version, event: {id, type, app_user_id, product_id, ...}}`.")
async def revenuecat(request: web.Request) -> web.Response:
    return await _receive(request, Provider.REVENUECAT, request.config_dict[settings_key].webhook_secret_revenuecat)


@_doc(
    "Media pipeline status callback",
    '`{id, type: "media.status", data: {photo_id, status: processing|ready|failed, reason?}}`.',
)
async def media_status(request: web.Request) -> web.Response:
    return await _receive(request, Provider.MEDIA, request.config_dict[settings_key].webhook_secret_media)


@_doc("Deletion callback", '`{id, type: "deletion.completed", data: {photo_id}}`.')
async def deletion(request: web.Request) -> web.Response:
    return await _receive(request, Provider.DELETION, request.config_dict[settings_key].webhook_secret_deletion)
