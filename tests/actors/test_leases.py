"""Leases over a real shard actor: local spending, early refill, and never more than the budget."""

from __future__ import annotations

import asyncio

import ray

from actors.client import kill_shard
from actors.leases import LeaseClient
from tests.clock import FakeClock
from tests.waiting import eventually


async def stored(pool, key: str) -> int:
    return await pool.fetchval("select value from actor_counters where kind = 'counters' and key = $1", key) or 0


async def test_spends_locally_and_stops_at_the_limit(counters, keyspace, pool):
    leases = LeaseClient(counters, lease_size=4, refill_below=1)
    key = f"{keyspace}:budget"
    before = counters.stats.actor_calls
    granted = [await leases.take(key, 10) for _ in range(15)]
    assert granted == [True] * 10 + [False] * 5
    # 10 units in leases of 4: a handful of refills, not one hop per take
    assert counters.stats.actor_calls - before <= 5
    assert await stored(pool, key) == 10


async def test_refill_starts_before_the_lease_is_empty(counters, keyspace):
    leases = LeaseClient(counters, lease_size=10, refill_below=5)
    key = f"{keyspace}:early"
    assert await leases.take(key, 1000)  # first take waits for the first lease
    for _ in range(4):
        assert await leases.take(key, 1000)
    # remaining dropped to 5: a refill is under way without anyone waiting on it
    assert leases.local_remaining(key) == 5
    await eventually(lambda: leases.local_remaining(key) > 5, what="the background refill")


async def test_concurrent_takes_never_exceed_the_limit(counters, keyspace, pool):
    leases = LeaseClient(counters, lease_size=8, refill_below=2)
    key = f"{keyspace}:concurrent"
    results = await asyncio.gather(*(leases.take(key, 25) for _ in range(100)))
    assert sum(results) == 25
    assert await stored(pool, key) == 25


async def test_exhausted_budget_is_rechecked_after_ttl(counters, keyspace):
    clock = FakeClock()
    leases = LeaseClient(counters, lease_size=4, refill_below=1, exhausted_ttl_s=0.05, clock=clock.monotonic)
    key = f"{keyspace}:raised"
    assert sum([await leases.take(key, 3) for _ in range(5)]) == 3
    # the limit was raised (quota settings change at runtime), but the lease still believes the
    # budget spent until its TTL has passed; then new units become available
    assert not await leases.take(key, 5)
    clock.advance(0.05)
    assert await leases.take(key, 5)


async def test_a_killed_actor_can_lose_units_but_never_over_grant(counters, keyspace, pool):
    leases = LeaseClient(counters, lease_size=5, refill_below=2)
    key = f"{keyspace}:crash"
    limit = 40
    shard = counters.shard_for(key)

    async def one() -> bool:
        try:
            return await leases.take(key, limit)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
            return False  # a refill lost with the actor: the request is refused, not granted

    first = await asyncio.gather(*(one() for _ in range(30)))
    kill_shard(counters, shard, restart=True)
    second = await asyncio.gather(*(one() for _ in range(60)))
    # a fresh gateway view after the crash (its leases lost) keeps counting from PostgreSQL
    fresh = LeaseClient(counters, lease_size=5, refill_below=2)
    third = []
    for _ in range(30):
        try:
            third.append(await fresh.take(key, limit))
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
            await asyncio.sleep(0.2)
    granted = sum(first) + sum(second) + sum(third)
    assert granted <= limit
    assert await stored(pool, key) <= limit


async def test_a_busy_key_gets_bigger_leases_and_fewer_actor_calls(counters, keyspace):
    leases = LeaseClient(counters, lease_size=4, refill_below=1, max_lease_size=256, lease_target_s=1.0)
    key = f"{keyspace}:busy"
    before = counters.stats.actor_calls
    for _ in range(400):
        assert await leases.take(key, 10_000)
    calls = counters.stats.actor_calls - before
    # fixed leases of 4 would need about 100 calls; adaptive ones grow towards 256
    assert calls < 30, calls
    assert leases.local_remaining(key) <= 256


async def test_adaptive_leases_still_stop_at_the_limit(counters, keyspace, pool):
    leases = LeaseClient(counters, lease_size=4, refill_below=1, max_lease_size=64)
    key = f"{keyspace}:adaptive-limit"
    results = [await leases.take(key, 100) for _ in range(150)]
    assert sum(results) == 100
    assert await stored(pool, key) == 100
