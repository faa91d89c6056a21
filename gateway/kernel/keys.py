"""Typed keys for everything shared through the application object."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

if TYPE_CHECKING:
    from actors.client import ShardClient
    from domain.accounts import Accounts
    from domain.media_access import VisibilityCache
    from domain.media_store import LocalMediaStore
    from gateway.kernel.auth.sessions import SessionStore
    from gateway.kernel.auth.token_cache import TokenCache
    from gateway.kernel.throttle import Throttles
    from gateway.kernel.contracts import Contract
    from gateway.kernel.metrics import Metrics
    from domain.settings import Settings
    from jobs.runtime import JobRunner

settings_key = web.AppKey("settings", "Settings")
pool_key = web.AppKey("pool", asyncpg.Pool)
redis_key = web.AppKey("redis", aioredis.Redis)
actors_key = web.AppKey("actors", "dict[str, ShardClient]")
jobs_key = web.AppKey("jobs", "JobRunner")
metrics_key = web.AppKey("metrics", "Metrics")
token_cache_key = web.AppKey("token_cache", "TokenCache")
sessions_key = web.AppKey("sessions", "SessionStore")
accounts_key = web.AppKey("accounts", "Accounts")
throttles_key = web.AppKey("throttles", "Throttles")
contract_key = web.AppKey("contract", "Contract")

# per-request storage
request_id_key = web.RequestKey("request_id", str)

# 001: the event photo store (domain/media_store.py)
media_store_key = web.AppKey("media_store", "LocalMediaStore")
# which event photos guests may fetch under /storage, cached briefly (gateway/web/media.py)
media_visibility_key = web.AppKey("media_visibility", "VisibilityCache")
