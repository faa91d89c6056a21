"""The gateway side of the actor hop: one call per shard per batch, not one per request.

An actor call costs about a millisecond here while a request is worth tens of microseconds, so
concurrent callers that target the same shard share one `call_batch`. A batch is sent when it
holds `max_batch` ops, else on the next loop turn when the shard has no batch in flight, else
`max_wait_s` after its first op; results come back in order and each caller gets its own slot
(value or exception).

Two options per op. `route` names the key whose shard gets the op (default: the op's own key), so
entities that change together (a pet and its group) live on one shard and one write is one call.
`linger_s` lets an op nobody waits on (a notification after a commit) wait that long for company;
any op without it that joins the batch sends it at once, so a read never waits behind a linger and
sees every op queued before it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, cast

import ray
from ray.actor import ActorClass

from actors.metering import ActorMeters
from actors.shard_actor import ShardActor
from actors.sharding import actor_name, shard_of

log = logging.getLogger(__name__)

# What @ray.remote made of the class: mypy does not apply class decorators, so it says so here
SHARD_ACTOR = cast(ActorClass[ShardActor], ShardActor)


@dataclass
class _Pending:
    ops: list[tuple[str, str, tuple]] = field(default_factory=list)
    futures: list[asyncio.Future] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None
    due: float = 0.0  # loop time the timer fires at


@dataclass
class ClientStats:
    ops: int = 0
    actor_calls: int = 0
    # batch sizes, call latency, failures, leases and snapshots, for /metrics
    meters: ActorMeters = field(default_factory=ActorMeters)


class ShardClient:
    def __init__(
        self,
        kind: str,
        *,
        shards: int,
        dsn: str,
        namespace: str,
        max_batch: int = 256,
        max_wait_s: float = 0.001,
    ) -> None:
        self.kind = kind
        self.shards = shards
        self._dsn = dsn
        self._namespace = namespace
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._handles: list[Any] = [None] * shards
        self._pending: dict[int, _Pending] = {}
        self._inflight: set[asyncio.Task] = set()
        self._busy: set[int] = set()  # shards with a batch in flight
        self.stats = ClientStats()

    def shard_for(self, key: str) -> int:
        return shard_of(key, self.shards)

    def handle(self, shard: int):
        """The named shard actor, created on first use by whichever process gets there first."""
        h = self._handles[shard]
        if h is None:
            h = SHARD_ACTOR.options(
                name=actor_name(self.kind, shard),
                namespace=self._namespace,
                get_if_exists=True,
                # Shared by every gateway replica: it must outlive the process that created it.
                lifetime="detached",
            ).remote(self.kind, shard, self._dsn)
            self._handles[shard] = h
        return h

    async def start(self) -> None:
        """Resolve every shard's handle off the event loop (the first lookup talks to the GCS)."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, self.handle, s) for s in range(self.shards)))

    async def call(self, method: str, key: str, *args: Any, route: str | None = None,
                   linger_s: float | None = None) -> Any:
        """One op on `key`'s entity, coalesced with concurrent ops bound for the same shard
        (`route`'s shard when given); `linger_s` for an op whose caller is in no hurry."""
        loop = asyncio.get_running_loop()
        shard = self.shard_for(route or key)
        pending = self._pending.get(shard)
        if pending is None:
            pending = self._pending[shard] = _Pending()
        fut = loop.create_future()
        pending.ops.append((method, key, args))
        pending.futures.append(fut)
        self.stats.ops += 1
        if len(pending.ops) >= self._max_batch:
            self._flush(shard)
        else:
            # An idle shard gets the batch on the next loop turn (everything queued in this turn
            # goes with it); while one is in flight, later ops wait up to max_wait_s to share one.
            if linger_s is None:
                delay = self._max_wait_s if shard in self._busy else 0
            else:
                delay = linger_s
            due = loop.time() + delay
            if pending.timer is None or due < pending.due:
                if pending.timer is not None:
                    pending.timer.cancel()
                pending.timer = loop.call_at(due, self._flush, shard)
                pending.due = due
        return await fut

    async def call_unbatched(self, method: str, key: str, *args: Any) -> Any:
        """One actor call for one op: the naive path, kept for the benchmark and for comparison."""
        self.stats.ops += 1
        self.stats.actor_calls += 1
        ((ok, value),) = await self.handle(self.shard_for(key)).call_batch.remote([(method, key, args)])
        if not ok:
            raise value
        return value

    async def shard_stats(self) -> list[dict[str, int]]:
        return list(await asyncio.gather(*(self.handle(s).stats.remote() for s in range(self.shards))))

    def _flush(self, shard: int) -> None:
        pending = self._pending.pop(shard, None)
        if pending is None:
            return
        if pending.timer is not None:
            pending.timer.cancel()
        task = asyncio.get_running_loop().create_task(self._send(shard, pending))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _send(self, shard: int, pending: _Pending) -> None:
        self.stats.actor_calls += 1
        meters = self.stats.meters
        meters.batch.observe(len(pending.ops))
        self._busy.add(shard)
        started = time.perf_counter()
        try:
            results = await self.handle(shard).call_batch.remote(pending.ops)
        except BaseException as exc:  # the whole call failed: every op of this batch, no others
            if isinstance(exc, Exception):  # a cancellation (shutdown) is no failed call
                meters.call_failures += 1
            for fut in pending.futures:
                if not fut.done():
                    fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._busy.discard(shard)
            meters.latency.observe(time.perf_counter() - started)
        for fut, (ok, value) in zip(pending.futures, results, strict=True):
            if not ok:
                meters.op_errors += 1
            if fut.done():  # the caller gave up (cancelled); nothing to deliver
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

    async def close(self) -> None:
        for shard in list(self._pending):
            self._flush(shard)
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)


def kill_shard(client: ShardClient, shard: int, *, restart: bool = True) -> None:
    """Operator/test helper: kill a shard actor; with restart it comes back empty and reloads."""
    ray.kill(client.handle(shard), no_restart=not restart)
