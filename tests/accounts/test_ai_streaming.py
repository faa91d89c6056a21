"""AI streaming on the Ray worker pool (jobs/ai.py's streaming generator task) against the local
fake provider's chat-completions stream: chunks reach the caller as the provider sends them, and
the `ai_requests` row ends with the full result (or the failure).

The HTTP side (`"stream": true` on POST /api/ai/generate answering text/event-stream) is not
wired yet: see the README's AI section."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.accounts.ai import job_payload
from gateway.kernel.keys import pool_key
from jobs.ai import STREAM_CHUNK, STREAM_DONE, STREAM_ERROR, start_stream
from storage import ai_requests as ai_sql
from tests.ai_fakes import ai_settings, fail
from tests.builders import make_user


@pytest.fixture
async def request_row(client, settings, fake_ai):
    """A pending generation of a new user's, and the payload its stream is started with."""

    async def make(prompt: str = "hello stream world", **overrides: Any) -> tuple[int, dict[str, Any]]:
        user = await make_user(client.app)
        async with client.app[pool_key].acquire() as conn:
            request_id = await ai_sql.insert(
                conn,
                user_id=user["id"],
                prompt=prompt,
                messages=None,
                model=None,
                max_tokens=64,
                is_async=False,
                meta={"provider": "openai", "attempts": 0},
            )
        s = settings.model_copy(update=ai_settings(fake_ai.base_url, ai_provider="openai") | overrides)
        return request_id, job_payload(s, request_id)

    return make


async def row(client, request_id: int):
    async with client.app[pool_key].acquire() as conn:
        return await ai_sql.get(conn, request_id)


async def events_of(stream) -> list[dict[str, Any]]:
    return [await ref async for ref in stream]


async def test_chunks_arrive_as_the_provider_sends_them_and_the_row_keeps_the_whole(
    client, settings, fake_ai, request_row
):
    request_id, payload = await request_row()
    fake_ai.stream_hold = asyncio.Event()
    stream = start_stream(payload, settings.database_url)
    first = await (await stream.__anext__())
    # the provider has sent one chunk and is holding the rest: that chunk is already here
    assert first["type"] == STREAM_CHUNK
    assert first["chunk"]["choices"][0]["delta"] == {"role": "assistant", "content": "echo: "}
    assert fake_ai.streamed_chunks == 1
    assert (await row(client, request_id))["status"] == "running"
    fake_ai.stream_hold.set()
    rest = await events_of(stream)
    assert [e["type"] for e in rest] == [STREAM_CHUNK] * 4 + [STREAM_DONE]
    text = "".join(e["chunk"]["choices"][0]["delta"].get("content", "") for e in [first, *rest[:-1]])
    assert text == "echo: hello stream world"
    assert rest[-1]["request_id"] == request_id
    stored = await row(client, request_id)
    assert stored["status"] == "finished"
    assert stored["result"]["object"] == "chat.completion"
    assert stored["result"]["choices"][0]["message"] == {"role": "assistant", "content": "echo: hello stream world"}
    assert stored["result"]["choices"][0]["finish_reason"] == "stop"
    assert stored["meta"]["tokens"] == 7
    assert stored["meta"]["chunks"] == 5
    assert stored["meta"]["stream"] is True
    assert fake_ai.calls[0]["body"]["stream"] is True


async def test_a_failing_provider_fails_the_row_and_says_so_in_the_stream(client, settings, fake_ai, request_row):
    request_id, payload = await request_row()
    fake_ai.script(fail(500))
    events = await events_of(start_stream(payload, settings.database_url))
    assert len(events) == 1 and events[0]["type"] == STREAM_ERROR
    assert "the provider answered 500" in events[0]["message"]
    stored = await row(client, request_id)
    assert stored["status"] == "failed"
    assert stored["meta"]["provider_status"] == 500
    assert len(fake_ai.calls) == 1  # never replayed


async def test_no_key_in_the_workers_environment(client, settings, fake_ai, request_row):
    request_id, payload = await request_row(ai_api_key_env="ROOST_TEST_AI_KEY_THAT_IS_NOT_SET")
    events = await events_of(start_stream(payload, settings.database_url))
    assert events == [{"type": STREAM_ERROR, "message": "AI provider is not configured", "error_kind": "misconfigured"}]
    assert (await row(client, request_id))["status"] == "failed"
    assert fake_ai.calls == []


async def test_a_generation_that_is_not_pending_is_not_streamed_again(client, settings, fake_ai, request_row):
    request_id, payload = await request_row()
    assert [e["type"] for e in await events_of(start_stream(payload, settings.database_url))][-1] == STREAM_DONE
    again = await events_of(start_stream(payload, settings.database_url))
    assert [e["type"] for e in again] == [STREAM_ERROR]
    assert again[0]["error_kind"] == "settled"
    assert len(fake_ai.calls) == 1
