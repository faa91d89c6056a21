"""Keyed counters with budgets: the state behind usage counters and anything lease-shaped.

`take_up_to(key, n, limit)` grants at most what is left under `limit` and records the grant
before it is acknowledged, which is what quota leases need: a crash can lose granted-but-unused
units, never grant more than the limit. `take_counted` is the same grant answered as
`[granted, total granted so far]`, so a lease holder can tell its callers how much is left.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg

from actors.state import Persistence, ShardState
from domain.errors import Invalid, NotFound
from storage import counters as counters_sql


class CounterState(ShardState):
    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._dirty: set[str] = set()

    def loaded(self, key: str) -> bool:
        return key in self._values

    def restore(self, key: str, snapshot: Any | None) -> None:
        self._values[key] = int(snapshot or 0)

    def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._values.pop(key, None)
            self._dirty.discard(key)

    def apply(self, method: str, key: str, args: tuple) -> Any:
        if method == "get":
            return self._values[key]
        if method == "add":
            (delta,) = args
            if not isinstance(delta, int):
                raise Invalid("delta must be an integer", code="invalid_delta")
            self._values[key] += delta
            self._dirty.add(key)
            return self._values[key]
        if method in ("take_up_to", "take_counted"):
            want, limit = args
            if not isinstance(want, int) or want < 0:
                raise Invalid("want must be a non-negative integer", code="invalid_want")
            granted = max(0, min(want, limit - self._values[key]))
            if granted:
                self._values[key] += granted
                self._dirty.add(key)
            return granted if method == "take_up_to" else [granted, self._values[key]]
        raise NotFound(f"counters has no method {method!r}", code="unknown_method")

    def take_writes(self) -> list[tuple[str, int]]:
        writes = [(key, self._values[key]) for key in sorted(self._dirty)]
        self._dirty.clear()
        return writes


class CounterPersistence(Persistence):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def load(self, conn: asyncpg.Connection, keys: list[str]) -> dict[str, int]:
        return await counters_sql.load(conn, self.kind, keys)

    async def save(self, conn: asyncpg.Connection, writes: list[tuple[str, int]]) -> None:
        await counters_sql.save(conn, self.kind, writes)
