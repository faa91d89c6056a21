"""actor_hop: N concurrent requests that each need one shard call, batched versus one call each.

All N keys live on one shard, the case batching is for: the batching client turns the N ops into
about one `call_batch`, the naive path makes N actor calls. The method is "get", a pure read once
a key is loaded, so the numbers are the hop's cost and not PostgreSQL's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from loadtests.progress import progress, warn
from loadtests.registry import BenchContext, InProcessScenario, register
from loadtests.results import actor_hop_line
from loadtests.services import sigterm_as_interrupt

# A few shards, as the gateway runs (ROOST_SHARDS defaults to 4); only shard 0 is loaded.
SHARDS = 4
TARGET_SHARD = 0
# Ray gets both cores: the shard actors reserve none, so this only sizes its worker pool.
RAY_CPUS = 2
WARMUP_ROUNDS = 5
# The acceptance bar at 64 concurrent requests.
TARGET_RATIO = 10.0

Call = Callable[..., Awaitable[Any]]


def keys_on_shard(shard_for: Callable[[str], int], shard: int, n: int) -> list[str]:
    keys: list[str] = []
    i = 0
    while len(keys) < n:
        key = f"bench-hop:{i}"
        if shard_for(key) == shard:
            keys.append(key)
        i += 1
    return keys


async def _round(call: Call, keys: list[str]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(call("get", key) for key in keys))
    return time.perf_counter() - start


def _client_defaults() -> tuple[int, float]:
    """The gateway's own batching settings, so the bench measures what production runs."""
    from domain.settings import Settings

    fields = Settings.model_fields
    return fields["actor_batch_max"].default, fields["actor_batch_wait_ms"].default / 1000


async def _measure(ctx: BenchContext) -> dict[str, Any]:
    from actors.client import ShardClient, kill_shard

    n, rounds = ctx.config.concurrency, ctx.config.hop_rounds
    max_batch, max_wait_s = _client_defaults()
    client = ShardClient(
        "counters",
        shards=SHARDS,
        dsn=ctx.database_url,
        namespace=ctx.namespace,
        max_batch=max_batch,
        max_wait_s=max_wait_s,
    )
    await client.start()
    try:
        keys = keys_on_shard(client.shard_for, TARGET_SHARD, n)
        # The first touch loads each key from PostgreSQL; after it "get" never leaves the actor.
        await asyncio.gather(*(client.call("get", k) for k in keys))
        for _ in range(WARMUP_ROUNDS):
            await _round(client.call, keys)
            await _round(client.call_unbatched, keys)
        progress(f"actor_hop: {rounds} rounds of {n} concurrent gets on shard {TARGET_SHARD}, each path")
        batched_s = naive_s = 0.0
        batched_calls = naive_calls = 0
        for i in range(rounds):
            # Alternate which path goes first so neither always runs right after the other.
            for path in ("batched", "naive") if i % 2 == 0 else ("naive", "batched"):
                before = client.stats.actor_calls
                if path == "batched":
                    batched_s += await _round(client.call, keys)
                    batched_calls += client.stats.actor_calls - before
                else:
                    naive_s += await _round(client.call_unbatched, keys)
                    naive_calls += client.stats.actor_calls - before
    finally:
        await client.close()
        # Shard actors are detached; on a shared cluster (RAY_ADDRESS) they would outlive this run.
        for shard in range(SHARDS):
            kill_shard(client, shard, restart=False)
    return actor_hop_line(
        concurrency=n,
        rounds=rounds,
        batched_s=batched_s,
        naive_s=naive_s,
        actor_calls_batched=batched_calls,
        actor_calls_naive=naive_calls,
    )


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """uvloop when installed, as the gateway runs: the batch timer's precision is the loop's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def run(ctx: BenchContext) -> dict[str, Any]:
    from actors.runtime import connect_ray, disconnect_ray

    progress("actor_hop: starting Ray")
    connect_ray(ctx.ray_address, namespace=ctx.namespace, num_cpus=RAY_CPUS)
    try:
        sigterm_as_interrupt()  # take SIGTERM back from Ray, so a stop still cleans up
        line = _event_loop_runner()(_measure(ctx))
    finally:
        disconnect_ray()
    if ctx.config.concurrency >= 64 and line["ratio"] < TARGET_RATIO:
        warn(f"actor_hop: batched is only {line['ratio']}x cheaper than naive (target {TARGET_RATIO:.0f}x)")
    return line


register(InProcessScenario(name="actor_hop", run=run))
