"""Daily quota counters: the counters kind's `take_up_to`, keyed `quota:<user_id>:<YYYY-MM-DD>`.

Grants are durable before they are answered (inherited from CounterState and the shard shell),
so a crash can only lose leased units. What this adds is forgetting: a day's keys are dead once
the UTC day is over, so once a shard has seen a newer day it drops keys older than the day
before it (yesterday is kept for gateways whose clocks lag a little).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from actors.counters import CounterState

PREFIX = "quota"


def quota_key(user_id: int, day: date) -> str:
    return f"{PREFIX}:{user_id}:{day.isoformat()}"


def day_of(key: str) -> date | None:
    try:
        return date.fromisoformat(key.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return None


class QuotaState(CounterState):
    def __init__(self) -> None:
        super().__init__()
        self._newest: date | None = None

    def restore(self, key: str, snapshot: Any | None) -> None:
        day = day_of(key)
        if day is not None and (self._newest is None or day > self._newest):
            self._newest = day
        super().restore(key, snapshot)

    def take_writes(self) -> list[tuple[str, int]]:
        writes = super().take_writes()
        # Evict at the end of a batch, never mid-batch: a key this batch still has to apply an op
        # to must stay loaded. Evicted keys are all saved; a late request reloads them.
        if self._newest is not None:
            oldest_kept = self._newest - timedelta(days=1)
            self.forget([k for k in self._values if (d := day_of(k)) is not None and d < oldest_kept])
        return writes

    def keys(self) -> list[str]:
        return list(self._values)
