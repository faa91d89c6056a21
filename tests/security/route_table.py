"""What the security tests fuzz: every (method, pattern) in the running app's route tables, and an
app with every optional provider configured so that a 5xx can only come from input."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.oauth_fakes import settings_for

# /readyz answers 503 by design when a dependency is slow; /metrics is not an input surface.
NOT_FUZZED = frozenset({"/readyz", "/metrics"})


def route_table(app: web.Application) -> list[tuple[str, str]]:
    """Every route of `app` and its sub-apps as (method, canonical pattern), HEAD and * aside."""
    found: set[tuple[str, str]] = set()

    def walk(sub: web.Application) -> None:
        for resource in sub.router.resources():
            info = resource.get_info()
            if "app" in info:
                walk(info["app"])
                continue
            for route in resource:
                if route.method not in ("HEAD", "*") and resource.canonical not in NOT_FUZZED:
                    found.add((route.method, resource.canonical))

    walk(app)
    return sorted(found)


def fuzz_settings(settings: Any, *fakes: Any) -> Any:
    """Every optional provider configured (OAuth at the local fakes), and limits far above the
    load, so a 429 never stops a hostile value before the handler."""
    return settings_for(
        settings, *fakes,
        gpt_connector_url="http://127.0.0.1:9/connector", gpt_connector_api_key=secrets.token_hex(16),
        gpt_connector_hmac_secret=secrets.token_hex(16),
        api_throttles_enabled=False, api_quota_enabled=False,
        event_tenant_api_per_minute=10**6, event_uploads_per_device_per_minute=10**6,
        event_uploads_per_tenant_per_minute=10**6,
        # 003's maps/pin answers 500 without a key (the document's misconfiguration answer) and 001's
        # webhooks 503 without their secrets: configured, so a hostile value reaches their checks
        google_maps_api_key="fuzz-maps-key", throttle_contact_per_hour=10**6,
        **{f"webhook_secret_{p}": f"fuzz-{p}-secret-0123456789abcdef" for p in ("revenuecat", "media", "deletion")},
    )
