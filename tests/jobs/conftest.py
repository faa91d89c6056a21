"""Job runners for the runtime tests: real PostgreSQL and Ray, fast backoff."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from domain.settings import Settings
from jobs.runtime import JobRunner

MakeRunner = Callable[..., Awaitable[JobRunner]]


@pytest.fixture
async def make_runner(settings: Settings, pool: asyncpg.Pool, ray_session) -> AsyncIterator[MakeRunner]:
    """Builds runners (defaults: backoff 50-200 ms); all are stopped after the test."""
    made: list[JobRunner] = []

    async def make(**overrides) -> JobRunner:
        options = dict(backoff_base_s=0.05, backoff_cap_s=0.2) | overrides
        runner = JobRunner.from_settings(settings, pool, **options)
        made.append(runner)
        return runner

    yield make
    for runner in made:
        await runner.stop()


@pytest.fixture
async def runner(make_runner: MakeRunner) -> JobRunner:
    return await make_runner()
