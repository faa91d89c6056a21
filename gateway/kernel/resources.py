"""The kernel's resources, each opened and closed by one cleanup context.

What each needs before it, and the one order they run in (with the contracts' contexts), is
gateway/wiring.py's list.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from aiohttp import web

from actors.client import ShardClient
from actors.kinds import KINDS
from actors.runtime import connect_ray
from domain.accounts import Accounts
from domain.passwords import PasswordHashing
from domain.system_settings import RuntimeSettings
from gateway.kernel.auth.sessions import SessionStore
from gateway.kernel.auth.token_cache import TokenCache
from gateway.kernel.keys import (
    accounts_key,
    actors_key,
    clock_key,
    jobs_key,
    pool_key,
    redis_key,
    runtime_settings_key,
    sessions_key,
    settings_key,
    throttles_key,
    token_cache_key,
)
from gateway.kernel.throttle import Throttles
from jobs.runtime import JobRunner
from storage.pool import create_pool


async def postgres_ctx(app: web.Application) -> AsyncIterator[None]:
    s = app[settings_key]
    assert s.database_url is not None  # create_app refuses settings without it
    app[pool_key] = await create_pool(s.database_url, min_size=s.db_pool_min, max_size=s.db_pool_max)
    yield
    await app[pool_key].close()


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    url = app[settings_key].redis_url
    assert url is not None  # create_app refuses settings without it
    app[redis_key] = aioredis.from_url(url, decode_responses=False)
    yield
    await app[redis_key].aclose()


async def ray_ctx(app: web.Application) -> AsyncIterator[None]:
    """Joins the Ray instance the entry point started (or the cluster at RAY_ADDRESS).

    The process that started Ray stops it; a gateway only uses it.
    """
    s = app[settings_key]
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, lambda: connect_ray(s.ray_address, namespace=s.roost_ray_namespace))
    yield


async def actors_ctx(app: web.Application) -> AsyncIterator[None]:
    s = app[settings_key]
    assert s.database_url is not None  # create_app refuses settings without it
    clients = {
        kind: ShardClient(
            kind,
            shards=s.roost_shards,
            dsn=s.database_url,
            namespace=s.roost_ray_namespace,
            max_batch=s.actor_batch_max,
            max_wait_s=s.actor_batch_wait_ms / 1000,
        )
        for kind in KINDS
    }
    app[actors_key] = clients
    yield
    await asyncio.gather(*(c.close() for c in clients.values()))


async def identity_ctx(app: web.Application) -> AsyncIterator[None]:
    """Password hashing, the token cache (with its invalidation listener), sessions, throttles and
    the account operations built on them. Needs postgres_ctx and redis_ctx before it."""
    s = app[settings_key]
    hashing = PasswordHashing(
        time_cost=s.password_hash_time_cost,
        memory_kib=s.password_hash_memory_kib,
        max_concurrent=s.password_hash_concurrency,
    )
    clock = app[clock_key]
    cache = TokenCache(app[pool_key], app[redis_key], prefix=s.redis_prefix, clock=clock)
    cache.start()
    app[token_cache_key] = cache
    app[sessions_key] = SessionStore(
        app[redis_key],
        app_key=s.app_key,
        secure_cookies=s.app_env == "production",
        prefix=s.redis_prefix,
        clock=clock,
    )
    app[throttles_key] = Throttles(app[redis_key], prefix=s.redis_prefix, clock=clock.time)
    app[accounts_key] = Accounts(
        app[pool_key],
        hashing,
        cache,
        app_key=s.app_key,
        jwt_ttl_s=s.jwt_ttl_s,
        login_token_ttl_s=s.login_token_ttl_days * 86400,
    )
    yield
    await cache.stop()
    hashing.close()


async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    """The job runner and its background loop (due retries, orphan sweep).

    Needs postgres_ctx and ray_ctx before it. Stopping it leaves running jobs to Ray and their
    rows; another gateway's loop (or this one's, after a restart) picks up what they leave.
    """
    runner = JobRunner.from_settings(app[settings_key], app[pool_key], clock=app[clock_key])
    app[jobs_key] = runner
    runner.start()
    yield
    await runner.stop()


async def runtime_settings_ctx(app: web.Application) -> AsyncIterator[None]:
    """The runtime settings table (`roost settings set`), polled in the background. Needs
    postgres_ctx before it; 000's quota and request log read it."""
    runtime = RuntimeSettings(app[pool_key], poll_s=app[settings_key].runtime_settings_poll_s, clock=app[clock_key])
    await runtime.start()
    app[runtime_settings_key] = runtime
    yield
    await runtime.stop()
