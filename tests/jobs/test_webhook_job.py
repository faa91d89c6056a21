"""`webhooks.process` on the real runtime: a worker killed in the middle of applying an event is
re-run and the effect happens once; a re-run after the commit changes nothing."""

from __future__ import annotations

import os
import re
import signal
import uuid

import asyncpg
import orjson
import pytest

from domain.webhooks import Provider, Scheme, Verified, parse_delivery, store_delivery
from jobs.runtime import JobRunner
from tests.revenuecat_fakes import rc_event
from tests.waiting import eventually

WAIT_S = 60.0


async def _tenant(pool: asyncpg.Pool) -> int:
    slug = f"t-{uuid.uuid4().hex[:12]}"
    return await pool.fetchval(
        "insert into tenants (name, slug, package_id) values ($1, $1, (select id from packages where slug = 'free'))"
        " returning id",
        slug,
    )


async def _store(pool: asyncpg.Pool, tenant_id: int) -> tuple[int, int, str]:
    document = rc_event(tenant_id, product_id="roost.credits.50", price=39.99)
    delivery = parse_delivery(Provider.REVENUECAT, orjson.dumps(document))
    received = await store_delivery(pool, delivery, Verified(Scheme.SHA256, None), accept_sandbox=True)
    assert received.created and received.job_id is not None
    return received.webhook_event_id, received.job_id, delivery.event_id


async def _effects(pool: asyncpg.Pool, tenant_id: int) -> tuple[int, int, int]:
    entries = await pool.fetchval("select count(*) from ledger_entries where tenant_id = $1", tenant_id)
    credits = await pool.fetchval("select credits from tenant_accounts where tenant_id = $1", tenant_id)
    purchases = await pool.fetchval("select count(*) from purchases where tenant_id = $1", tenant_id)
    return entries, credits, purchases


@pytest.mark.skipif(
    os.environ.get("RAY_ADDRESS", "local") != "local", reason="kills a local Ray worker process by its pid"
)
async def test_a_worker_killed_mid_processing_is_rerun_and_the_effect_happens_once(runner: JobRunner, pool):
    tenant_id = await _tenant(pool)
    await pool.execute("insert into tenant_accounts (tenant_id) values ($1)", tenant_id)
    blocker = await pool.acquire()
    try:
        # hold the tenant's ledger lock, so the job stops in the middle of its transaction: the
        # webhook row locked, the purchase written, the ledger entry not yet
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute("select 1 from tenant_accounts where tenant_id = $1 for update", tenant_id)
        row_id, job_id, event_id = await _store(pool, tenant_id)
        await runner.dispatch(job_id)

        async def waiting_worker() -> int | None:
            name = await pool.fetchval(
                "select application_name from pg_stat_activity where application_name like $1"
                " and wait_event_type = 'Lock'",
                f"roost job {job_id} pid %",
            )
            return int(re.search(r"pid (\d+)$", name).group(1)) if name else None

        pid = await eventually(waiting_worker, timeout=WAIT_S, interval=0.05, what="the job blocked on the lock")
        os.kill(pid, signal.SIGKILL)
        await tx.rollback()
    finally:
        await pool.release(blocker)

    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("finished", 2), job.error
    row = await pool.fetchrow("select status, outcome from webhook_events where id = $1", row_id)
    assert (row["status"], row["outcome"]) == ("processed", "credited")
    assert await _effects(pool, tenant_id) == (1, 50, 1)
    assert await pool.fetchval("select source from ledger_entries where tenant_id = $1", tenant_id) == (
        f"revenuecat:{event_id}"
    )


async def test_a_rerun_after_the_commit_changes_nothing(runner: JobRunner, pool):
    tenant_id = await _tenant(pool)
    row_id, job_id, _ = await _store(pool, tenant_id)
    await runner.dispatch(job_id)
    job = await runner.wait(job_id, WAIT_S)
    assert job.status == "finished" and job.result["outcome"] == "credited"
    assert await _effects(pool, tenant_id) == (1, 50, 1)

    # as if the worker had died after its commit but before the job row said finished
    await pool.execute(
        "update jobs set status = 'pending', claimed_by = null, finished_at = null, result = null where id = $1", job_id
    )
    assert await runner.sweep_once() >= 1
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.result["outcome"]) == ("finished", "already processed")
    assert await _effects(pool, tenant_id) == (1, 50, 1)


async def test_a_bad_payload_fails_without_retry(runner: JobRunner):
    job_id = await runner.submit("webhooks.process", {"nothing": 1}, max_attempts=5)
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.error.startswith("PermanentJobError: bad webhooks.process payload")
