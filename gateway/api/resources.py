"""Cleanup contexts for the /api quota, request log and runtime settings.

They go on the ROOT app's cleanup_ctx after `actors_ctx` (they need its pool, Redis-free) so that
the root and the API_DOMAIN app share one quota lease table and one log buffer per process; the
/api middlewares find them through `request.config_dict` and pass requests through when absent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from domain.system_settings import RuntimeSettings
from gateway.api.quota import DailyQuota, quota_key_app
from gateway.api.request_log import DailyPrune, RequestLog, request_log_key
from gateway.kernel.keys import actors_key, pool_key, settings_key

runtime_settings_key = web.AppKey("runtime_settings", RuntimeSettings)


async def runtime_settings_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = RuntimeSettings(app[pool_key], poll_s=app[settings_key].runtime_settings_poll_s)
    await runtime.start()
    app[runtime_settings_key] = runtime
    yield
    await runtime.stop()


async def quota_ctx(app: web.Application) -> AsyncIterator[None]:
    """Needs runtime_settings_ctx and actors_ctx before it."""
    app[quota_key_app] = DailyQuota(app[actors_key]["quota"], app[runtime_settings_key])
    yield


async def request_log_ctx(app: web.Application) -> AsyncIterator[None]:
    """The write-behind request log and the daily prune. Needs runtime_settings_ctx before it."""
    writer = RequestLog(app[pool_key])
    writer.start()
    prune = DailyPrune(app[pool_key], app[runtime_settings_key])
    prune.start()
    app[request_log_key] = writer
    yield
    await prune.stop()
    await writer.stop()
