"""SnapshotCache: bounded refresh rate, single flight, versions; no Ray needed."""

from __future__ import annotations

import asyncio

import pytest

from actors.snapshots import SnapshotCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Source:
    """A versioned value that the test changes, and counts how often it is read."""

    def __init__(self) -> None:
        self.version = 1
        self.reads = 0
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def fetch(self, key: str) -> tuple[int, dict]:
        self.reads += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("source down")
        return self.version, {"key": key, "v": self.version}


async def test_refreshes_at_most_once_per_interval():
    clock, source = Clock(), Source()
    cache = SnapshotCache(source.fetch, interval_s=1.0, clock=clock)
    first = await cache.get("e1")
    assert (first.version, first.value) == (1, {"key": "e1", "v": 1})
    source.version = 2
    clock.now += 0.5
    assert (await cache.get("e1")).version == 1  # still fresh: no read
    assert source.reads == 1
    clock.now += 0.6
    assert (await cache.get("e1")).version == 2
    assert source.reads == 2


async def test_concurrent_gets_share_one_fetch():
    source = Source()
    source.gate = asyncio.Event()
    cache = SnapshotCache(source.fetch, interval_s=1.0)
    waiters = [asyncio.create_task(cache.get("e1")) for _ in range(50)]
    await asyncio.sleep(0)
    source.gate.set()
    snaps = await asyncio.gather(*waiters)
    assert source.reads == 1
    assert {s.version for s in snaps} == {1}


async def test_keys_are_independent():
    source = Source()
    cache = SnapshotCache(source.fetch, interval_s=10.0)
    a, b = await cache.get("a"), await cache.get("b")
    assert a.value["key"] == "a" and b.value["key"] == "b"
    assert source.reads == 2


async def test_failed_fetch_reaches_callers_and_next_get_retries():
    clock, source = Clock(), Source()
    cache = SnapshotCache(source.fetch, interval_s=1.0, clock=clock)
    source.fail = True
    with pytest.raises(ConnectionError):
        await cache.get("e1")
    source.fail = False
    assert (await cache.get("e1")).version == 1
    assert source.reads == 2


async def test_a_cancelled_caller_does_not_cancel_the_shared_fetch():
    source = Source()
    source.gate = asyncio.Event()
    cache = SnapshotCache(source.fetch, interval_s=1.0)
    impatient = asyncio.create_task(cache.get("e1"))
    patient = asyncio.create_task(cache.get("e1"))
    await asyncio.sleep(0)
    impatient.cancel()
    source.gate.set()
    assert (await patient).version == 1
    assert source.reads == 1


async def test_least_recently_used_keys_are_evicted():
    source = Source()
    cache = SnapshotCache(source.fetch, interval_s=60.0, max_keys=2)
    await cache.get("a")
    await cache.get("b")
    await cache.get("a")  # a is now the most recent
    await cache.get("c")
    assert cache.peek("b") is None
    assert cache.peek("a") is not None and cache.peek("c") is not None


async def test_invalidate_forces_next_fetch():
    source = Source()
    cache = SnapshotCache(source.fetch, interval_s=60.0)
    await cache.get("a")
    source.version = 5
    cache.invalidate("a")
    assert (await cache.get("a")).version == 5
