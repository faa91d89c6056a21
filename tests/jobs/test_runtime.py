"""The job runtime end to end: real PostgreSQL rows, real Ray tasks, test-only handlers."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import pytest

from jobs.runtime import JobRunner
from jobs.worker import RunPolicy, run_job
from storage import jobs as store
from storage.jobs import Job
from tests.waiting import eventually

from .conftest import MakeRunner

WAIT_S = 30.0


async def _watch_statuses(runner: JobRunner, job_id: int, timeout: float = WAIT_S) -> list[Job]:
    """Every distinct state the row is seen in, polled every 10 ms until it is done."""
    seen: list[Job] = []

    async def done() -> bool:
        job = await runner.get(job_id)
        assert job is not None
        if not seen or (job.status, job.attempts, job.error) != (
            seen[-1].status,
            seen[-1].attempts,
            seen[-1].error,
        ):
            seen.append(job)
        return job.done

    await eventually(done, timeout=timeout, interval=0.01, what=f"job {job_id} finishing")
    return seen


async def _running(runner: JobRunner, job_id: int) -> Job:
    async def running() -> Job | None:
        job = await runner.get(job_id)
        return job if job is not None and job.status == "running" else None

    return await eventually(running, timeout=WAIT_S, interval=0.01, what=f"job {job_id} running")


async def test_echo_runs_pending_running_finished(runner: JobRunner):
    job_id = await runner.submit("selftest.echo", {"hello": "world", "sleep_s": 0.3})
    seen = await _watch_statuses(runner, job_id)
    statuses = [j.status for j in seen]
    assert statuses[-2:] == ["running", "finished"]
    assert statuses[0] in ("pending", "running")
    job = seen[-1]
    assert job.result == {"hello": "world", "sleep_s": 0.3}
    assert job.attempts == 1 and job.error is None
    assert job.created_at <= job.started_at < job.finished_at


async def test_a_never_dispatched_pending_job_is_swept(runner: JobRunner, pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        job_id, created = await store.insert(conn, "selftest.db_now", {}, max_attempts=3)
    assert created
    job = await runner.get(job_id)
    assert (job.status, job.attempts, job.claimed_by) == ("pending", 0, None)

    assert await runner.sweep_once() >= 1
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts, job.result) == ("finished", 1, {"rows": 1})


async def test_failures_are_retried_with_backoff_then_finish(make_runner: MakeRunner):
    # A slower backoff than the other tests, so the pending-with-error state is observable.
    runner = await make_runner(backoff_base_s=0.3, backoff_cap_s=1.0)
    started = time.monotonic()
    job_id = await runner.submit("selftest.fail_times", {"times": 2}, max_attempts=5)
    seen = await _watch_statuses(runner, job_id)
    elapsed = time.monotonic() - started

    job = seen[-1]
    assert (job.status, job.attempts, job.result) == ("finished", 3, {"attempt": 3})
    waiting = [j for j in seen if j.status == "pending" and j.attempts > 0]
    assert waiting, f"never saw the job waiting for a retry: {[(j.status, j.attempts) for j in seen]}"
    assert all("planned failure" in j.error and j.claimed_by is None for j in waiting)
    assert all(j.run_after > j.updated_at for j in waiting)  # backoff: due later than it failed
    # jittered backoff is at least half the full delay: 0.15 s after attempt 1, 0.3 s after 2
    assert elapsed >= 0.45
    assert job.run_after > job.created_at


async def test_failures_beyond_max_attempts_fail_the_job(runner: JobRunner):
    job_id = await runner.submit("selftest.fail_times", {"times": 10}, max_attempts=3)
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("failed", 3)
    assert job.error == "RuntimeError: planned failure 3 of 10"
    assert job.finished_at is not None and job.result is None


@pytest.mark.parametrize("kind", ["nope.missing", "selftest.missing"])
async def test_unknown_kind_fails_without_retry(runner: JobRunner, kind: str):
    job_id = await runner.submit(kind, {}, max_attempts=5)
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("failed", 1)
    assert "unknown job kind" in job.error and kind in job.error


async def test_permanent_error_fails_without_retry(runner: JobRunner):
    job_id = await runner.submit("selftest.reject", {}, max_attempts=5)
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts, job.error) == ("failed", 1, "PermanentJobError: rejected on purpose")


async def test_a_job_whose_worker_dies_is_retried_and_finishes_once(runner: JobRunner, settings):
    job_id = await runner.submit("selftest.die_once", {})
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts, job.error) == ("finished", 2, None)
    assert job.result["attempt"] == 2
    finished_at = job.finished_at

    # Dispatching it again, or replaying the very task Ray retried (same token), runs nothing.
    assert not await runner.dispatch(job_id)
    report = await run_job.remote(job_id, job.claimed_by, settings.database_url, RunPolicy())
    assert report["outcome"] == "skipped"
    await runner.sweep_once()
    job = await runner.get(job_id)
    assert (job.status, job.attempts, job.finished_at) == ("finished", 2, finished_at)


async def test_a_job_whose_worker_always_dies_fails_after_max_attempts(make_runner: MakeRunner):
    # Ray retries once per dispatch; the runner counts each started attempt against max_attempts.
    runner = await make_runner(ray_max_retries=1)
    job_id = await runner.submit("selftest.die_always", {}, max_attempts=3)
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("failed", 3)
    # the third attempt's worker died too, and its Ray retry found no attempts left
    assert job.error.startswith("gave up after 3 attempts")
    assert "WorkerCrashedError" in job.error  # what the runner recorded for the first dispatch


async def test_an_orphaned_running_job_is_swept_and_finishes(runner: JobRunner, pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        job_id = await conn.fetchval(
            """
            insert into jobs (kind, payload, status, attempts, claimed_by, started_at, updated_at)
            values ('selftest.echo', '{"n": 1}', 'running', 1, 'dead-process', now() - interval '1 hour',
                    now() - interval '1 hour')
            returning id
            """
        )
    assert await runner.sweep_once() >= 1
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts, job.result) == ("finished", 2, {"n": 1})
    assert job.claimed_by != "dead-process"


async def test_a_live_job_is_not_swept_or_dispatched_twice(make_runner: MakeRunner, settings):
    # Beats every 0.15 s; the job runs several stale periods long.
    runner = await make_runner(stale_after_s=0.6)
    job_id = await runner.submit("selftest.echo", {"sleep_s": 1.5})
    first = await _running(runner, job_id)

    other = await run_job.remote(job_id, uuid.uuid4().hex, settings.database_url, RunPolicy())
    assert other["outcome"] == "skipped"
    for _ in range(4):
        await asyncio.sleep(0.3)
        assert not await runner.dispatch(job_id)
        await runner.sweep_once()

    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts, job.claimed_by) == ("finished", 1, first.claimed_by)
    assert job.updated_at > first.updated_at


async def test_an_attempt_that_lost_its_claim_stops_and_the_sweeper_takes_over(
    make_runner: MakeRunner, pool: asyncpg.Pool
):
    runner = await make_runner(stale_after_s=0.6)
    job_id = await runner.submit("selftest.echo", {"sleep_s": 1.0})
    await _running(runner, job_id)
    # As if a sweeper had judged the owner dead and given the job to a dispatch that then vanished.
    async with pool.acquire() as conn:
        await conn.execute("update jobs set claimed_by = 'vanished' where id = $1", job_id)

    await asyncio.sleep(0.8)  # past the stale limit: the first attempt's beats no longer count
    assert (await runner.get(job_id)).claimed_by == "vanished"
    assert await runner.sweep_once() >= 1
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("finished", 2)


async def test_idempotency_key_queues_one_job(runner: JobRunner, pool: asyncpg.Pool):
    key = f"test-{uuid.uuid4().hex}"
    ids = await asyncio.gather(*(runner.submit("selftest.echo", {"k": key}, idempotency_key=key) for _ in range(5)))
    assert len(set(ids)) == 1
    assert await runner.submit("selftest.echo", {"other": True}, idempotency_key=key) == ids[0]
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from jobs where idempotency_key = $1", key) == 1
    job = await runner.wait(ids[0], WAIT_S)
    assert (job.status, job.attempts, job.result) == ("finished", 1, {"k": key})


async def test_background_loop_survives_and_dispatches(make_runner: MakeRunner, pool: asyncpg.Pool):
    runner = await make_runner(sweep_interval_s=0.1)
    runner.start()
    async with pool.acquire() as conn:
        job_id, _ = await store.insert(conn, "selftest.echo", {"loop": 1}, max_attempts=2)
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.result) == ("finished", {"loop": 1})


async def test_wait_times_out_and_unknown_ids_raise(runner: JobRunner):
    job_id = await runner.submit("selftest.echo", {"sleep_s": 1.0})
    with pytest.raises(TimeoutError):
        await runner.wait(job_id, 0.1)
    with pytest.raises(LookupError):
        await runner.wait(-1, 1.0)
    assert await runner.get(-1) is None
    await runner.wait(job_id, WAIT_S)


async def test_invalid_max_attempts_is_a_domain_error(runner: JobRunner):
    from domain.errors import Invalid

    with pytest.raises(Invalid):
        await runner.submit("selftest.echo", {}, max_attempts=0)
