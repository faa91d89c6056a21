"""/metrics beyond HTTP: actor batches and latency, quota lease refills, snapshot refreshes, the job
queue read from PostgreSQL and job outcomes, after real traffic through the app (real Ray,
PostgreSQL, Redis)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from actors.client import kill_shard
from gateway.kernel.keys import actors_key, jobs_key, pool_key
from gateway.kernel.metrics import metrics_key
from tests.builders import bearer, make_token, make_user
from tests.clock import FakeClock
from tests.event_builders import make_event, make_tenant
from tests.gateway.test_ops import sample
from tests.petcare.meal_builders import family, today
from tests.waiting import eventually


@pytest.fixture
async def fast(aiohttp_client, settings, ray_session):
    """The whole app with a 0.1 s snapshot interval, so a second poll refreshes its snapshot."""
    from gateway.app import create_app

    return await aiohttp_client(create_app(settings.model_copy(update={"snapshot_interval_s": 0.1})))


async def scrape(client) -> str:
    resp = await client.get("/metrics")
    assert resp.status == 200
    return await resp.text()


def value(text: str, name: str, **labels: str) -> float:
    """The sample's value, 0 when it is not exposed (a counter before its first increment)."""
    if not labels:
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    found = sample(text, name, **labels)
    return 0.0 if found is None else found


async def test_concurrent_ops_on_one_shard_are_one_batch_in_the_histogram(fast):
    counters = fast.app[actors_key]["counters"]
    route = f"metrics-{uuid.uuid4().hex}"
    # the shard's first call starts its actor (seconds): measured, but not what this test times
    await counters.call("add", f"{route}-warm", 1, route=route)
    before = await scrape(fast)
    # ten callers in one loop turn, all bound for one shard: one actor call carries them
    await asyncio.gather(*(counters.call("add", f"{route}-{i}", 1, route=route) for i in range(10)))
    after = await scrape(fast)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, kind="counters", **labels) - value(before, name, kind="counters", **labels)

    assert delta("roost_actor_ops_total") == 10
    assert delta("roost_actor_calls_total") == 1
    assert delta("roost_actor_batch_size_count") == 1
    assert delta("roost_actor_batch_size_sum") == 10
    # 10 ops: above the 8 bucket, inside the 16 one
    assert delta("roost_actor_batch_size_bucket", le="8") == 0
    assert delta("roost_actor_batch_size_bucket", le="16") == 1
    assert delta("roost_actor_call_duration_seconds_count") == 1
    took = delta("roost_actor_call_duration_seconds_sum")
    assert 0 < took < 5
    assert delta("roost_actor_call_failures_total") == 0


async def test_an_op_the_actor_refuses_counts_as_an_op_error_not_a_call_failure(fast):
    before = await scrape(fast)
    with pytest.raises(Exception, match="no method"):
        await fast.app[actors_key]["counters"].call("no_such_method", f"metrics-{uuid.uuid4().hex}")
    after = await scrape(fast)
    assert value(after, "roost_actor_op_errors_total", kind="counters") - value(
        before, "roost_actor_op_errors_total", kind="counters"
    ) == 1
    assert value(after, "roost_actor_call_failures_total", kind="counters") == value(
        before, "roost_actor_call_failures_total", kind="counters"
    )


async def test_a_call_to_a_dead_actor_counts_as_a_call_failure(fast):
    counters = fast.app[actors_key]["counters"]
    key = f"metrics-{uuid.uuid4().hex}"
    await counters.call("add", key, 1)  # the shard's actor exists and answers
    before = await scrape(fast)
    # killed for good: this client's handle now fails every call (a later client makes a new actor)
    kill_shard(counters, counters.shard_for(key), restart=False)

    async def failed() -> bool:
        try:
            await counters.call("add", key, 1)
        except Exception:
            return True
        return False  # ray.kill returns before the actor is dead

    await eventually(failed, timeout=30)
    after = await scrape(fast)
    assert value(after, "roost_actor_call_failures_total", kind="counters") - value(
        before, "roost_actor_call_failures_total", kind="counters"
    ) == 1


