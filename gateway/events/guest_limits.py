"""Upload rate limits for 001: per guest device and per tenant, per minute, shared by every gateway
through Redis (gateway/throttle.py).

What is counted is the start of an upload (asking for an upload URL): every photo needs one, it is
what writes a row and invites a PUT of up to 15 MB, and counting only there keeps a guest's budget
equal to the number of photos it may start. Per tenant as well as per device, so many devices (or
one device changing its id) cannot flood one tenant's storage.

Throttles sends both `X-RateLimit-*` and the document's `x-rate-limit-*` on 001's answers, the
429 and allowed ones alike.
"""

from __future__ import annotations

from aiohttp import web

from domain.errors import RateLimited
from gateway.keys import settings_key, throttles_key
from gateway.throttle import Limit, Verdict, verdict_key

WINDOW_S = 60


async def enforce_upload_limits(request: web.Request, tenant_id: int, device: str | None) -> None:
    """Count one upload start against the device (when there is one) and the tenant; 429 with
    both header spellings and meta {scope, limit, retry_after} when either is spent."""
    settings = request.config_dict[settings_key]
    throttles = request.config_dict[throttles_key]
    per_device = Limit("event-upload-device", settings.event_uploads_per_device_per_minute, WINDOW_S)
    per_tenant = Limit("event-upload-tenant", settings.event_uploads_per_tenant_per_minute, WINDOW_S)
    checks: list[tuple[str, Limit, str]] = [("device", per_device, device)] if device is not None else []
    checks.append(("tenant", per_tenant, str(tenant_id)))
    verdicts: list[Verdict] = []
    for scope, limit, key in checks:
        try:
            verdicts.append(await throttles.enforce(request, limit, key))
        except RateLimited as err:
            err.meta["scope"] = scope
            raise
    # the headers show the tighter of the two budgets
    request[verdict_key] = min(verdicts, key=lambda v: v.remaining)
