"""000's daily API quota through the real gateway, shard actors and database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import ray

from actors.quota import quota_key
from gateway.kernel.keys import actors_key, pool_key
from gateway.pethealth.quota import EXHAUSTED_TTL_S
from tests.builders import bearer, make_token, make_user
from tests.clock import FakeClock
from tests.pethealth.quota_helpers import runtime_setting
from tests.web.session_helpers import forget_cookies, signed_in_user

ME = "/api/users/me"
LIMIT = "api_daily_quota_regular"


async def _user_token(client, **fields):
    user = await make_user(client.app, **fields)
    return user, await make_token(client.app, user["id"], abilities=("read",))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def clocked(aiohttp_client, settings, ray_session, clock):
    """The whole app on `clock`: the quota's UTC day and its lease's "exhausted" time move by hand."""
    from gateway.app import create_app

    return await aiohttp_client(create_app(settings, clock=clock))


async def test_third_call_over_a_limit_of_two_is_429_with_the_notes_body(clocked, clock):
    client = clocked
    async with runtime_setting(client.app, LIMIT, 2):
        clock.set_time(datetime(2031, 3, 4, 22, 0, 0, tzinfo=UTC))
        user, token = await _user_token(client)
        for _ in range(2):
            assert (await client.get(ME, headers=bearer(token))).status == 200
        resp = await client.get(ME, headers=bearer(token))
        assert resp.status == 429
        assert resp.headers["Retry-After"] == str(2 * 3600)
        body = await resp.json()
        message = "Daily API quota reached (2 requests/day). Quota resets at 2031-03-05 00:00:00 UTC."
        assert body["success"] is False
        assert body["data"] == {
            "error_code": "API_DAILY_QUOTA_EXCEEDED",
            "quota": {"limit": 2, "used": 2, "remaining": 0, "reset_at_utc": "2031-03-05T00:00:00+00:00"},
        }
        assert body["message"] == message and body["error"] == message
        assert body["code"] == 429 and body["status"] == "error"
        # still denied, and the durable total never passes the limit
        assert (await client.get(ME, headers=bearer(token))).status == 429
        async with client.app[pool_key].acquire() as conn:
            total = await conn.fetchval(
                "select value from actor_counters where kind = 'quota' and key = $1",
                quota_key(user["id"], datetime(2031, 3, 4).date()),
            )
        assert total == 2


async def test_success_answers_say_how_much_quota_is_left(clocked, clock):
    """X-Quota-Limit / -Remaining / -Reset on every counted success (issue 16, point 9; beyond
    the documents). Remaining is this gateway's view: exact with one gateway."""
    client = clocked
    async with runtime_setting(client.app, LIMIT, 5):
        clock.set_time(datetime(2031, 3, 4, 22, 0, 0, tzinfo=UTC))
        _, token = await _user_token(client)
        left = []
        for _ in range(5):
            resp = await client.get(ME, headers=bearer(token))
            assert resp.status == 200
            assert resp.headers["X-Quota-Limit"] == "5"
            assert resp.headers["X-Quota-Reset"] == str(int(datetime(2031, 3, 5, tzinfo=UTC).timestamp()))
            left.append(int(resp.headers["X-Quota-Remaining"]))
        assert left == [4, 3, 2, 1, 0]
        over = await client.get(ME, headers=bearer(token))
        assert over.status == 429
        assert "X-Quota-Remaining" not in over.headers  # the 429's body says it (quota.remaining)
        # a new UTC day, a new allowance
        clock.set_time(datetime(2031, 3, 5, 0, 0, 1, tzinfo=UTC))
        resp = await client.get(ME, headers=bearer(token))
        assert resp.status == 200 and resp.headers["X-Quota-Remaining"] == "4"
        assert resp.headers["X-Quota-Reset"] == str(int(datetime(2031, 3, 6, tzinfo=UTC).timestamp()))


async def test_premium_and_anonymous_answers_carry_no_quota_headers(client):
    async with runtime_setting(client.app, LIMIT, 5):
        _, token = await _user_token(client, premium=True)
        resp = await client.get(ME, headers=bearer(token))
        assert resp.status == 200 and "X-Quota-Limit" not in resp.headers
        resp = await client.get("/api/pet-types")
        assert resp.status == 200 and "X-Quota-Limit" not in resp.headers


async def test_sessions_count_too(client):
    async with runtime_setting(client.app, LIMIT, 1):
        signed = await signed_in_user(client)
        assert (await client.get(ME, cookies=signed.cookies)).status == 200
        assert (await client.get(ME, cookies=signed.cookies)).status == 429


async def test_premium_users_are_unlimited(client):
    async with runtime_setting(client.app, LIMIT, 2):
        user, token = await _user_token(client, premium=True)
        for _ in range(6):
            assert (await client.get(ME, headers=bearer(token))).status == 200
        async with client.app[pool_key].acquire() as conn:
            rows = await conn.fetchval(
                "select count(*) from actor_counters where kind = 'quota' and key like $1", f"quota:{user['id']}:%"
            )
        assert rows == 0