async def test_quota_requests_refill_a_lease_and_time_it(fast):
    user = await make_user(fast.app)
    token = await make_token(fast.app, user["id"], abilities=("read",))
    before = await scrape(fast)
    for _ in range(3):
        assert (await fast.get("/api/users/me", headers=bearer(token))).status == 200
    after = await scrape(fast)
    # a new user's first request waits for the first lease; the next two spend it locally
    assert value(after, "roost_lease_refills_total", kind="quota") - value(
        before, "roost_lease_refills_total", kind="quota"
    ) >= 1
    assert value(after, "roost_lease_refill_duration_seconds_count", kind="quota") >= 1
    assert value(after, "roost_lease_refill_failures_total", kind="quota") == 0
    # the quota kind's calls are in the actor families too
    assert value(after, "roost_actor_calls_total", kind="quota") >= 1


async def test_a_refreshed_feed_snapshot_reports_its_age(fast):
    event = await make_event(fast.app, (await make_tenant(fast.app))["id"])
    url = f"/api/v1/events/{event['guest_token']}/stats"
    before = await scrape(fast)
    assert (await fast.get(url)).status == 200  # the first snapshot: nothing replaced
    first = await scrape(fast)
    refreshes = value(first, "roost_snapshot_refreshes_total", kind="event_feed")
    assert refreshes - value(before, "roost_snapshot_refreshes_total", kind="event_feed") == 1
    ages = value(first, "roost_snapshot_age_at_refresh_seconds_count", kind="event_feed")
    await asyncio.sleep(0.3)
    # past the interval: this poll is answered from the old snapshot and starts a refresh
    assert (await fast.get(url)).status == 200

    async def refreshed() -> str | None:
        text = await scrape(fast)
        return text if value(text, "roost_snapshot_refreshes_total", kind="event_feed") == refreshes + 1 else None

    text = await eventually(refreshed)
    assert value(text, "roost_snapshot_age_at_refresh_seconds_count", kind="event_feed") == ages + 1
    # the replaced snapshot had lived at least the 0.3 s slept, and not minutes
    grew = value(text, "roost_snapshot_age_at_refresh_seconds_sum", kind="event_feed") - value(
        first, "roost_snapshot_age_at_refresh_seconds_sum", kind="event_feed"
    )
    assert 0.3 <= grew < 60


