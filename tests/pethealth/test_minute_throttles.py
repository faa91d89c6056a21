"""000's minute throttles on /api, on an app built with low limits and its own Redis keys."""

from __future__ import annotations

import uuid

import pytest

from gateway.pethealth.throttles import authenticated_limit, public_limit, write_limit
from tests.builders import bearer, make_token, make_user
from tests.clock import FakeClock

ERROR_KEYS = {"success", "status", "data", "message", "error", "errors", "code", "timestamp"}


@pytest.fixture
async def low(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    tight = settings.model_copy(
        update={
            "throttle_api_per_minute": 2,
            "throttle_public_api_per_minute": 3,
            # throttle counters are per prefix: this test's must not meet other tests'
            "redis_prefix": f"thr-{uuid.uuid4().hex[:10]}",
        }
    )
    # on a fake clock: a test's few hits never straddle a minute boundary
    return await aiohttp_client(create_app(tight, clock=FakeClock()))


async def test_authenticated_group_is_per_user(low):
    user = await make_user(low.app)
    token = await make_token(low.app, user["id"])
    for remaining in ("1", "0"):
        resp = await low.get("/api/users/me", headers=bearer(token))
        assert resp.status == 200
        assert resp.headers["X-RateLimit-Limit"] == "2"
        assert resp.headers["X-RateLimit-Remaining"] == remaining
    resp = await low.get("/api/users/me", headers=bearer(token))
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "60"  # the fake clock stands at the start of a minute
    assert resp.headers["X-RateLimit-Limit"] == "2" and resp.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in resp.headers
    body = await resp.json()
    assert set(body) == ERROR_KEYS
    assert body["success"] is False and body["code"] == 429
    assert body["message"] == "Too Many Attempts." and body["error"] == "Too Many Attempts."

    # another user has their own budget; OPTIONS is never throttled
    other = await make_token(low.app, (await make_user(low.app))["id"])
    assert (await low.get("/api/users/me", headers=bearer(other))).status == 200
    assert (await low.options("/api/users/me", headers=bearer(token))).status != 429


async def test_throttled_requests_cost_no_quota(low):
    from domain.errors import RateLimited
    from gateway.pethealth.quota import quota_key_app
    from tests.pethealth.quota_helpers import runtime_setting

    async with runtime_setting(low.app, "api_daily_quota_regular", 3):
        user = await make_user(low.app)
        token = await make_token(low.app, user["id"])
        statuses = [(await low.get("/api/users/me", headers=bearer(token))).status for _ in range(5)]
        assert statuses == [200, 200, 429, 429, 429]
        quota = low.app[quota_key_app]
        await quota.take(user["id"])  # the third unit is still there
        with pytest.raises(RateLimited):
            await quota.take(user["id"])


async def test_public_listing_is_throttled_for_anonymous_callers(low):
    for _ in range(3):
        assert (await low.get("/api/pet-types")).status == 200
    resp = await low.get("/api/pet-types")
    assert resp.status == 429
    assert resp.headers["X-RateLimit-Limit"] == "3"
    assert resp.headers["Retry-After"] == "60"
    # other anonymous routes are not in the public group
    assert (await low.get("/api/ping")).status != 429


async def test_write_limits_apply_per_route(low):
    user = await make_user(low.app, premium=True)
    token = await make_token(low.app, user["id"])
    resp = await low.post("/api/pets", json={}, headers=bearer(token))
    assert resp.status == 422
    # the write limit (150/min outside production) is the verdict shown on the answer
    assert resp.headers["X-RateLimit-Limit"] == "150"


def test_figures_by_environment(settings):
    prod = settings.model_copy(update={"app_env": "production"})
    assert authenticated_limit(prod).limit == 60 and authenticated_limit(settings).limit == 300
    assert public_limit(prod).limit == 30 and public_limit(settings).limit == 300
    assert write_limit(prod, "POST", "/pets").limit == 30
    assert write_limit(settings, "POST", "/pets").limit == 150
    assert write_limit(prod, "GET", "/pets") is None
