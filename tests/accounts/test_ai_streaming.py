"""AI streaming on the Ray worker pool (jobs/ai.py's streaming generator task) against the local
fake provider's chat-completions stream: chunks reach the caller as the provider sends them, and
the `ai_requests` row ends with the full result (or the failure).

Over HTTP, `"stream": true` on POST /api/ai/generate answers text/event-stream: the provider's
chunks as `data:` events while they come, then `data: [DONE]` (the tests at the end)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.accounts.ai import job_payload
from gateway.kernel.keys import pool_key
from jobs.ai import STREAM_CHUNK, STREAM_DONE, STREAM_ERROR, start_stream
from storage import ai_requests as ai_sql
from tests.accounts.account_helpers import assert_err
from tests.ai_fakes import ai_settings, fail
from tests.builders import bearer, make_token, make_user


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


# -- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
async def streaming_client(aiohttp_client, settings, fake_ai, ray_session):
    from gateway.app import create_app

    async def make(**overrides: Any):
        app = create_app(settings.model_copy(update=ai_settings(fake_ai.base_url, **overrides)))
        client = await aiohttp_client(app)
        user = await make_user(client.app)
        headers = bearer(await make_token(client.app, user["id"])) | {"Accept": "application/json"}
        return client, headers

    return make


async def sse_events(resp) -> list[tuple[str, str]]:
    """(event name, data) of every event, in order (`message` when unnamed)."""
    text = (await resp.read()).decode()
    out = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        out.append((name, "\n".join(data)))
    return out


async def test_stream_over_http_forwards_chunks_as_they_come_and_records_the_whole(streaming_client, fake_ai):
    import orjson

    client, headers = await streaming_client(ai_provider="openai")
    fake_ai.stream_hold = asyncio.Event()
    resp = await client.post("/api/ai/generate", json={"prompt": "hi there", "stream": True}, headers=headers)
    assert resp.status == 200
    assert resp.content_type == "text/event-stream"
    assert resp.headers["Cache-Control"] == "no-cache" and "X-Request-ID" in resp.headers
    request_id = int(resp.headers["Location"].rsplit("/", 2)[-2])
    # the provider holds all but its first chunk: that one is already readable
    first = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 30)
    assert orjson.loads(first.removeprefix(b"data: "))["choices"][0]["delta"]["content"] == "echo: "
    fake_ai.stream_hold.set()
    events = await sse_events(resp)
    assert events[-1] == ("message", "[DONE]")
    chunks = [orjson.loads(data) for _, data in events[:-1]]
    text = "echo: " + "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "echo: hi there"
    stored = await row(client, request_id)
    assert stored["status"] == "finished"
    assert stored["result"]["choices"][0]["message"]["content"] == "echo: hi there"
    # the status route agrees
    status = await client.get(f"/api/ai/jobs/{request_id}/status", headers=headers)
    assert (await status.json())["data"]["status"] == "finished"


async def test_a_failing_provider_ends_the_stream_with_an_error_event(streaming_client, fake_ai):
    import orjson

    client, headers = await streaming_client(ai_provider="openai")
    fake_ai.script(fail(500))
    resp = await client.post("/api/ai/generate", json={"prompt": "hi", "stream": True}, headers=headers)
    assert resp.status == 200 and resp.content_type == "text/event-stream"
    events = await sse_events(resp)
    assert [name for name, _ in events] == ["error"]
    error = orjson.loads(events[0][1])
    assert "the provider answered 500" in error["message"] and error["error_kind"]
    request_id = int(resp.headers["Location"].rsplit("/", 2)[-2])
    assert (await row(client, request_id))["status"] == "failed"


NOT_CHAT = "Streaming needs the chat-completions provider (AI_PROVIDER=openai)."
NOT_ASYNC = "A streamed generation cannot also be async."


@pytest.mark.parametrize(
    "provider,body,message",
    [
        ("gorq", {"prompt": "refused one", "stream": True}, NOT_CHAT),
        ("openai", {"prompt": "refused two", "stream": True, "async": True}, NOT_ASYNC),
    ],
)
async def test_stream_refusals_store_nothing(streaming_client, fake_ai, provider, body, message):
    client, headers = await streaming_client(ai_provider=provider)
    resp = await client.post("/api/ai/generate", json=body, headers=headers)
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, "The given data was invalid.")
    assert errors == {"stream": [message]}
    assert fake_ai.calls == []
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select count(*) from ai_requests where prompt = $1", body["prompt"]) == 0


async def test_stream_needs_a_signed_in_caller(streaming_client, fake_ai):
    client, _ = await streaming_client(ai_provider="openai")
    resp = await client.post("/api/ai/generate", json={"prompt": "hi", "stream": True})
    assert resp.status == 401
    assert fake_ai.calls == []