async def test_a_refreshed_meal_view_reports_its_age_on_the_apps_clock(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    clock = FakeClock()
    client = await aiohttp_client(create_app(settings, clock=clock))
    fam = await family(client)
    before = await scrape(client)
    await today(client, fam.viewer, pet_id=fam.pet_id)
    first = await scrape(client)
    clock.advance(4)  # past the 1 s interval: the next read refreshes the view
    await today(client, fam.viewer, pet_id=fam.pet_id)
    after = await scrape(client)

    def delta(text: str, since: str, name: str, **labels: str) -> float:
        return value(text, name, kind="meal_aggregate", **labels) - value(since, name, kind="meal_aggregate", **labels)

    assert delta(first, before, "roost_snapshot_refreshes_total") >= 1
    assert delta(first, before, "roost_snapshot_age_at_refresh_seconds_count") == 0  # nothing replaced yet
    replaced = delta(after, first, "roost_snapshot_age_at_refresh_seconds_count")
    assert replaced >= 1
    # each replaced view had lived exactly the 4 s the clock moved
    assert delta(after, first, "roost_snapshot_age_at_refresh_seconds_sum") == 4 * replaced
    assert delta(after, first, "roost_snapshot_age_at_refresh_seconds_bucket", le="3") == 0
    assert delta(after, first, "roost_snapshot_age_at_refresh_seconds_bucket", le="5") == replaced


async def _insert_job(pool, kind: str, *, status: str = "pending", attempts: int = 0, due_in_s: float = 0,
                      claimed: bool = True) -> int:
    # claimed by a live dispatch (fresh updated_at): the app's sweeper leaves the row alone
    return await pool.fetchval(
        """
        insert into jobs (kind, status, attempts, run_after, claimed_by, started_at)
        values ($1, $2, $3, now() + make_interval(secs => $4), $5,
                case when $2 = 'running' then now() - interval '40 seconds' end)
        returning id
        """,
        kind, status, attempts, due_in_s, "metrics-test" if claimed else None,
    )


async def test_queued_jobs_show_in_depth_and_oldest_age_per_kind_and_state(fast):
    pool = fast.app[pool_key]
    kind = f"metrics.test_{uuid.uuid4().hex[:8]}"
    ids = [
        await _insert_job(pool, kind, due_in_s=-30),  # due for 30 s
        await _insert_job(pool, kind, due_in_s=-5),
        await _insert_job(pool, kind, due_in_s=3600),  # not due: counts in depth, not in age
        await _insert_job(pool, kind, attempts=1, due_in_s=600),  # waiting for its retry
        await _insert_job(pool, kind, status="running", attempts=1),
    ]
    try:
        text = await scrape(fast)
    finally:
        await pool.execute("delete from jobs where id = any($1::bigint[])", ids)
    assert value(text, "roost_job_queue_query_success") == 1
    assert sample(text, "roost_job_queue_depth", kind=kind, state="pending") == 3
    assert sample(text, "roost_job_queue_depth", kind=kind, state="retry") == 1
    assert sample(text, "roost_job_queue_depth", kind=kind, state="running") == 1
    oldest = sample(text, "roost_job_queue_oldest_seconds", kind=kind, state="pending")
    assert oldest is not None and 30 <= oldest < 90
    assert sample(text, "roost_job_queue_oldest_seconds", kind=kind, state="retry") == 0  # none due
    running = sample(text, "roost_job_queue_oldest_seconds", kind=kind, state="running")
    assert running is not None and 40 <= running < 100
    # finished work is not queue depth
    assert (await scrape(fast)).count(kind) == 0


async def test_a_locked_jobs_table_costs_a_scrape_its_queue_not_its_answer(fast):
    layers = fast.app[metrics_key].layers
    layers.queue_timeout_s = 0.3
    pool = fast.app[pool_key]
    async with pool.acquire() as conn, conn.transaction():
        # an exclusive lock blocks even reads: the database as slow as it gets
        await conn.execute("lock table jobs in access exclusive mode")
        started = time.perf_counter()
        text = await scrape(fast)
        took = time.perf_counter() - started
    assert took < 2
    assert value(text, "roost_job_queue_query_success") == 0
    assert "roost_job_queue_depth{" not in text
    assert "roost_actor_calls_total" in text and "http_requests_total" in text

    async def recovered() -> bool:
        return value(await scrape(fast), "roost_job_queue_query_success") == 1

    await eventually(recovered)


async def test_a_retried_job_counts_one_retry_then_finishes(fast):
    runner = fast.app[jobs_key]
    job_id = await runner.submit("selftest.fail_times", {"times": 1}, max_attempts=3)
    job = await runner.wait(job_id, 60)
    assert job.status == "finished"

    async def counted() -> str | None:
        text = await scrape(fast)
        finished = value(text, "roost_job_outcomes_total", kind="selftest.fail_times", outcome="finished")
        return text if finished >= 1 else None

    text = await eventually(counted, timeout=10)
    assert value(text, "roost_job_retries_total", kind="selftest.fail_times") == 1
    assert value(text, "roost_job_outcomes_total", kind="selftest.fail_times", outcome="retry") == 1
    assert value(text, "roost_job_outcomes_total", kind="selftest.fail_times", outcome="failed") == 0
