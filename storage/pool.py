"""The asyncpg pool, with JSON codecs registered once per connection and first-come-first-served
waits for a connection."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy


def _encode_json(value) -> str:
    return orjson.dumps(value).decode()


async def init_connection(conn: asyncpg.Connection) -> None:
    # jsonb and json both round-trip Python values; orjson because the feeds and job payloads are hot.
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, schema="pg_catalog", encoder=_encode_json, decoder=orjson.loads, format="text"
        )


class FairPool(asyncpg.Pool):
    """An asyncpg pool whose waiters are served in the order they came.

    asyncpg hands connections out through an asyncio queue, which is not fair: a released
    connection is put back and the first waiter woken, but any task that runs before the woken one
    (a request whose socket turned readable in the same loop iteration, say) finds the connection
    there and takes it, and the woken waiter, finding the queue empty, goes to the *back* of the
    line. Under concurrency a few requests wait many times over: with 64 concurrent requests on
    10 connections `GET /user/me` had a p99 eight times its median. A FIFO semaphore of the pool's
    size in front of the queue fixes the order (asyncio.Semaphore queues a newcomer behind any
    waiter and hands a released permit straight to the first one), and a task that holds a permit
    always finds a connection in the queue, or one on its way back.

    Only `_acquire` and `release` are overridden; every acquire path (`acquire()`, `async with`,
    `fetch` and the other shortcuts) goes through them. tests/storage/test_pool.py holds the
    permits' bookkeeping and the order.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turns = asyncio.Semaphore(self._maxsize)

    async def _acquire(self, timeout: float | None) -> PoolConnectionProxy:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        if deadline is None:
            await self._turns.acquire()
        else:
            async with asyncio.timeout_at(deadline):
                await self._turns.acquire()
        try:
            left = None if deadline is None else max(deadline - loop.time(), 0.0)
            return await super()._acquire(left)
        except BaseException:
            self._turns.release()
            raise

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:
        # A connection that is not ours, or already released, holds no permit: asyncpg refuses the
        # first and ignores the second.
        held = (
            type(connection) is PoolConnectionProxy and connection._holder._pool is self and connection._con is not None
        )
        try:
            await super().release(connection, timeout=timeout)
        finally:
            # after the holder is back in the queue (asyncpg puts it there before returning), or
            # on its way back when the release was cancelled (asyncpg shields the rest of it)
            if held:
                self._turns.release()

    @property
    def waiting(self) -> int:
        """Tasks waiting for a connection now (for metrics and tests)."""
        return len([w for w in (self._turns._waiters or ()) if not w.done()])


async def _rollback_only(conn: asyncpg.Connection) -> None:
    """The pool's reset on release. asyncpg always rolls back a transaction left open and drops
    listeners first; its default reset then sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` — a round trip on every release, a seventh of the gateway's CPU on `GET /user/me`.
    Nothing here leaves session state on a pooled connection (locks are transaction-scoped
    `pg_advisory_xact_lock`, settings `SET LOCAL`, the migration runner unlocks its session lock in a
    `finally`, pub/sub goes through Redis), so what remains is SQLAlchemy's default: rollback only."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = FairPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        # asyncpg.create_pool's defaults, spelled out because Pool itself has none
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        connect=None,
        setup=None,
        init=init_connection,
        reset=_rollback_only,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        # statement cache stays on: every query here is a fixed string with $n parameters
        command_timeout=60,
    )
    await pool
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """A single connection with the same codecs, for Ray tasks and actors that need one briefly."""
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    return conn
