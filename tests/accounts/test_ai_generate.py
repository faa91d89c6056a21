"""POST /api/ai/generate and GET /api/ai/jobs/{id}/status through the whole app: real PostgreSQL,
Redis and Ray (the provider call runs in a Ray task), against the local fake provider."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from gateway.kernel.keys import pool_key
from tests.accounts.account_helpers import assert_err, assert_ok
from tests.ai_fakes import ai_settings, dead_url, fail, hang, ok
from tests.builders import bearer, make_token, make_user
from tests.waiting import eventually


@pytest.fixture
def make_client(aiohttp_client, settings, ray_session):
    async def make(base_url: str, **overrides: Any):
        return await aiohttp_client(_app(settings, base_url, **overrides))

    return make


def _app(settings, base_url, **overrides):
    from gateway.app import create_app

    return create_app(settings.model_copy(update=ai_settings(base_url, **overrides)))


async def signed_in(client) -> dict[str, str]:
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    return bearer(token) | {"Accept": "application/json"}


async def row(client, request_id: int):
    async with client.app[pool_key].acquire() as conn:
        return await conn.fetchrow("select * from ai_requests where id = $1", request_id)


async def newest_row(client, user_headers):
    async with client.app[pool_key].acquire() as conn:
        return await conn.fetchrow("select * from ai_requests order by id desc limit 1")


async def test_sync_generation_answers_the_providers_json_and_records_the_row(make_client, fake_ai):
    client = await make_client(fake_ai.base_url)
    headers = await signed_in(client)
    resp = await client.post("/api/ai/generate", json={"prompt": "Hi\x00 there\x07", "max_tokens": 12}, headers=headers)
    assert resp.status == 200, await resp.text()
    data = assert_ok(await resp.json(), 200, "AI generation result")
    assert data["output"] == "echo: Hi there"
    assert fake_ai.calls[0]["body"] == {"prompt": "Hi there", "max_tokens": 12}
    stored = await newest_row(client, headers)
    assert stored["status"] == "finished"
    assert stored["result"] == data
    assert stored["meta"]["tokens"] == 7
    assert stored["meta"]["attempts"] == 1
    assert stored["meta"]["model"] == "gorq-1"
    assert stored["meta"]["latency_ms"] >= 0
    assert stored["finished_at"] is not None


async def test_openai_dialect_with_a_chat_body(make_client, fake_ai):
    client = await make_client(fake_ai.base_url, ai_provider="openai", gorq_default_model="m-7")
    headers = await signed_in(client)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "ping\x1b"}]
    resp = await client.post("/api/ai/generate", json={"messages": messages}, headers=headers)
    data = assert_ok(await resp.json(), 200, "AI generation result")
    assert data["choices"][0]["message"]["content"] == "echo: ping"
    assert fake_ai.calls[0]["body"]["model"] == "m-7"
    assert fake_ai.calls[0]["body"]["max_tokens"] == 256
    stored = await newest_row(client, headers)
    assert stored["prompt"] == "ping"
    assert stored["meta"]["provider"] == "openai"


async def test_async_answers_202_and_the_status_walks_pending_running_finished(make_client, fake_ai):
    client = await make_client(fake_ai.base_url)
    headers = await signed_in(client)
    fake_ai.script(ok(latency_s=1.5))
    resp = await client.post("/api/ai/generate", json={"prompt": "slow one", "async": True}, headers=headers)
    assert resp.status == 202
    body = await resp.json()
    assert body["status"] == "accepted"
    assert body["message"] == "Request accepted, processing"
    job_id = body["data"]["job_id"]
    url = body["data"]["status_url"]
    assert url == f"http://127.0.0.1:8000/api/ai/jobs/{job_id}/status"
    path = url.removeprefix("http://127.0.0.1:8000")
    seen = []

    async def status() -> str:
        r = await client.get(path, headers=headers)
        data = assert_ok(await r.json(), 200, "Job status")
        if not seen or seen[-1] != data["status"]:
            seen.append(data["status"])
        return data["status"]

    await eventually(lambda: _is(status, "finished"), timeout=20)
    assert seen[0] in ("pending", "running")
    assert "running" in seen
    assert seen[-1] == "finished"
    r = await client.get(path, headers=headers)
    data = (await r.json())["data"]
    assert set(data) == {"id", "status", "result", "error", "meta", "created_at", "updated_at"}
    assert data["id"] == job_id
    assert data["result"]["output"] == "echo: slow one"
    assert data["error"] is None
    assert data["meta"]["latency_ms"] >= 1500


async def _is(probe, wanted: str) -> bool:
    return await probe() == wanted


async def test_a_sync_request_past_its_deadline_says_where_to_poll(make_client, fake_ai):
    client = await make_client(fake_ai.base_url, ai_sync_timeout_s=0.5, ai_provider_timeout_s=10.0)
    headers = await signed_in(client)
    fake_ai.script(ok(latency_s=2.0))
    resp = await client.post("/api/ai/generate", json={"prompt": "patience"}, headers=headers)
    assert resp.status == 202
    body = await resp.json()
    assert body["message"] == "Generation still running; poll status_url"
    path = "/api/ai/jobs/{}/status".format(body["data"]["job_id"])

    async def finished() -> bool:
        r = await client.get(path, headers=headers)
        return (await r.json())["data"]["status"] == "finished"

    await eventually(finished, timeout=20)


async def test_validation(make_client, fake_ai):
    client = await make_client(fake_ai.base_url)
    headers = await signed_in(client)
    cases = [
        ({}, "prompt", "The prompt field is required."),
        ({"prompt": "\x00\x01 "}, "prompt", "The prompt field is required."),
        ({"prompt": "x" * 5001}, "prompt", "The prompt may not be greater than 5000 characters."),
        ({"prompt": 5}, "prompt", "The prompt must be a string."),
        ({"prompt": "a", "model": "m" * 256}, "model", "The model may not be greater than 255 characters."),
        ({"prompt": "a", "max_tokens": 0}, "max_tokens", "The max tokens must be at least 1."),
        ({"prompt": "a", "max_tokens": 2049}, "max_tokens", "The max tokens may not be greater than 2048."),
        ({"prompt": "a", "max_tokens": "many"}, "max_tokens", "The max tokens must be an integer."),
        ({"prompt": "a", "async": "perhaps"}, "async", "The async field must be true or false."),
        ({"messages": []}, "messages", None),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role", "The selected role is invalid."),
    ]
    for body, field, message in cases:
        resp = await client.post("/api/ai/generate", json=body, headers=headers)
        assert resp.status == 422, body
        errors = assert_err(await resp.json(), 422, "The given data was invalid.")
        assert field in errors, (body, errors)
        if message is not None:
            assert errors[field] == [message]
    assert fake_ai.calls == []


async def test_both_routes_need_a_signed_in_caller(make_client, fake_ai):
    client = await make_client(fake_ai.base_url)
    resp = await client.post("/api/ai/generate", json={"prompt": "hi"}, headers={"Accept": "application/json"})
    assert resp.status == 401
    assert_err(await resp.json(), 401, "Unauthenticated.")
    resp = await client.get("/api/ai/jobs/1/status", headers={"Accept": "application/json"})
    assert resp.status == 401


async def test_another_users_job_is_a_404_like_an_unknown_one(make_client, fake_ai):
    client = await make_client(fake_ai.base_url)
    alice, bob = await signed_in(client), await signed_in(client)
    resp = await client.post("/api/ai/generate", json={"prompt": "mine", "async": True}, headers=alice)
    job_id = (await resp.json())["data"]["job_id"]
    for path in (f"/api/ai/jobs/{job_id}/status", "/api/ai/jobs/999999999/status", "/api/ai/jobs/abc/status"):
        resp = await client.get(path, headers=bob)
        assert resp.status == 404, path
        assert_err(await resp.json(), 404, "Job not found")
    resp = await client.get(f"/api/ai/jobs/{job_id}/status", headers=alice)
    assert resp.status == 200


async def test_throttle_ai_per_user_and_per_ip(make_client, fake_ai):
    # counters of their own: other tests' anonymous requests from 127.0.0.1 count on the same key
    client = await make_client(
        fake_ai.base_url, ai_rate_limit_per_minute=2, redis_prefix=f"roost-ai-{uuid.uuid4().hex[:8]}"
    )
    alice, bob = await signed_in(client), await signed_in(client)
    for _ in range(2):
        resp = await client.post("/api/ai/generate", json={"prompt": "a", "async": True}, headers=alice)
        assert resp.status == 202
        assert resp.headers["X-RateLimit-Limit"] == "2"
    resp = await client.post("/api/ai/generate", json={"prompt": "a", "async": True}, headers=alice)
    assert resp.status == 429
    assert_err(await resp.json(), 429, "Too Many Attempts.")
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    # another user has a budget of their own
    resp = await client.post("/api/ai/generate", json={"prompt": "b", "async": True}, headers=bob)
    assert resp.status == 202
    # anonymous callers count per IP: throttled too, not only refused
    anonymous = {"Accept": "application/json"}
    statuses = [
        (await client.post("/api/ai/generate", json={"prompt": "c"}, headers=anonymous)).status for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


async def test_no_key_in_the_workers_environment_fails_as_misconfigured(make_client, fake_ai):
    client = await make_client(fake_ai.base_url, ai_api_key_env="ROOST_TEST_AI_KEY_THAT_IS_NOT_SET")
    headers = await signed_in(client)
    resp = await client.post("/api/ai/generate", json={"prompt": "hi"}, headers=headers)
    assert resp.status == 500
    assert_err(await resp.json(), 500, "AI provider error")
    stored = await newest_row(client, headers)
    assert stored["status"] == "failed"
    assert stored["error"] == "AI provider is not configured"
    assert stored["meta"]["error_kind"] == "misconfigured"
    assert fake_ai.calls == []


async def test_a_provider_failing_for_good_fails_the_row_with_500(make_client, fake_ai):
    client = await make_client(fake_ai.base_url, ai_provider_retries=1)
    headers = await signed_in(client)
    fake_ai.script(fail(500), fail(500))
    resp = await client.post("/api/ai/generate", json={"prompt": "hi"}, headers=headers)
    assert resp.status == 500
    assert_err(await resp.json(), 500, "AI provider error")
    stored = await newest_row(client, headers)
    assert stored["status"] == "failed"
    assert "the provider answered 500" in stored["error"]
    assert stored["meta"]["http_attempts"] == 2
    assert stored["meta"]["provider_status"] == 500
    assert len(fake_ai.calls) == 2


async def test_a_429_with_retry_after_is_waited_out_inside_the_attempt(make_client, fake_ai):
    client = await make_client(fake_ai.base_url)
    headers = await signed_in(client)
    fake_ai.script(fail(429, retry_after="1"))
    started = time.monotonic()
    resp = await client.post("/api/ai/generate", json={"prompt": "hi"}, headers=headers)
    assert resp.status == 200
    assert time.monotonic() - started >= 1.0
    stored = await newest_row(client, headers)
    assert stored["meta"]["http_attempts"] == 2


async def test_a_failed_attempt_goes_back_to_pending_and_the_job_retries_it(make_client, fake_ai):
    client = await make_client(fake_ai.base_url, ai_provider_retries=0, ai_job_max_attempts=3)
    headers = await signed_in(client)
    fake_ai.script(fail(502), hang(5))
    resp = await client.post("/api/ai/generate", json={"prompt": "again", "async": True}, headers=headers)
    request_id = (await resp.json())["data"]["job_id"]

    async def state() -> tuple[str, int]:
        r = await row(client, request_id)
        return r["status"], r["meta"].get("attempts")

    # attempt 1 failed with 502 -> pending (error kept) -> attempt 2 running (hangs) -> times out
    # -> pending -> attempt 3 finishes
    await eventually(lambda: _eq(state, ("finished", 3)), timeout=30)
    stored = await row(client, request_id)
    assert stored["error"] is None
    assert len(fake_ai.calls) == 3


async def _eq(probe, wanted) -> bool:
    return await probe() == wanted


async def test_a_provider_that_is_down_opens_the_breaker_503_with_retry_after(make_client):
    down = dead_url()
    client = await make_client(down, ai_provider_retries=1, ai_breaker_failures=2, ai_breaker_cooldown_s=60.0)
    headers = await signed_in(client)
    resp = await client.post("/api/ai/generate", json={"prompt": "hi"}, headers=headers)
    assert resp.status == 500  # two refused connections: the attempt failed, the breaker opened
    started = time.monotonic()
    resp = await client.post("/api/ai/generate", json={"prompt": "hi"}, headers=headers)
    assert resp.status == 503
    assert_err(await resp.json(), 503, "AI provider unavailable")
    assert 55 <= int(resp.headers["Retry-After"]) <= 60
    assert time.monotonic() - started < 5
    stored = await newest_row(client, headers)
    assert stored["status"] == "failed"
    assert stored["meta"]["error_kind"] == "provider_down"
    assert stored["meta"]["http_attempts"] == 0


async def test_the_cluster_cap_queues_a_burst(make_client, fake_ai):
    client = await make_client(fake_ai.base_url, ai_provider_concurrency=1)
    headers = await signed_in(client)
    fake_ai.script(ok(latency_s=0.4), ok(latency_s=0.4), ok(latency_s=0.4))
    answers = await asyncio.gather(
        *(client.post("/api/ai/generate", json={"prompt": f"p{i}"}, headers=headers) for i in range(3))
    )
    assert [a.status for a in answers] == [200, 200, 200]
    assert len(fake_ai.calls) == 3
    assert fake_ai.peak == 1


async def test_a_rerun_of_a_finished_generation_makes_no_second_provider_call(make_client, fake_ai, settings):
    """The row says it is finished: a Ray task retried after its worker died between storing the
    answer and finishing its job runs the handler again, which must not call the provider."""
    from jobs import ai as ai_job
    from jobs.registry import JobContext

    client = await make_client(fake_ai.base_url)
    headers = await signed_in(client)
    resp = await client.post("/api/ai/generate", json={"prompt": "once"}, headers=headers)
    assert resp.status == 200
    stored = await newest_row(client, headers)
    from gateway.accounts.ai import job_payload

    payload = job_payload(settings.model_copy(update=ai_settings(fake_ai.base_url)), stored["id"])
    async with client.app[pool_key].acquire() as conn:
        ctx = JobContext(job_id=stored["job_id"], kind="ai.generate", attempt=2, max_attempts=3, conn=conn)
        outcome = await ai_job.generate_job(payload, ctx)
    assert outcome["already_done"] is True
    assert len(fake_ai.calls) == 1
    assert (await row(client, stored["id"]))["result"] == stored["result"]


async def test_the_key_never_reaches_the_jobs_table(make_client, fake_ai):
    from tests.ai_fakes import TEST_AI_KEY

    client = await make_client(fake_ai.base_url)
    headers = await signed_in(client)
    resp = await client.post("/api/ai/generate", json={"prompt": "secret?"}, headers=headers)
    assert resp.status == 200
    stored = await newest_row(client, headers)
    async with client.app[pool_key].acquire() as conn:
        payload = await conn.fetchval("select payload::text from jobs where id = $1", stored["job_id"])
    assert TEST_AI_KEY not in payload
    assert "secret?" not in payload  # the prompt lives in ai_requests only
    assert fake_ai.calls[0]["auth"] == f"Bearer {TEST_AI_KEY}"


async def test_a_job_the_runner_gave_up_on_shows_its_generation_failed(make_client, fake_ai):
    """A worker that died on the last attempt never recorded the failure in the row: the job's
    own status says it, and the status route believes the job."""
    client = await make_client(fake_ai.base_url)
    headers = await signed_in(client)
    fake_ai.script(ok(latency_s=4.0))  # the task is still inside its call while the test looks
    resp = await client.post("/api/ai/generate", json={"prompt": "doomed", "async": True}, headers=headers)
    request_id = (await resp.json())["data"]["job_id"]
    await eventually(lambda: _eq(lambda: _status_of(client, request_id), "running"), timeout=10)
    async with client.app[pool_key].acquire() as conn:
        # what storage/jobs.give_up leaves behind when the attempts are used up
        await conn.execute(
            "update jobs set status = 'failed', claimed_by = null, error = 'attempts used up' "
            "where id = (select job_id from ai_requests where id = $1)",
            request_id,
        )
    resp = await client.get(f"/api/ai/jobs/{request_id}/status", headers=headers)
    data = assert_ok(await resp.json(), 200, "Job status")
    assert (await row(client, request_id))["status"] == "running"
    assert data["status"] == "failed"
    assert data["error"] == "the generation's job failed"
    assert data["result"] is None


async def _status_of(client, request_id: int) -> str:
    return (await row(client, request_id))["status"]
