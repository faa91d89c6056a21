"""A small local AI provider speaking both dialects Roost's client speaks (jobs/ai_provider.py):
Gorq's `POST /v1/generate` and OpenAI's `POST /v1/chat/completions`, Bearer key checked.

A test scripts what the next calls do (`fake_ai.script(...)`: answer after a latency, answer a
status with `Retry-After`, hang past the client's timeout) and reads back what was sent
(`calls`) and how many calls were in flight at once at most (`peak`). A chat-completions call with
`"stream": true` is answered as server-sent events, one chunk per word (`stream_hold` pauses it
after the first, `streamed_chunks` counts what was sent). Calls beyond the script
answer successfully. `dead_url()` is a base URL nobody listens on (a provider that is down).

The key. Workers read it from their own environment (jobs/ai.py), so tests/conftest.py puts
TEST_AI_KEY in the environment under TEST_AI_KEY_ENV before Ray starts; `ai_settings()` names that
variable. The fixture `fake_ai` reaches every test through tests/conftest.py's `pytest_plugins`.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

TEST_AI_KEY_ENV = "ROOST_TEST_AI_API_KEY"
TEST_AI_KEY = "test-ai-key-5f1c0e"


@dataclass(frozen=True)
class Step:
    """What one call does: wait `latency_s`, then answer `status` (200: a generation)."""

    status: int = 200
    latency_s: float = 0.0
    retry_after: str | None = None
    body: Any = None


def ok(latency_s: float = 0.0) -> Step:
    return Step(200, latency_s)


def fail(status: int, retry_after: str | None = None, latency_s: float = 0.0) -> Step:
    return Step(status, latency_s, retry_after, {"error": {"message": f"fake failure {status}"}})


def hang(seconds: float = 30.0) -> Step:
    return Step(200, seconds)


def dead_url() -> str:
    """A local address nobody listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeAi:
    def __init__(self, key: str = TEST_AI_KEY) -> None:
        self.key = key
        self.server: TestServer | None = None
        self.calls: list[dict[str, Any]] = []
        self._script: list[Step] = []
        self.inflight = 0
        self.peak = 0
        # streaming: when set, the stream pauses after its first chunk until the event is set
        self.stream_hold: asyncio.Event | None = None
        self.streamed_chunks = 0

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def script(self, *steps: Step) -> None:
        self._script = list(steps)

    def reset(self) -> None:
        self._script, self.calls, self.peak = [], [], 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/generate", self._gorq)
        app.router.add_post("/v1/chat/completions", self._openai)
        return app

    async def _serve(self, request: web.Request, dialect: str) -> tuple[Step, dict[str, Any]] | web.Response:
        body = await request.json()
        self.calls.append({"dialect": dialect, "body": body, "auth": request.headers.get("Authorization")})
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return web.json_response({"error": "invalid api key"}, status=401)
        step = self._script.pop(0) if self._script else ok()
        self.inflight += 1
        self.peak = max(self.peak, self.inflight)
        try:
            if step.latency_s:
                await asyncio.sleep(step.latency_s)
        finally:
            self.inflight -= 1
        if step.status != 200:
            headers = {"Retry-After": step.retry_after} if step.retry_after is not None else None
            return web.json_response(step.body, status=step.status, headers=headers)
        return step, body

    async def _gorq(self, request: web.Request) -> web.Response:
        served = await self._serve(request, "gorq")
        if isinstance(served, web.Response):
            return served
        _, body = served
        text = body.get("prompt") or body["messages"][-1]["content"]
        return web.json_response(
            {
                "id": f"gen-{len(self.calls)}",
                "model": body.get("model") or "gorq-1",
                "output": f"echo: {text}",
                "usage": {"total_tokens": 7},
            }
        )

    async def _openai(self, request: web.Request) -> web.Response:
        served = await self._serve(request, "openai")
        if isinstance(served, web.Response):
            return served
        step, body = served
        if body.get("stream"):
            return await self._openai_stream(request, body, step)
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.calls)}",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": f"echo: {body['messages'][-1]['content']}"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
            }
        )

    async def _openai_stream(self, request: web.Request, body: dict[str, Any], step: Step) -> web.StreamResponse:
        """Chat completions with `"stream": true`: server-sent events, one chunk per word of the
        echo, then a chunk with the finish reason and usage, then `[DONE]` (OpenAI's format)."""
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        words = f"echo: {body['messages'][-1]['content']}".split(" ")
        base = {"id": f"chatcmpl-{len(self.calls)}", "object": "chat.completion.chunk", "model": body["model"]}

        async def send(payload: str) -> None:
            await resp.write(f"data: {payload}\n\n".encode())

        await resp.write(b": keep-alive\n\n")
        for i, word in enumerate(words):
            delta = {"content": word if i == len(words) - 1 else word + " "}
            if i == 0:
                delta["role"] = "assistant"
            await send(json.dumps(base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}))
            self.streamed_chunks += 1
            if i == 0 and self.stream_hold is not None:
                await self.stream_hold.wait()
        usage = {"prompt_tokens": 3, "completion_tokens": len(words), "total_tokens": 3 + len(words)}
        await send(json.dumps(base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}))
        self.streamed_chunks += 1
        await send("[DONE]")
        await resp.write_eof()
        return resp

    async def start(self) -> None:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


def ai_settings(base_url: str, **overrides: Any) -> dict[str, Any]:
    """Settings overrides aiming Roost's AI generation at a fake (quick timeouts and backoff)."""
    values: dict[str, Any] = {
        "ai_provider": "gorq",
        "ai_base_url": base_url,
        "ai_api_key_env": TEST_AI_KEY_ENV,
        "ai_provider_timeout_s": 2.0,
        "ai_provider_retries": 2,
        "ai_sync_timeout_s": 15.0,
        "ai_breaker_failures": 5,
        "ai_breaker_cooldown_s": 30.0,
        "ai_job_max_attempts": 1,
    }
    values.update(overrides)
    return values


@pytest.fixture
async def fake_ai() -> AsyncIterator[FakeAi]:
    fake = FakeAi()
    await fake.start()
    yield fake
    await fake.close()
