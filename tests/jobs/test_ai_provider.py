"""The AI provider client (jobs/ai_provider.py) against the local fake provider, without Ray: both
dialects, latency, 429 with Retry-After, 500, timeouts, a provider that is down, and the gate's
cap and breaker as the client sees them (the gate's own state runs in this process here)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from domain.ai import ErrorKind
from domain.ai_gate import GateConfig, Outcome, ProviderGate
from jobs.ai_provider import Generation, OpenGate, ProviderConfig, ProviderFailed, generate, request_body, retry_after_s
from tests.ai_fakes import TEST_AI_KEY, dead_url, fail, hang, ok


class LocalGate:
    """domain/ai_gate.ProviderGate in this process, with the actor's waiting (actors/ai_gate.py)."""

    def __init__(self, **config) -> None:
        self.gate = ProviderGate(GateConfig(**config))
        self.changed = asyncio.Condition()

    async def enter(self, holder: str) -> tuple[str, float]:
        async with self.changed:
            while True:
                verdict, wait = self.gate.try_enter(holder, time.time())
                if verdict != "full":
                    return verdict, wait
                await self.changed.wait()

    async def leave(self, holder: str, outcome: str) -> None:
        async with self.changed:
            self.gate.leave(holder, Outcome(outcome), time.time())
            self.changed.notify_all()


def config(base_url: str, dialect="gorq", **kw) -> ProviderConfig:
    return ProviderConfig(**({"dialect": dialect, "base_url": base_url, "timeout_s": 1.0, "backoff_base_s": 0.01} | kw))


GEN = Generation(prompt="hello", max_tokens=16)


async def call(cfg, gen=GEN, gate=None, holder="h1"):
    async with aiohttp.ClientSession() as session:
        return await generate(session, cfg, TEST_AI_KEY, gen, gate=gate or OpenGate(), holder=holder)


async def test_gorq_dialect(fake_ai):
    reply = await call(config(fake_ai.base_url))
    assert reply.result["output"] == "echo: hello"
    assert reply.http_attempts == 1
    (sent,) = fake_ai.calls
    assert sent["dialect"] == "gorq"
    assert sent["auth"] == f"Bearer {TEST_AI_KEY}"
    assert sent["body"] == {"prompt": "hello", "max_tokens": 16}


async def test_openai_dialect_sends_a_chat_and_a_model(fake_ai):
    reply = await call(config(fake_ai.base_url + "/v1", dialect="openai", default_model="m-1"))
    assert reply.result["choices"][0]["message"]["content"] == "echo: hello"
    assert reply.model == "m-1"
    assert fake_ai.calls[0]["body"] == {
        "model": "m-1",
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": 16,
    }


def test_a_chat_body_goes_to_both_dialects():
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    gen = Generation(prompt="u", max_tokens=5, messages=messages, model="x")
    assert request_body(config("http://h", "openai"), gen)["messages"] == messages
    assert request_body(config("http://h"), gen) == {"messages": messages, "max_tokens": 5, "model": "x"}
    assert request_body(config("http://h", "openai"), GEN)["model"] == "gpt-4o-mini"


def test_retry_after_forms():
    assert retry_after_s("3") == 3.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert retry_after_s("soon") is None
    assert retry_after_s(None) is None


async def test_latency_is_measured(fake_ai):
    fake_ai.script(ok(latency_s=0.2))
    reply = await call(config(fake_ai.base_url))
    assert reply.latency_ms >= 200


async def test_a_429_is_retried_after_the_providers_retry_after(fake_ai):
    fake_ai.script(fail(429, retry_after="1"))
    started = time.monotonic()
    reply = await call(config(fake_ai.base_url))
    assert time.monotonic() - started >= 1.0
    assert reply.http_attempts == 2
    assert len(fake_ai.calls) == 2


async def test_a_500_is_retried_then_given_up_with_the_providers_words(fake_ai):
    fake_ai.script(fail(500), fail(503, retry_after="0"), fail(500))
    with pytest.raises(ProviderFailed) as caught:
        await call(config(fake_ai.base_url, retries=2))
    assert caught.value.status == 500
    assert caught.value.retryable is True
    assert caught.value.http_attempts == 3
    assert "fake failure 500" in str(caught.value)


async def test_a_retry_after_beyond_the_cap_fails_the_attempt_at_once(fake_ai):
    fake_ai.script(fail(429, retry_after="600"))
    with pytest.raises(ProviderFailed) as caught:
        await call(config(fake_ai.base_url))
    assert caught.value.retry_after == 600.0
    assert len(fake_ai.calls) == 1


async def test_a_4xx_about_the_request_is_not_retried(fake_ai):
    fake_ai.script(fail(400))
    with pytest.raises(ProviderFailed) as caught:
        await call(config(fake_ai.base_url))
    assert caught.value.retryable is False
    assert len(fake_ai.calls) == 1


async def test_a_wrong_key_is_a_401_not_retried(fake_ai):
    fake_ai.key = "another"
    with pytest.raises(ProviderFailed) as caught:
        await call(config(fake_ai.base_url))
    assert caught.value.status == 401
    assert len(fake_ai.calls) == 1


async def test_a_hanging_provider_times_out(fake_ai):
    fake_ai.script(hang(5), hang(5))
    started = time.monotonic()
    with pytest.raises(ProviderFailed) as caught:
        await call(config(fake_ai.base_url, timeout_s=0.3, retries=1))
    assert time.monotonic() - started < 2.0
    assert "did not answer within" in str(caught.value)


async def test_a_provider_that_is_down_opens_the_breaker_and_then_fails_fast():
    gate = LocalGate(limit=4, threshold=3, cooldown_s=30.0)
    with pytest.raises(ProviderFailed) as first:
        await call(config(dead_url(), retries=2), gate=gate)
    assert first.value.kind is ErrorKind.PROVIDER_ERROR
    assert "could not be reached" in str(first.value)
    with pytest.raises(ProviderFailed) as second:
        await call(config(dead_url()), gate=gate, holder="h2")
    assert second.value.kind is ErrorKind.PROVIDER_DOWN
    assert second.value.http_attempts == 0
    assert 29 <= second.value.retry_after <= 30


async def test_the_cap_keeps_calls_in_flight_at_its_limit(fake_ai):
    gate = LocalGate(limit=2)
    fake_ai.script(*[ok(latency_s=0.1) for _ in range(6)])
    cfg = config(fake_ai.base_url)
    await asyncio.gather(*(call(cfg, gate=gate, holder=f"h{i}") for i in range(6)))
    assert fake_ai.peak == 2
    assert len(fake_ai.calls) == 6
