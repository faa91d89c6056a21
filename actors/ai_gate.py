"""The cluster's one AI provider gate: a named Ray actor around domain/ai_gate.ProviderGate.

Guarantees
- One per Ray namespace (`ai-provider-gate`, detached, created by whichever process asks first), so
  AI_PROVIDER_CONCURRENCY and the circuit breaker are per cluster, not per worker process.
- `enter` waits (asynchronously, in the actor) for a permit when all are out: a burst queues here
  instead of reaching the provider. It never waits while the breaker is open: it answers at once
  with the seconds to wait (fail fast).
- `enter` is idempotent per holder (a retried call renews its lease); `leave` of an unknown holder
  is a no-op. A holder that never leaves loses its permit when the lease lapses.
- Nothing here is durable: after a restart (`max_restarts=-1`) the gate starts closed with every
  permit free. That can let one burst's worth of calls through at once, never lose a generation.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import ray
from ray.actor import ActorClass

from domain.ai_gate import BreakerState, GateConfig, Outcome, ProviderGate

GATE_NAME = "ai-provider-gate"
# How long a waiting `enter` sleeps at most before looking again (a lapsed lease wakes nobody).
RECHECK_S = 1.0


# An async actor: waiting `enter` calls do not block one another (Ray runs up to 1000 at once,
# far more than the tasks a cluster runs side by side).
@ray.remote(num_cpus=0, max_restarts=-1)
class AiGateActor:
    def __init__(self) -> None:
        self._gate = ProviderGate()
        self._changed = asyncio.Condition()

    async def enter(self, holder: str, config: GateConfig, deadline_s: float) -> tuple[str, float]:
        """("ok", 0) with a permit; ("open", retry_after) if the breaker refuses; ("timeout", 0)
        if no permit came back within `deadline_s`."""
        self._gate.configure(config)
        loop_deadline = time.monotonic() + deadline_s
        async with self._changed:
            while True:
                verdict, retry_after = self._gate.try_enter(holder, time.time())
                if verdict != "full":
                    return verdict, retry_after
                left = loop_deadline - time.monotonic()
                if left <= 0:
                    return "timeout", 0.0
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=min(left, RECHECK_S))
                except TimeoutError:
                    pass

    async def leave(self, holder: str, outcome: str) -> None:
        async with self._changed:
            self._gate.leave(holder, Outcome(outcome), time.time())
            self._changed.notify_all()

    async def lease(
        self, holders: list[str], config: GateConfig, deadline_s: float, successes: int = 0
    ) -> tuple[str, float, list[str], bool]:
        """Several permits for one process's jobs at once (jobs/ai_permits.py): waits like `enter`
        for the first, then takes as many of the rest as are free. `successes`: calls that process
        finished well since it last said, reported as one. Returns (verdict, retry_after, the
        holders granted, whether the breaker is closed); while it is not, at most one is granted
        (the probe), and that process hands none on without asking here."""
        self._gate.configure(config)
        if successes:
            self._gate.record_late_successes()
        verdict, retry_after = await self.enter(holders[0], config, deadline_s)
        if verdict != "ok":
            return verdict, retry_after, [], False
        granted = [holders[0]]
        if self._gate.state is BreakerState.CLOSED:
            for holder in holders[1:]:
                if self._gate.try_enter(holder, time.time())[0] != "ok":
                    break
                granted.append(holder)
        return "ok", 0.0, granted, self._gate.state is BreakerState.CLOSED

    async def give_back(self, holders: list[str], outcomes: list[str]) -> bool:
        """Permits of `lease` back, each with its call's outcome ("neutral" for one unused).
        Returns whether the breaker is closed afterwards."""
        async with self._changed:
            now = time.time()
            for holder, outcome in zip(holders, outcomes, strict=True):
                self._gate.leave(holder, Outcome(outcome), now)
            self._changed.notify_all()
        return self._gate.state is BreakerState.CLOSED

    async def retry_after(self) -> float:
        """0 when a call would be let through now, else the seconds the breaker stays open."""
        return self._gate.retry_after(time.time())

    async def snapshot(self) -> dict[str, Any]:
        return self._gate.snapshot(time.time())

    async def reset(self) -> None:
        """Forget everything (tests; an operator who knows the provider is back)."""
        async with self._changed:
            self._gate = ProviderGate(self._gate.config)
            self._changed.notify_all()


# What @ray.remote made of the class: mypy does not apply class decorators
AI_GATE = cast(ActorClass[AiGateActor], AiGateActor)


def gate_handle(namespace: str, name: str = GATE_NAME) -> Any:
    """The gate, created on first use. Blocking (it may talk to the GCS): call it off the loop."""
    return AI_GATE.options(
        name=name,
        namespace=namespace,
        get_if_exists=True,
        # shared by every task and gateway: it must outlive whoever created it
        lifetime="detached",
    ).remote()
