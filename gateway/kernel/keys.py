"""Typed keys for everything the kernel shares through the application object.

Which cleanup context sets each one, and in what order, is gateway/wiring.py's list. A key that
only one contract reads lives in that contract (000's quota and request log, 001's feeds), and
`metrics_key` lives with its one reader (gateway/kernel/metrics.py), which this module cannot import
without a cycle.
"""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.typedefs import Handler

from actors.client import ShardClient
from domain.accounts import Accounts
from domain.clock import Clock
from domain.media_access import VisibilityCache
from domain.media_store import LocalMediaStore
from domain.settings import Settings
from domain.system_settings import RuntimeSettings
from gateway.kernel.auth.sessions import SessionStore
from gateway.kernel.auth.token_cache import TokenCache
from gateway.kernel.throttle import Throttles
from jobs.runtime import JobRunner

settings_key = web.AppKey("settings", Settings)
# the one clock of this app (create_app's `clock`): what every time window and background loop reads
clock_key = web.AppKey("clock", Clock)
pool_key = web.AppKey("pool", asyncpg.Pool)
redis_key = web.AppKey("redis", aioredis.Redis)
actors_key = web.AppKey("actors", dict[str, ShardClient])
jobs_key = web.AppKey("jobs", JobRunner)
token_cache_key = web.AppKey("token_cache", TokenCache)
sessions_key = web.AppKey("sessions", SessionStore)
accounts_key = web.AppKey("accounts", Accounts)
throttles_key = web.AppKey("throttles", Throttles)
# `roost settings set` values, re-read from the database every few seconds (domain/system_settings.py)
runtime_settings_key = web.AppKey("runtime_settings", RuntimeSettings)

# per-request storage
request_id_key = web.RequestKey("request_id", str)

# 001: the event photo store (domain/media_store.py)
media_store_key = web.AppKey("media_store", LocalMediaStore)
# which event photos guests may fetch under /storage, cached briefly (gateway/web/media.py)
media_visibility_key = web.AppKey("media_visibility", VisibilityCache)

# the development landing page (gateway/web/landing.py), set by the composition root: 002's `/`
# hands a browser to it there, since a contract package cannot import the pages
landing_page_key: web.AppKey[Handler] = web.AppKey("landing_page")
