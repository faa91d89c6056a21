"""The AI provider gate actor (actors/ai_gate.py) on the session's Ray: one per name, shared by
every caller, waiting callers queue in it, and an open breaker answers at once."""

from __future__ import annotations

import asyncio
import time
import uuid

from actors.ai_gate import gate_handle
from domain.ai_gate import GateConfig


async def _gate(settings):
    name = f"ai-gate-test-{uuid.uuid4().hex[:8]}"
    return await asyncio.get_running_loop().run_in_executor(None, gate_handle, settings.roost_ray_namespace, name), name


async def test_one_gate_per_name_whoever_asks(settings, ray_session):
    gate, name = await _gate(settings)
    again = await asyncio.get_running_loop().run_in_executor(None, gate_handle, settings.roost_ray_namespace, name)
    config = GateConfig(limit=1)
    assert await gate.enter.remote("a", config, 1.0) == ("ok", 0.0)
    # the second handle sees the first one's permit
    assert await again.enter.remote("b", config, 0.2) == ("timeout", 0.0)
    await gate.reset.remote()


async def test_a_waiting_enter_gets_the_permit_as_it_comes_back(settings, ray_session):
    gate, _ = await _gate(settings)
    config = GateConfig(limit=1)
    assert (await gate.enter.remote("a", config, 1.0))[0] == "ok"
    waiting = asyncio.ensure_future(gate.enter.remote("b", config, 10.0))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    started = time.monotonic()
    await gate.leave.remote("a", "success")
    assert await waiting == ("ok", 0.0)
    assert time.monotonic() - started < 2.0
    snapshot = await gate.snapshot.remote()
    assert snapshot["in_use"] == 1
    assert snapshot["peak"] == 1


async def test_an_open_breaker_answers_at_once_with_the_wait(settings, ray_session):
    gate, _ = await _gate(settings)
    config = GateConfig(limit=4, threshold=2, cooldown_s=20.0)
    for holder in ("a", "b"):
        await gate.enter.remote(holder, config, 1.0)
        await gate.leave.remote(holder, "failure")
    verdict, retry_after = await gate.enter.remote("c", config, 10.0)
    assert verdict == "open"
    assert 19.0 <= retry_after <= 20.0
    assert 19.0 <= await gate.retry_after.remote() <= 20.0
    assert (await gate.snapshot.remote())["state"] == "open"
