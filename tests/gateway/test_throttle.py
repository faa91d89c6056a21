"""Redis throttles: counting per window, the 429 in each envelope, and the headers."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from domain.errors import RateLimited
from gateway.app import create_app
from gateway.kernel.contracts import Contract
from gateway.kernel.keys import settings_key, throttles_key
from gateway.kernel.throttle import Limit, Throttles
from tests.clock import FakeClock
from tests.waiting import eventually


def _on_a_fake_clock(redis_client, **options) -> tuple[Throttles, FakeClock]:
    """A Throttles whose windows move only by hand: a burst never straddles a window boundary."""
    clock = FakeClock()
    return Throttles(redis_client, prefix=f"t-{uuid.uuid4().hex[:6]}", clock=clock.time, **options), clock


def _window_key(throttles: Throttles, clock: FakeClock, name: str, window_s: int = 60) -> str:
    return f"{throttles._prefix}:throttle:{name}:k:{int(clock.time() // window_s)}"


async def _count(redis_client, key: str) -> int:
    return int(await redis_client.get(key) or 0)


async def _until_counted(redis_client, key: str, expected: int) -> None:
    """Until the window's count in Redis is `expected` (local admissions land after 50 ms)."""

    async def counted() -> bool:
        return await _count(redis_client, key) == expected

    await eventually(counted, what=f"{expected} hits in Redis")


async def test_counts_per_window_and_resets_with_the_next(redis_client):
    clock = FakeClock(1_000_000.0)
    throttles = Throttles(redis_client, clock=clock.time)
    limit = Limit(f"t-{uuid.uuid4().hex[:6]}", 3, 60)
    verdicts = [await throttles.hit(limit, "ip-1") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert verdicts[-1].reset_at == 1_000_020  # next multiple of 60
    assert verdicts[-1].retry_after == 20
    assert (await throttles.hit(limit, "ip-2")).allowed  # keys are independent
    clock.advance(60)
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

    # on a fake clock: the three hits of a test always land in one window
    return await aiohttp_client(create_app(settings, clock=FakeClock(), add_routes=add_routes))


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
    throttles, clock = _on_a_fake_clock(redis_client)
    limit = Limit("batched", 1000, 60)
    verdicts = [await throttles.hit(limit, "k") for _ in range(50)]
    assert all(v.allowed for v in verdicts)
    assert [v.remaining for v in verdicts[:3]] == [999, 998, 997]
    rkey = _window_key(throttles, clock, "batched")
    await _until_counted(redis_client, rkey, 50)


async def test_two_gateways_near_the_limit_never_exceed_it(redis_client):
    prefix, clock = f"t-{uuid.uuid4().hex[:6]}", FakeClock()
    a, b = (Throttles(redis_client, prefix=prefix, clock=clock.time) for _ in range(2))
    limit = Limit("shared", 7, 60)  # slack is 0 below 8: every hit goes to Redis
    allowed = 0
    for i in range(20):
        verdict = await (a if i % 2 else b).hit(limit, "k")
        allowed += verdict.allowed
    assert allowed == 7


# -- bursts: every hit counts from its arrival ----------------------------------------------------


@pytest.mark.parametrize("limit", [1, 7, 8, 10, 64, 100, 1000])
async def test_a_concurrent_burst_on_one_gateway_admits_exactly_the_limit(redis_client, limit):
    # on a fake clock: a window that turned over mid-burst would rightly admit a second window's worth
    throttles, clock = _on_a_fake_clock(redis_client)
    rule = Limit("burst", limit, 60)
    verdicts = await asyncio.gather(*(throttles.hit(rule, "k") for _ in range(2 * limit + 50)))
    allowed = [v for v in verdicts if v.allowed]
    assert len(allowed) == limit
    # every admitted hit saw its own budget; every refused one saw none left
    assert sorted(v.remaining for v in allowed) == list(range(limit))
    assert {v.remaining for v in verdicts if not v.allowed} == {0}
    # after the flush delay Redis holds every hit, refused ones too
    rkey = _window_key(throttles, clock, "burst")
    await _until_counted(redis_client, rkey, 2 * limit + 50)


async def _incrby_calls(redis_client) -> int:
    stats = await redis_client.info("commandstats")
    return int(stats.get("cmdstat_incrby", {}).get("calls", 0))


async def test_a_burst_far_from_the_limit_costs_one_round_trip(redis_client):
    throttles, clock = _on_a_fake_clock(redis_client)
    before = await _incrby_calls(redis_client)
    verdicts = await asyncio.gather(*(throttles.hit(Limit("cheap", 100_000, 60), "k") for _ in range(500)))
    assert all(v.allowed for v in verdicts)
    rkey = _window_key(throttles, clock, "cheap")
    await _until_counted(redis_client, rkey, 500)
    assert await _incrby_calls(redis_client) - before == 1  # all 500 in one INCRBY after the flush delay


async def test_several_gateways_overshoot_by_at_most_an_eighth_of_the_limit_each(redis_client):
    prefix, clock = f"t-{uuid.uuid4().hex[:6]}", FakeClock()
    gateways = [Throttles(redis_client, prefix=prefix, clock=clock.time) for _ in range(3)]
    rule = Limit("shared-burst", 80, 60)
    verdicts = await asyncio.gather(*(gateways[i % 3].hit(rule, "k") for i in range(400)))
    allowed = sum(v.allowed for v in verdicts)
    # the bound in Throttles' docstring: limit + G * floor(limit / 8)
    assert 80 <= allowed <= 80 + 3 * (80 // 8)


async def test_an_unreachable_redis_fails_the_waiting_hits_instead_of_hanging():
    import socket

    import redis.asyncio as aioredis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    dead = aioredis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    throttles = Throttles(dead)
    rule = Limit("dead", 5, 60)  # below 8: every hit needs Redis
    async with asyncio.timeout(10):
        results = await asyncio.gather(*(throttles.hit(rule, "k") for _ in range(20)), return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results)
    await dead.aclose()
