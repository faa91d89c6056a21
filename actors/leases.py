"""Leases: take N units from an actor-held budget at once, spend them locally, refill early.

A request that spends a unit never waits on an actor call while its lease holds units: the refill
is started in the background when the lease drops to `refill_below`, single-flight per key. Only a
request that finds the lease empty waits, for the one refill in progress.

The actor records each grant durably before answering (see actors/counters.py), so units leased
here and never spent are lost on a crash: budgets can be under-used, never over-granted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actors.client import ShardClient


@dataclass
class _Lease:
    remaining: int = 0
    # how many units the next refill aims to hold: grows with the key's observed rate
    size: int = 0
    taken: int = 0  # units spent since the last refill started
    since: float = 0.0  # when that refill started
    refill: asyncio.Task | None = None
    # monotonic time until which an exhausted budget is believed exhausted without asking again
    exhausted_until: float = 0.0
    # with a counting method (`take_counted`): everything the actor had granted for the key, to
    # every holder, as of this lease's last refill
    granted_total: int | None = None


class LeaseClient:
    def __init__(
        self,
        client: ShardClient,
        method: str = "take_up_to",
        *,
        lease_size: int = 32,
        refill_below: int = 8,
        exhausted_ttl_s: float = 1.0,
        max_lease_size: int | None = None,
        lease_target_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= refill_below < lease_size:
            raise ValueError("refill_below must be in [0, lease_size)")
        self._client = client
        self._method = method
        self._lease_size = lease_size
        self._refill_below = refill_below
        self._exhausted_ttl_s = exhausted_ttl_s
        self._clock = clock
        self._leases: dict[str, _Lease] = {}
        # Adaptive size: a lease aims to cover `lease_target_s` of the key's traffic, between
        # lease_size and max_lease_size (equal by default: fixed leases). A busy key then makes
        # about one actor call per target period; a quiet one never holds more than lease_size.
        self.max_lease_size = max(lease_size, max_lease_size or lease_size)
        self._target_s = lease_target_s

    def local_remaining(self, key: str) -> int:
        lease = self._leases.get(key)
        return lease.remaining if lease else 0

    def estimated_left(self, key: str, limit: int) -> int | None:
        """What is left of `limit` for `key` as far as this holder can tell: what the actor has not
        granted yet plus what this lease still holds. A lower bound: other holders' unspent units
        count as spent. None until a counting refill has answered."""
        lease = self._leases.get(key)
        if lease is None or lease.granted_total is None:
            return None
        return max(0, min(limit, limit - lease.granted_total + lease.remaining))

    async def take(self, key: str, *args: Any) -> bool:
        """Spend one unit of `key`'s budget; False when the budget is spent. `args` go to the actor."""
        lease = self._leases.get(key)
        if lease is None:
            lease = self._leases[key] = _Lease(size=self._lease_size, since=self._clock())
        while True:
            if lease.remaining > 0:
                lease.remaining -= 1
                lease.taken += 1
                if lease.remaining <= max(self._refill_below, lease.size // 4):
                    self._start_refill(key, lease, args)
                return True
            if self._clock() < lease.exhausted_until:
                return False
            task = self._start_refill(key, lease, args)
            if task is None:  # refill just reported exhaustion
                return False
            await asyncio.shield(task)
            if lease.remaining == 0 and self._clock() < lease.exhausted_until:
                return False

    def forget(self, key: str) -> None:
        """Drop a key's local lease (its unspent units are lost, by design)."""
        self._leases.pop(key, None)

    def _start_refill(self, key: str, lease: _Lease, args: tuple) -> asyncio.Task | None:
        if lease.refill is not None and not lease.refill.done():
            return lease.refill
        if self._clock() < lease.exhausted_until:
            return None
        lease.refill = asyncio.get_running_loop().create_task(self._refill(key, lease, args))
        # A background refill that fails (actor restarting) is retried by the next take; mark
        # its exception retrieved so it is not reported as lost when nobody awaited it.
        lease.refill.add_done_callback(_retrieve)
        return lease.refill

    async def _refill(self, key: str, lease: _Lease, args: tuple) -> None:
        now = self._clock()
        rate = lease.taken / max(now - lease.since, 1e-3)
        lease.size = min(self.max_lease_size, max(self._lease_size, int(rate * self._target_s)))
        lease.taken, lease.since = 0, now
        want = max(1, lease.size - lease.remaining)
        meters = self._client.stats.meters
        started = time.perf_counter()
        try:
            answer = await self._client.call(self._method, key, want, *args)
        except Exception:  # not a cancellation (shutdown): that is no failed refill
            meters.lease_refill_failures += 1
            raise
        meters.lease_refills += 1
        meters.lease_refill_latency.observe(time.perf_counter() - started)
        if isinstance(answer, list | tuple):  # a counting method: [granted, total granted]
            granted, lease.granted_total = answer
        else:
            granted = answer
        lease.remaining += granted
        if granted < want:
            # The budget ran dry; don't ask again on every request, but do look again soon in
            # case the limit was raised.
            lease.exhausted_until = self._clock() + self._exhausted_ttl_s


def _retrieve(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()
