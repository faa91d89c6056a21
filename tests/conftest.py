"""Session fixtures: real PostgreSQL, Redis and one Ray instance for the whole test session.

DATABASE_URL / REDIS_URL / RAY_ADDRESS name real servers when set; otherwise throwaway embedded
ones are started (the same code `roost serve` uses). Each session migrates its own fresh database
and uses its own Ray namespace, so concurrent runs on one machine don't see each other.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

import actors  # noqa: F401  (loopback flag before ray is imported)
from domain.settings import Settings
from gateway.ops.embedded import EmbeddedServices, Endpoints
from storage.migrate import migrate
from storage.pool import create_pool

RAY_TEST_CPUS = 2

# Fixtures every test may name without importing them (an imported fixture trips pyflakes' F811
# at every test that takes it): `cli_env` for the tests that run `roost` as the operator does,
# `fake_google`/`fake_github` (the OAuth providers), `smtp_inbox`/`mail_client` (a real SMTP server)
# and `fake_ai` (the AI provider)
pytest_plugins = ["tests.ops.cli_runs", "tests.oauth_fakes", "tests.smtp_inbox", "tests.ai_fakes"]


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def services() -> Iterator[Endpoints]:
    # Not under pytest's tmp_path: pytest prunes all but its three newest base folders, so a
    # concurrent pytest run on the same machine could delete a live embedded PostgreSQL.
    data_dir = Path(tempfile.mkdtemp(prefix="roost-test-"))
    embedded = EmbeddedServices(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        ray_address=os.environ.get("RAY_ADDRESS") or None,
    )
    endpoints = embedded.start()
    yield endpoints
    embedded.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def database_url(services: Endpoints) -> AsyncIterator[str]:
    """A fresh database on the server, migrated, dropped at the end of the session."""
    name = f"roost_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(services.database_url)
    try:
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    dsn = _with_database(services.database_url, name)
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield dsn
    admin = await asyncpg.connect(services.database_url)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def settings(services: Endpoints, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        _env_file=None,
        app_env="testing",
        app_key=secrets.token_hex(32),
        database_url=database_url,
        redis_url=services.redis_url,
        ray_address=services.ray_address,
        roost_data_dir=tmp_path_factory.mktemp("roost-data"),
        roost_shards=4,
        roost_ray_namespace=f"roost-test-{uuid.uuid4().hex[:8]}",
        # concurrent test runs on one Redis must not share throttle counters or sessions
        redis_prefix=f"roost-test-{uuid.uuid4().hex[:8]}",
        # the cheapest argon2id that is still argon2id: tests hash hundreds of passwords
        password_hash_time_cost=1,
        password_hash_memory_kib=8192,
        # every test registers from 127.0.0.1; throttle tests lower these on their own app
        throttle_auth_per_minute=10_000,
        throttle_register_per_hour=10_000,
        throttle_mail_per_hour=10_000,
        throttle_petcare_per_hour=10_000,
        throttle_petcare_photos_per_hour=10_000,
        throttle_petcare_search_per_hour=10_000,
    )


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(settings.database_url, min_size=1, max_size=5)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def redis_client(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(settings.redis_url)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def ray_session(settings: Settings) -> Iterator[None]:
    """One Ray instance (or connection) for the whole session; ray.init costs seconds."""
    from actors.runtime import connect_ray, disconnect_ray
    from tests.ai_fakes import TEST_AI_KEY, TEST_AI_KEY_ENV

    # AI workers read their provider key from their own environment (jobs/ai.py); a local Ray's
    # workers inherit this process's, as it is when Ray starts
    os.environ.setdefault(TEST_AI_KEY_ENV, TEST_AI_KEY)
    connect_ray(settings.ray_address, namespace=settings.roost_ray_namespace, num_cpus=RAY_TEST_CPUS)
    yield
    disconnect_ray()


@pytest.fixture
def aiohttp_client(aiohttp_client):
    """pytest-aiohttp's `aiohttp_client`, whose clients check every answer against the app's
    OpenAPI documents (tests/contract_validation.py)."""
    from gateway.kernel.keys import settings_key
    from gateway.kernel.openapi.serve import documents_key
    from tests.contract_validation import ContractIndex, check_response

    async def make(app_or_server, *args, **kwargs):
        test_client = await aiohttp_client(app_or_server, *args, **kwargs)
        app = test_client.app
        if app is not None and documents_key in app:
            index = ContractIndex(app[documents_key])
            api_domain = app[settings_key].api_domain
            unchecked = test_client._request

            async def checked(method, path, **kw):
                resp = await unchecked(method, path, **kw)
                await check_response(index, method, resp, api_domain)
                return resp

            test_client._request = checked  # type: ignore[method-assign]
        return test_client

    return make


@pytest.fixture
async def client(aiohttp_client, settings: Settings, ray_session):
    """A test client for the whole app (every contract), against the real services."""
    from gateway.app import create_app

    return await aiohttp_client(create_app(settings))
