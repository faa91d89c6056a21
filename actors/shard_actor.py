"""The thin Ray shell around a kind's state class. One actor per (kind, shard), never per entity.

Guarantees
- `call_batch(ops)` applies the ops in order, one batch at a time; each op's result or domain
  error goes back in its own slot, so one bad op fails only its caller.
- A batch's writes are committed to PostgreSQL before the batch is answered. If persisting fails,
  every op of that batch gets the error and the touched keys are dropped from memory (they reload).
- Nothing in memory is authoritative: after a restart (`max_restarts=-1`) keys reload lazily from
  PostgreSQL on first use. Calls in flight when the actor died fail with a Ray actor error; the
  caller decides whether its op is safe to retry (reads are; `add` is not).
- `stats()` and `ping()` are read-only and always safe to retry.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import ray

from actors.kinds import get_kind
from domain.errors import ServiceUnavailable
from storage.pool import create_pool

log = logging.getLogger(__name__)

Op = tuple[str, str, tuple]  # (method, key, args)


@ray.remote(num_cpus=0, max_restarts=-1)
class ShardActor:
    def __init__(self, kind: str, shard: int, dsn: str) -> None:
        spec = get_kind(kind)
        self._kind = kind
        self._shard = shard
        self._dsn = dsn
        self._state = spec.state()
        self._persistence = spec.persistence(kind)
        self._pool = None
        # Batches run one at a time so that load -> apply -> persist is atomic per batch.
        self._lock = asyncio.Lock()
        self._batches = 0
        self._ops = 0

    async def _conn_pool(self):
        if self._pool is None:
            # Two connections: the shard writes one batch at a time; the second covers a reload.
            self._pool = await create_pool(self._dsn, min_size=1, max_size=2)
        return self._pool

    async def call_batch(self, ops: list[Op]) -> list[tuple[bool, Any]]:
        async with self._lock:
            self._batches += 1
            self._ops += len(ops)
            pool = await self._conn_pool()
            missing = sorted({key for _, key, _ in ops if not self._state.loaded(key)})
            if missing:
                async with pool.acquire() as conn:
                    stored = await self._persistence.load(conn, missing)
                for key in missing:
                    self._state.restore(key, stored.get(key))
            results: list[tuple[bool, Any]] = []
            for method, key, args in ops:
                try:
                    results.append((True, self._state.apply(method, key, tuple(args))))
                except Exception as exc:  # an op's failure belongs to its caller alone
                    results.append((False, exc))
            writes = self._state.take_writes()
            if writes:
                try:
                    async with pool.acquire() as conn:
                        await self._persistence.save(conn, writes)
                except Exception:
                    log.exception("shard persist failed", extra={"kind": self._kind, "shard": self._shard})
                    self._state.forget({key for _, key, _ in ops})
                    err = ServiceUnavailable("State could not be saved; retry.", code="state_not_saved")
                    return [(False, err)] * len(ops)
            return results

    async def stats(self) -> dict[str, int]:
        return {"batches": self._batches, "ops": self._ops, "pid": os.getpid()}

    async def ping(self) -> tuple[str, int]:
        return self._kind, self._shard
