"""What a shard actor wraps: a plain state class (pure, no I/O) and its persistence.

The split keeps the logic unit-testable without Ray or a database, and makes the actor shell the
only place that sequences I/O: load what a batch needs, apply every op, persist the writes the ops
made, and only then answer. A write that fails to persist is never acknowledged; the keys it
touched are forgotten and reload from PostgreSQL on their next use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg


class ShardState(ABC):
    @abstractmethod
    def loaded(self, key: str) -> bool: ...

    @abstractmethod
    def restore(self, key: str, snapshot: Any | None) -> None:
        """Install a key's durable state (None: nothing stored yet)."""

    @abstractmethod
    def forget(self, keys: Iterable[str]) -> None: ...

    @abstractmethod
    def apply(self, method: str, key: str, args: tuple) -> Any:
        """Run one op on a loaded key. Raise a domain error to fail just this op."""

    @abstractmethod
    def take_writes(self) -> list[Any]:
        """The writes the ops since the last call made, for the persistence to store."""


class Persistence(ABC):
    @abstractmethod
    async def load(self, conn: asyncpg.Connection, keys: list[str]) -> dict[str, Any]: ...

    @abstractmethod
    async def save(self, conn: asyncpg.Connection, writes: list[Any]) -> None: ...


@dataclass(frozen=True)
class KindSpec:
    """How to build one actor kind's state and persistence; `name` also scopes its durable rows."""

    name: str
    state: type[ShardState]
    # a Persistence subclass, built with the kind's name (which scopes its rows)
    persistence: Callable[[str], Persistence]
