"""The batching client and the shard actors, with real Ray and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
import ray

from actors.client import kill_shard
from domain.errors import Invalid
from tests.actors.conftest import keys_on_shard
from tests.waiting import eventually


async def test_concurrent_calls_coalesce_into_few_actor_calls(counters, keyspace):
    keys = keys_on_shard(counters, 0, keyspace, 200)
    before_calls = counters.stats.actor_calls
    before = (await counters.shard_stats())[0]["batches"]
    # every caller adds its own delta to its own key and must get exactly that back
    results = await asyncio.gather(*(counters.call("add", k, i + 1) for i, k in enumerate(keys)))
    assert results == [i + 1 for i in range(200)]
    client_calls = counters.stats.actor_calls - before_calls
    actor_batches = (await counters.shard_stats())[0]["batches"] - before
    assert client_calls <= 5, client_calls  # 200 ops, far fewer hops
    assert actor_batches == client_calls


async def test_route_puts_an_op_on_the_routes_shard(counters, keyspace):
    key = keys_on_shard(counters, 0, keyspace, 1)[0]
    route = keys_on_shard(counters, 1, keyspace + "-route", 1)[0]
    before = [s["batches"] for s in await counters.shard_stats()]
    assert await counters.call("add", key, 7, route=route) == 7
    assert await counters.call("get", key, route=route) == 7
    after = [s["batches"] for s in await counters.shard_stats()]
    assert (after[0] - before[0], after[1] - before[1]) == (0, 2)


async def test_a_lingering_op_waits_and_the_next_prompt_op_takes_it_along(counters, keyspace):
    key = keys_on_shard(counters, 2, keyspace, 1)[0]
    before = counters.stats.actor_calls
    told = asyncio.ensure_future(counters.call("add", key, 3, linger_s=30.0))
    await asyncio.sleep(0.2)
    assert not told.done() and counters.stats.actor_calls == before
    # a read of the same shard goes at once and carries the waiting op ahead of it, in order
    assert await counters.call("get", key) == 3
    assert await told == 3
    assert counters.stats.actor_calls == before + 1


async def test_batch_is_flushed_when_full(counters, keyspace):
    counters._max_batch = 50
    keys = keys_on_shard(counters, 1, keyspace, 200)
    before = counters.stats.actor_calls
    await asyncio.gather(*(counters.call("get", k) for k in keys))
    assert counters.stats.actor_calls - before == 4


async def test_results_route_back_across_shards(counters, keyspace):
    keys = [f"{keyspace}:{i}" for i in range(64)]
    await asyncio.gather(*(counters.call("add", k, 10 * i) for i, k in enumerate(keys)))
    values = await asyncio.gather(*(counters.call("get", k) for k in keys))
    assert values == [10 * i for i in range(64)]
    assert len({counters.shard_for(k) for k in keys}) == counters.shards


async def test_an_op_error_reaches_only_its_caller(counters, keyspace):
    keys = keys_on_shard(counters, 2, keyspace, 10)
    calls = [
        counters.call("take_up_to", k, -1 if i % 3 == 0 else 1, 100) for i, k in enumerate(keys)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    for i, result in enumerate(results):
        if i % 3 == 0:
            assert isinstance(result, Invalid), result
            assert result.code == "invalid_want"
        else:
            assert result == 1


async def test_unbatched_path_is_one_actor_call_per_op(counters, keyspace):
    keys = keys_on_shard(counters, 0, keyspace, 8)
    before = counters.stats.actor_calls
    values = await asyncio.gather(*(counters.call_unbatched("add", k, 2) for k in keys))
    assert values == [2] * 8
    assert counters.stats.actor_calls - before == 8
    with pytest.raises(Invalid):
        await counters.call_unbatched("add", keys[0], "x")


async def test_writes_are_committed_before_they_are_acknowledged(counters, keyspace, pool):
    key = f"{keyspace}:durable"
    assert await counters.call("add", key, 41) == 41
    stored = await pool.fetchval("select value from actor_counters where kind = 'counters' and key = $1", key)
    assert stored == 41


async def test_killed_shard_restarts_and_reloads_from_postgres(counters, keyspace):
    keys = keys_on_shard(counters, 3, keyspace, 5)
    await asyncio.gather(*(counters.call("add", k, 7) for k in keys))
    old_pid = (await counters.shard_stats())[3]["pid"]

    kill_shard(counters, 3, restart=True)

    # ray.kill returns before the actor is dead: wait until a new process answers as shard 3.
    async def restarted() -> dict | None:
        try:
            stats = await counters.handle(3).stats.remote()
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
            return None  # still down
        return stats if stats["pid"] != old_pid else None

    stats = await eventually(restarted, timeout=60, interval=0.2, what="shard 3 coming back")
    # The restarted actor starts empty; values come back from PostgreSQL on first use.
    assert stats["batches"] == 0
    values = await asyncio.gather(*(counters.call("get", k) for k in keys))
    assert values == [7] * 5
    assert await counters.call("add", keys[0], 1) == 8
