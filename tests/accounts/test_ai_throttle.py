"""`throttle:ai` on POST /api/ai/generate: AI_RATE_LIMIT_PER_MINUTE per user, per client IP when
anonymous, 429 in the /api envelope with Retry-After and X-RateLimit-*, through the whole app."""

from __future__ import annotations

import uuid
from ipaddress import ip_network
from typing import Any

import pytest

from domain.settings import Settings
from gateway.app import create_app
from gateway.kernel.keys import pool_key
from tests.accounts.account_helpers import JSON, assert_err
from tests.ai_fakes import ai_settings
from tests.builders import bearer, make_token, make_user
from tests.clock import FakeClock

API_HOST = "api.roost.test"
ASYNC = {"prompt": "hello", "async": True}


@pytest.fixture
def make_client(aiohttp_client, settings, ray_session, fake_ai):
    async def make(clock: FakeClock | None = None, **overrides: Any):
        # counters of their own: every test calls from 127.0.0.1
        update = ai_settings(fake_ai.base_url, redis_prefix=f"t-ai-{uuid.uuid4().hex[:8]}", **overrides)
        return await aiohttp_client(create_app(settings.model_copy(update=update), clock=clock or FakeClock()))

    return make


async def signed_in(client) -> dict[str, str]:
    user = await make_user(client.app)
    return bearer(await make_token(client.app, user["id"])) | JSON


async def rows(client) -> int:
    async with client.app[pool_key].acquire() as conn:
        return await conn.fetchval("select count(*) from ai_requests")


def test_the_default_is_sixty_a_minute():
    assert Settings(_env_file=None).ai_rate_limit_per_minute == 60


async def test_the_default_limit_is_on_every_answer(make_client):
    client = await make_client()
    headers = await signed_in(client)
    resp = await client.post("/api/ai/generate", json=ASYNC, headers=headers)
    assert resp.status == 202
    assert resp.headers["X-RateLimit-Limit"] == "60"
    assert resp.headers["X-RateLimit-Remaining"] == "59"
    resp = await client.post("/api/ai/generate", json=ASYNC, headers=headers)
    assert resp.headers["X-RateLimit-Remaining"] == "58"


async def test_over_the_limit_is_a_429_that_stores_nothing_until_the_minute_is_over(make_client, fake_ai):
    clock = FakeClock()
    client = await make_client(clock, ai_rate_limit_per_minute=2)
    headers = await signed_in(client)
    for _ in range(2):
        assert (await client.post("/api/ai/generate", json=ASYNC, headers=headers)).status == 202
    before = await rows(client)
    resp = await client.post("/api/ai/generate", json={"prompt": "one more"}, headers=headers)
    assert resp.status == 429
    body = await resp.json()
    assert_err(body, 429, "Too Many Attempts.")
    assert body["data"] is None
    assert resp.headers["X-RateLimit-Limit"] == "2"
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    retry_after = int(resp.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert int(resp.headers["X-RateLimit-Reset"]) == int(clock.time() // 60 * 60 + 60)
    # refused before anything was stored or sent
    assert await rows(client) == before
    assert "one more" not in [c["body"].get("prompt") for c in fake_ai.calls]
    clock.advance(retry_after)
    resp = await client.post("/api/ai/generate", json=ASYNC, headers=headers)
    assert resp.status == 202
    assert resp.headers["X-RateLimit-Remaining"] == "1"


async def test_each_user_has_a_budget_of_their_own(make_client):
    client = await make_client(ai_rate_limit_per_minute=1)
    alice, bob = await signed_in(client), await signed_in(client)
    assert (await client.post("/api/ai/generate", json=ASYNC, headers=alice)).status == 202
    assert (await client.post("/api/ai/generate", json=ASYNC, headers=alice)).status == 429
    assert (await client.post("/api/ai/generate", json=ASYNC, headers=bob)).status == 202


async def test_a_second_token_of_the_same_user_shares_the_budget(make_client):
    client = await make_client(ai_rate_limit_per_minute=1)
    user = await make_user(client.app)
    first = bearer(await make_token(client.app, user["id"])) | JSON
    second = bearer(await make_token(client.app, user["id"])) | JSON
    assert (await client.post("/api/ai/generate", json=ASYNC, headers=first)).status == 202
    assert (await client.post("/api/ai/generate", json=ASYNC, headers=second)).status == 429


async def test_anonymous_callers_count_per_client_address(make_client):
    client = await make_client(ai_rate_limit_per_minute=2, trusted_proxies=(ip_network("127.0.0.1/32"),))

    async def anonymous(address: str) -> int:
        resp = await client.post("/api/ai/generate", json=ASYNC, headers=JSON | {"X-Forwarded-For": address})
        return resp.status

    assert [await anonymous("203.0.113.7") for _ in range(3)] == [401, 401, 429]
    # another address has its own budget
    assert await anonymous("203.0.113.8") == 401
    # and a signed-in user behind the spent address is counted as themselves
    user = await signed_in(client)
    resp = await client.post("/api/ai/generate", json=ASYNC, headers=user | {"X-Forwarded-For": "203.0.113.7"})
    assert resp.status == 202


async def test_invalid_bodies_count_too(make_client):
    # counted before the body is read: a flood of bad requests is throttled like any other
    client = await make_client(ai_rate_limit_per_minute=2)
    headers = await signed_in(client)
    statuses = [(await client.post("/api/ai/generate", json={}, headers=headers)).status for _ in range(3)]
    assert statuses == [422, 422, 429]


async def test_polling_a_jobs_status_is_not_counted(make_client):
    client = await make_client(ai_rate_limit_per_minute=1)
    headers = await signed_in(client)
    resp = await client.post("/api/ai/generate", json=ASYNC, headers=headers)
    job_id = (await resp.json())["data"]["job_id"]
    for _ in range(5):
        assert (await client.get(f"/api/ai/jobs/{job_id}/status", headers=headers)).status == 200
    assert (await client.post("/api/ai/generate", json=ASYNC, headers=headers)).status == 429


async def test_the_api_domain_host_and_the_main_host_share_one_budget(make_client):
    client = await make_client(ai_rate_limit_per_minute=2, api_domain=API_HOST)
    headers = await signed_in(client)
    resp = await client.post("/ai/generate", json=ASYNC, headers=headers | {"Host": API_HOST})
    assert resp.status == 202
    assert resp.headers["X-RateLimit-Remaining"] == "1"
    assert (await client.post("/api/ai/generate", json=ASYNC, headers=headers)).status == 202
    resp = await client.post("/ai/generate", json=ASYNC, headers=headers | {"Host": API_HOST})
    assert resp.status == 429
    assert_err(await resp.json(), 429, "Too Many Attempts.")
