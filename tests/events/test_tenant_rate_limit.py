"""001: tenant apps are rate-limited per tenant (all its admins and tokens share one budget)."""

from __future__ import annotations

from tests.builders import bearer
from tests.event_builders import assert_error, make_tenant, make_tenant_admin

EVENTS = "/api/v1/tenant/events"


async def test_tenant_routes_share_one_budget_per_tenant(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    client = await aiohttp_client(create_app(settings.model_copy(update={"event_tenant_api_per_minute": 3})))
    tenant, other = await make_tenant(client.app), await make_tenant(client.app)
    _, first = await make_tenant_admin(client.app, tenant["id"])
    _, second = await make_tenant_admin(client.app, tenant["id"])
    _, outsider = await make_tenant_admin(client.app, other["id"])

    for token, remaining in ((first, 2), (second, 1), (first, 0)):
        resp = await client.get(EVENTS, headers=bearer(token))
        assert resp.status == 200
        assert resp.headers["X-Rate-Limit-Remaining"] == resp.headers["X-RateLimit-Remaining"] == str(remaining)
    resp = await client.get(EVENTS, headers={**bearer(second), "Accept-Language": "de"})
    error = await assert_error(resp, 429, "rate_limited")
    assert error["message"].startswith("Zu viele Anfragen") and error["meta"]["limit"] == 3
    assert resp.headers["X-Rate-Limit-Limit"] == "3" and int(resp.headers["Retry-After"]) >= 1
    # another tenant has its own budget
    assert (await client.get(EVENTS, headers=bearer(outsider))).status == 200
