"""Upload rate limits for 001: per guest device, per client address and event, and per tenant,
per minute, shared by every gateway through Redis (gateway/kernel/throttle.py).

What is counted is the start of an upload (asking for an upload URL): every photo needs one, it is
what writes a row and invites a PUT of up to 15 MB, and counting only there keeps a guest's budget
equal to the number of photos it may start. Per tenant as well as per device, so many devices
cannot flood one tenant's storage.

The device id is the guest's own choice (`X-Device-Id`), so a guest who changes it on every
request has no per-device limit at all. Guest uploads are therefore also counted per client
address and event (the address as trusted proxies report it, gateway/kernel/client_address.py). That
budget is several devices' worth (EVENT_UPLOADS_PER_IP_PER_MINUTE, 240 by default, twelve times
the per-device 20) because a venue's Wi-Fi puts its guests behind one NAT address and they upload
in bursts after the same moment; it still holds one guest rotating ids to a fifth of the tenant's
default budget, and keyed per event, a busy venue cannot spend another event's share.

Throttles sends both `X-RateLimit-*` and the document's `x-rate-limit-*` on 001's answers, the
429 and allowed ones alike.
"""

from __future__ import annotations

from aiohttp import web

from domain.errors import RateLimited
from gateway.kernel.client_address import client_ip
from gateway.kernel.keys import settings_key, throttles_key
from gateway.kernel.throttle import Limit, Verdict, verdict_key

WINDOW_S = 60


async def enforce_upload_limits(
    request: web.Request, tenant_id: int, device: str | None, *, event_id: int | None = None
) -> None:
    """Count one upload start against the device (when there is one), the client address on the
    event (guests: when `event_id` is given) and the tenant; 429 with both header spellings and
    meta {scope, limit, retry_after} when any is spent (scope `device`, `ip` or `tenant`)."""
    settings = request.config_dict[settings_key]
    throttles = request.config_dict[throttles_key]
    per_device = Limit("event-upload-device", settings.event_uploads_per_device_per_minute, WINDOW_S)
    per_ip = Limit("event-upload-ip", settings.event_uploads_per_ip_per_minute, WINDOW_S)
    per_tenant = Limit("event-upload-tenant", settings.event_uploads_per_tenant_per_minute, WINDOW_S)
    checks: list[tuple[str, Limit, str]] = [("device", per_device, device)] if device is not None else []
    if event_id is not None:
        checks.append(("ip", per_ip, f"{event_id}:{client_ip(request)}"))
    checks.append(("tenant", per_tenant, str(tenant_id)))
    verdicts: list[Verdict] = []
    for scope, limit, key in checks:
        try:
            verdicts.append(await throttles.enforce(request, limit, key))
        except RateLimited as err:
            err.meta["scope"] = scope
            raise
    # the headers show the tightest of the budgets
    request[verdict_key] = min(verdicts, key=lambda v: v.remaining)
