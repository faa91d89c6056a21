"""Provider permits held by one JobWorker process and lent to its jobs without an actor call.

The gate actor (actors/ai_gate.py) is the one authority on AI_PROVIDER_CONCURRENCY and the
breaker. Asking it twice per generation (enter, leave) was a sixth of a JobWorker's time under a
burst (py-spy, ai_pool), so a JobWorker leases permits in blocks and lends them to its own jobs:

- `enter` takes a permit this process holds and nobody uses, if there is one and the breaker was
  closed when last heard of; otherwise it queues, and one lease call at a time (single flight)
  asks the actor for as many permits as there are jobs queued (at most `batch`).
- `leave` hands the permit straight to a queued job after a success; with no job queued it keeps it
  `idle_s`, then gives it back. A failure goes back to the actor at once with its outcome, so the
  breaker sees every failure as it happens; so does every permit while the breaker is not closed
  (a probe's outcome decides the breaker), and one held longer than `max_age_s` (half its lease:
  a permit this process keeps busy never lapses in the actor).
- Successes are counted and sent with the next lease or give-back: they reset a closed breaker's
  failure count (domain/ai_gate.py `record_late_successes`) but never close an open one.

So the cap holds (every permit lent here was granted by the actor), a burst costs one actor call
per `batch` permits instead of two per generation, and an idle process holds nothing after
`idle_s`. A process that dies holding permits loses them to their lease, as a task would.

Only for a long-lived event loop (a JobWorker's); a task of its own uses RayGate per call.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from domain.ai_gate import GateConfig

log = logging.getLogger(__name__)

# permits asked for in one lease call: a burst's first jobs start together, and one process
# never takes the whole cap in one call while others wait
LEASE_BATCH = 8
# a permit nobody here needs goes back this soon: other processes may be waiting for it
IDLE_S = 0.05


@dataclass(slots=True)
class _Permit:
    name: str
    taken_at: float


class PermitPool:
    """This process's permits of one gate. `actor` resolves the gate actor's handle."""

    def __init__(
        self,
        actor: Callable[[], Awaitable[Any]],
        config: GateConfig,
        *,
        deadline_s: float,
        batch: int = LEASE_BATCH,
        idle_s: float = IDLE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._actor = actor
        self.config = config
        self._deadline_s = deadline_s
        self._batch = batch
        self._idle_s = idle_s
        self._max_age_s = config.lease_s / 2
        self._clock = clock
        self._prefix = f"pool-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._seq = itertools.count(1)
        self._free: list[_Permit] = []
        self._lent: dict[str, _Permit] = {}
        self._waiting: deque[tuple[str, asyncio.Future[tuple[str, float]]]] = deque()
        self._fetching: asyncio.Task[None] | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._closed_breaker = True
        self._successes = 0
        self._background: set[asyncio.Task[Any]] = set()
        self.lease_calls = 0  # figures for tests
        self.give_back_calls = 0

    @property
    def held(self) -> int:
        return len(self._free) + len(self._lent)

    # -- the Gate protocol (jobs/ai_provider.py) ------------------------------------------------

    async def enter(self, holder: str) -> tuple[str, float]:
        if holder in self._lent:  # a retried attempt of one holder keeps its permit
            return "ok", 0.0
        if self._free and self._closed_breaker:
            self._lend(holder, self._free.pop())
            return "ok", 0.0
        fut: asyncio.Future[tuple[str, float]] = asyncio.get_running_loop().create_future()
        self._waiting.append((holder, fut))
        if self._fetching is None:
            self._fetching = asyncio.get_running_loop().create_task(self._fetch())
        return await fut

    async def leave(self, holder: str, outcome: str) -> None:
        permit = self._lent.pop(holder, None)
        if permit is None:
            return
        if outcome == "success":
            self._successes += 1
        stale = self._clock() - permit.taken_at > self._max_age_s
        if outcome == "failure" or not self._closed_breaker or stale:
            await self._give_back([permit], [outcome])
            return
        if not self._hand_on(permit):
            self._keep(permit)

    # -- lending ------------------------------------------------------------------------------

    def _lend(self, holder: str, permit: _Permit) -> None:
        self._lent[holder] = permit

    def _keep(self, permit: _Permit) -> None:
        """Hold a permit nobody here needs now, for `idle_s` at most."""
        self._free.append(permit)
        if self._idle_timer is None:
            self._idle_timer = asyncio.get_running_loop().call_later(self._idle_s, self._release_idle)

    def _hand_on(self, permit: _Permit) -> bool:
        """Give the permit to the first job still waiting; False if none is."""
        while self._waiting:
            holder, fut = self._waiting.popleft()
            if not fut.done():
                self._lend(holder, permit)
                fut.set_result(("ok", 0.0))
                return True
        return False

    async def _fetch(self) -> None:
        """Lease permits for the queued jobs, one call at a time, until none is queued."""
        try:
            while any(not fut.done() for _, fut in self._waiting):
                want = min(self._batch, sum(1 for _, fut in self._waiting if not fut.done()))
                names = [f"{self._prefix}-{next(self._seq)}" for _ in range(want)]
                successes, self._successes = self._successes, 0
                self.lease_calls += 1
                handle = await self._actor()
                verdict, retry_after, granted, closed = await handle.lease.remote(
                    names, self.config, self._deadline_s, successes
                )
                self._closed_breaker = closed
                if verdict != "ok":
                    # the breaker is open, or no permit came free in time: the jobs this call was
                    # for hear so (each would have waited as long on its own); later ones ask again
                    for _ in range(want):
                        if not self._waiting:
                            break
                        _, fut = self._waiting.popleft()
                        if not fut.done():
                            fut.set_result((verdict, retry_after))
                    continue
                now = self._clock()
                for name in granted:
                    permit = _Permit(name, now)
                    if not self._hand_on(permit):
                        self._keep(permit)
        except Exception as exc:  # the actor gone, Ray down: every queued job hears it
            while self._waiting:
                _, fut = self._waiting.popleft()
                if not fut.done():
                    fut.set_exception(exc)
        finally:
            self._fetching = None

    # -- giving back --------------------------------------------------------------------------

    def _release_idle(self) -> None:
        self._idle_timer = None
        if not self._free:
            return
        permits, self._free = self._free, []
        task = asyncio.get_running_loop().create_task(self._give_back(permits, ["neutral"] * len(permits)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _give_back(self, permits: list[_Permit], outcomes: list[str]) -> None:
        if self._successes and "success" not in outcomes:
            # the successes ride along as one: a returned unused permit carries them
            outcomes = ["success", *outcomes[1:]]
        if "success" in outcomes:
            self._successes = 0
        self.give_back_calls += 1
        try:
            handle = await self._actor()
            self._closed_breaker = await handle.give_back.remote([p.name for p in permits], outcomes)
        except Exception:
            # the permits lapse in the actor by their lease; nothing here is lost but time
            log.warning("AI gate permits could not be given back", exc_info=True)
        if not self._closed_breaker and self._free:
            permits, self._free = self._free, []
            await self._give_back(permits, ["neutral"] * len(permits))

    async def close(self) -> None:
        """Give back every permit not lent (a JobWorker shutting down; tests)."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._free:
            permits, self._free = self._free, []
            await self._give_back(permits, ["neutral"] * len(permits))
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
