"""A JobWorker's provider permits (jobs/ai_permits.py) against the real gate actor on the session's
Ray: the cap holds across processes' pools, a burst costs a few lease calls instead of two actor
calls per generation, idle permits go back, and a failure reaches the breaker at once."""

from __future__ import annotations

import asyncio
import uuid

from actors.ai_gate import gate_handle
from domain.ai_gate import BreakerState, GateConfig, Outcome, ProviderGate
from jobs.ai_permits import PermitPool
from tests.waiting import eventually


async def _gate(settings):
    name = f"ai-permits-test-{uuid.uuid4().hex[:8]}"
    return await asyncio.get_running_loop().run_in_executor(None, gate_handle, settings.roost_ray_namespace, name)


def _pool(gate, config: GateConfig, **kw) -> PermitPool:
    async def actor():
        return gate

    return PermitPool(actor, config, deadline_s=10.0, **kw)


class InFlight:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    async def call(self, pool: PermitPool, holder: str, seconds: float, outcome: str = "success") -> str:
        verdict, _ = await pool.enter(holder)
        if verdict != "ok":
            return verdict
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.now -= 1
            await pool.leave(holder, outcome)
        return verdict


async def test_the_cap_holds_across_two_processes_pools(settings, ray_session):
    gate = await _gate(settings)
    config = GateConfig(limit=4)
    one, two = _pool(gate, config), _pool(gate, config)
    flight = InFlight()
    verdicts = await asyncio.gather(
        *(flight.call(pool, f"{i}", 0.05) for i in range(12) for pool in (one, two))
    )
    assert verdicts == ["ok"] * 24
    assert flight.peak == 4
    assert (await gate.snapshot.remote())["peak"] == 4


async def test_a_burst_costs_a_few_lease_calls_and_idle_permits_go_back(settings, ray_session):
    gate = await _gate(settings)
    pool = _pool(gate, GateConfig(limit=8))
    flight = InFlight()
    assert await asyncio.gather(*(flight.call(pool, f"job-{i}", 0.02) for i in range(40))) == ["ok"] * 40
    assert flight.peak == 8
    # two calls per generation would be 80
    assert pool.lease_calls + pool.give_back_calls <= 6, (pool.lease_calls, pool.give_back_calls)

    async def returned() -> bool:
        return pool.held == 0 and (await gate.snapshot.remote())["in_use"] == 0

    await eventually(returned, what="idle permits given back")
    # the successes reached the gate with them: the breaker is closed with no failures counted
    snapshot = await gate.snapshot.remote()
    assert (snapshot["state"], snapshot["failures"]) == ("closed", 0)


async def test_a_failure_goes_back_at_once_and_opens_the_breaker(settings, ray_session):
    gate = await _gate(settings)
    pool = _pool(gate, GateConfig(limit=4, threshold=2, cooldown_s=30.0))
    flight = InFlight()
    assert await flight.call(pool, "a", 0.0, outcome="failure") == "ok"
    assert (await gate.snapshot.remote())["failures"] == 1
    assert await flight.call(pool, "b", 0.0, outcome="failure") == "ok"
    assert (await gate.snapshot.remote())["state"] == "open"
    verdict, retry_after = await pool.enter("c")
    assert verdict == "open" and retry_after > 25
    assert pool.held == 0


async def test_a_retried_attempt_keeps_its_permit(settings, ray_session):
    gate = await _gate(settings)
    pool = _pool(gate, GateConfig(limit=1))
    assert await pool.enter("a") == ("ok", 0.0)
    assert await pool.enter("a") == ("ok", 0.0)
    assert pool.held == 1
    await pool.leave("a", "neutral")
    await pool.close()
    assert (await gate.snapshot.remote())["in_use"] == 0


def test_late_successes_never_close_an_open_breaker():
    gate = ProviderGate(GateConfig(threshold=2))
    gate.record("x", Outcome.FAILURE, 0.0)
    gate.record_late_successes()
    assert gate.failures == 0  # a closed breaker forgets its failures, as a success would have it
    gate.record("x", Outcome.FAILURE, 1.0)
    gate.record("y", Outcome.FAILURE, 2.0)
    assert gate.state is BreakerState.OPEN
    gate.record_late_successes()
    assert gate.state is BreakerState.OPEN and gate.failures == 2