async def test_the_quota_resets_at_utc_midnight(clocked, clock):
    client = clocked
    async with runtime_setting(client.app, LIMIT, 2):
        user, token = await _user_token(client)
        clock.set_time(datetime(2032, 6, 30, 23, 59, 59, tzinfo=UTC))
        for _ in range(2):
            assert (await client.get(ME, headers=bearer(token))).status == 200
        resp = await client.get(ME, headers=bearer(token))
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "1"
        assert (await resp.json())["data"]["quota"]["reset_at_utc"] == "2032-07-01T00:00:00+00:00"
        clock.advance(1)
        assert datetime.fromtimestamp(clock.time(), UTC) == datetime(2032, 7, 1, 0, 0, 0, tzinfo=UTC)
        for _ in range(2):
            assert (await client.get(ME, headers=bearer(token))).status == 200
        assert (await client.get(ME, headers=bearer(token))).status == 429


async def test_options_is_not_counted(client):
    async with runtime_setting(client.app, LIMIT, 2):
        _, token = await _user_token(client)
        for _ in range(3):
            await client.options(ME, headers=bearer(token))
        for _ in range(2):
            assert (await client.get(ME, headers=bearer(token))).status == 200
        assert (await client.get(ME, headers=bearer(token))).status == 429


async def test_unauthenticated_requests_are_not_counted(client):
    async with runtime_setting(client.app, LIMIT, 2):
        forget_cookies(client)
        user, token = await _user_token(client)
        bad = {"Authorization": f"Bearer {token.plain_text}x"}
        for _ in range(4):
            assert (await client.get(ME, headers=bad)).status == 401
        for _ in range(2):
            assert (await client.get(ME, headers=bearer(token))).status == 200
        async with client.app[pool_key].acquire() as conn:
            keys = await conn.fetch(
                "select key from actor_counters where kind = 'quota' and key like 'quota::%'"
            )
        assert keys == []


async def test_a_raised_limit_reaches_an_exhausted_lease(clocked, clock):
    client = clocked
    _, token = await _user_token(client)
    async with runtime_setting(client.app, LIMIT, 1):
        assert (await client.get(ME, headers=bearer(token))).status == 200
        assert (await client.get(ME, headers=bearer(token))).status == 429
        async with runtime_setting(client.app, LIMIT, 3):
            # the lease still believes the budget spent, for EXHAUSTED_TTL_S
            assert (await client.get(ME, headers=bearer(token))).status == 429
            clock.advance(EXHAUSTED_TTL_S)
            assert (await client.get(ME, headers=bearer(token))).status == 200


async def test_killing_the_quota_shard_never_grants_more_than_the_limit(client):
    limit = 20
    async with runtime_setting(client.app, LIMIT, limit):
        user, token = await _user_token(client)
        today = datetime.now(UTC).date()
        quota = client.app[actors_key]["quota"]
        shard = quota.shard_for(quota_key(user["id"], today))

        async def one(delay: float = 0.0) -> int:
            await asyncio.sleep(delay)
            return (await client.get(ME, headers=bearer(token))).status

        async def killer() -> None:
            for at in (0.0, 0.05):  # once before the first lease, once mid-stream
                await asyncio.sleep(at)
                ray.kill(quota.handle(shard), no_restart=False)

        statuses, _ = await asyncio.gather(asyncio.gather(*(one(i * 0.003) for i in range(50))), killer())
        # after the restarts the same user keeps going until the limit, and no further
        more = [await one() for _ in range(limit)]
        assert set(statuses) | set(more) <= {200, 429, 503}
        assert statuses.count(200) + more.count(200) <= limit
        assert more[-1] == 429
        async with client.app[pool_key].acquire() as conn:
            total = await conn.fetchval(
                "select value from actor_counters where kind = 'quota' and key = $1", quota_key(user["id"], today)
            )
        assert total <= limit


async def test_a_gateway_crash_strands_leased_units_but_never_over_grants(client):
    """A second DailyQuota is a second gateway: the first one's unspent lease is lost to it."""
    from gateway.kernel.keys import runtime_settings_key
    from gateway.pethealth.quota import DailyQuota

    async with runtime_setting(client.app, LIMIT, 20):
        user, token = await _user_token(client)
        assert (await client.get(ME, headers=bearer(token))).status == 200  # leases 16, spends 1
        other = DailyQuota(client.app[actors_key]["quota"], client.app[runtime_settings_key])
        granted = 0
        for _ in range(30):
            try:
                await other.take(user["id"])
                granted += 1
            except Exception as exc:  # the 429
                assert getattr(exc, "status", None) == 429
        assert granted == 4
