"""Redis throttles: counting per window, the 429 in each envelope, and the headers."""

from __future__ import annotations

import time
import uuid

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from domain.errors import RateLimited
from gateway.app import create_app
from gateway.contracts import Contract
from gateway.keys import settings_key, throttles_key
from gateway.throttle import Limit, Throttles


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_counts_per_window_and_resets_with_the_next(redis_client):
    clock = Clock(1_000_000.0)
    throttles = Throttles(redis_client, clock=clock)
    limit = Limit(f"t-{uuid.uuid4().hex[:6]}", 3, 60)
    verdicts = [await throttles.hit(limit, "ip-1") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert verdicts[-1].reset_at == 1_000_020  # next multiple of 60
    assert verdicts[-1].retry_after == 20
    assert (await throttles.hit(limit, "ip-2")).allowed  # keys are independent
    clock.now += 60
    assert (await throttles.hit(limit, "ip-1")).allowed


@pytest.mark.parametrize(("path", "hyphenated"), [("/api/pets", False), ("/api/v1/events/t/photos", True)])
async def test_enforce_raises_with_headers(redis_client, settings, path, hyphenated):
    throttles = Throttles(redis_client)
    limit = Limit(f"t-{uuid.uuid4().hex[:6]}", 1, 60)
    app = web.Application()
    app[settings_key] = settings
    request = make_mocked_request("POST", path, app=app)
    await throttles.enforce(request, limit, "k")
    with pytest.raises(RateLimited) as info:
        await throttles.enforce(request, limit, "k")
    headers = info.value.headers
    assert headers["X-RateLimit-Limit"] == "1" and headers["X-RateLimit-Remaining"] == "0"
    assert int(headers["Retry-After"]) >= 1 and "X-RateLimit-Reset" in headers
    # 001 documents `x-rate-limit-*`; the other contracts keep Laravel's spelling only
    assert ("X-Rate-Limit-Remaining" in headers) is hyphenated


@pytest.fixture
async def limited_client(aiohttp_client, settings, ray_session):
    name = f"t-{uuid.uuid4().hex[:6]}"

    async def limited(request: web.Request) -> web.Response:
        await request.config_dict[throttles_key].enforce(request, Limit(name, 2, 60), "everyone")
        return web.json_response({"ok": True})

    def add_routes(contract: Contract, app: web.Application) -> None:
        app.router.add_get("/_t/limited", limited)

    return await aiohttp_client(create_app(settings, add_routes=add_routes))


@pytest.mark.parametrize(
    "prefix,check",
    [
        ("/api", lambda b: b["success"] is False and b["code"] == 429 and b["message"] == "Too Many Attempts."),
        ("/api/v1", lambda b: b["error"]["code"] == "rate_limited" and b["error"]["meta"]["limit"] == 2),
        ("", lambda b: b["status"] == 0 and b["details"]["error_type"] == "rate_limited"),
    ],
)
async def test_429_in_each_envelope_with_retry_after(limited_client, prefix, check):
    first = await limited_client.get(prefix + "/_t/limited")
    assert first.status == 200
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    await limited_client.get(prefix + "/_t/limited")
    third = await limited_client.get(prefix + "/_t/limited")
    assert third.status == 429
    assert int(third.headers["Retry-After"]) >= 1
    assert third.headers["X-RateLimit-Remaining"] == "0"
    assert check(await third.json())


async def test_far_from_the_limit_counts_are_batched_then_reach_redis(redis_client):
    import asyncio

    throttles = Throttles(redis_client, prefix=f"t-{uuid.uuid4().hex[:6]}")
    limit = Limit("batched", 1000, 60)
    verdicts = [await throttles.hit(limit, "k") for _ in range(50)]
    assert all(v.allowed for v in verdicts)
    assert [v.remaining for v in verdicts[:3]] == [999, 998, 997]
    window = int(time.time() // 60)
    rkey = f"{throttles._prefix}:throttle:batched:k:{window}"
    await asyncio.sleep(0.2)  # past the flush delay
    assert int(await redis_client.get(rkey)) == 50


async def test_two_gateways_near_the_limit_never_exceed_it(redis_client):
    prefix = f"t-{uuid.uuid4().hex[:6]}"
    a, b = Throttles(redis_client, prefix=prefix), Throttles(redis_client, prefix=prefix)
    limit = Limit("shared", 7, 60)  # slack is 0 below 8: every hit goes to Redis
    allowed = 0
    for i in range(20):
        verdict = await (a if i % 2 else b).hit(limit, "k")
        allowed += verdict.allowed
    assert allowed == 7
