"""Every cleanup context and root app key, in the one order they start in (and stop in reverse).

aiohttp runs `cleanup_ctx` entries in list order on startup and in reverse on shutdown, so a
context may use what an earlier one set up and is stopped before it. Each entry says what it sets
and what it needs. The contexts are defined beside what they build: the kernel's in
gateway/kernel/resources.py, 000's and 001's in their packages; only the order lives here.

This module sits beside the composition root (gateway/app.py), not in the kernel: the order names
contract contexts, and the kernel may not import a contract package.

Everything goes on the ROOT app: the root and the API_DOMAIN app (gateway/app.py) then share one
pool, one quota lease table and one request log buffer per process, and sub-apps find them
through `request.config_dict`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from domain.clock import Clock
from domain.media_access import VisibilityCache
from domain.media_store import event_media_store
from domain.settings import Settings
from gateway.events.feed import event_feeds_ctx
from gateway.events.notifications import notifications_ctx
from gateway.events.upload_sweeper import upload_sweeper_ctx
from gateway.kernel.keys import clock_key, media_store_key, media_visibility_key, settings_key
from gateway.kernel.metrics import Metrics, metrics_key, metrics_port_ctx
from gateway.kernel.resources import (
    actors_ctx,
    identity_ctx,
    jobs_ctx,
    postgres_ctx,
    ray_ctx,
    redis_ctx,
    runtime_settings_ctx,
)
from gateway.petcare.meals import meal_aggregates_ctx
from gateway.pethealth.quota import quota_ctx
from gateway.pethealth.request_log import request_log_ctx

CleanupContext = Callable[[web.Application], AsyncIterator[None]]

CLEANUP_CONTEXTS: tuple[CleanupContext, ...] = (
    # pool_key: the asyncpg pool. Needs settings_key.
    postgres_ctx,
    # redis_key. Needs settings_key.
    redis_ctx,
    # token_cache_key (with its invalidation listener), sessions_key, throttles_key, accounts_key.
    # Needs postgres_ctx and redis_ctx.
    identity_ctx,
    # joins the Ray instance the entry point started (or RAY_ADDRESS); sets nothing.
    ray_ctx,
    # actors_key: one batching shard client per actor kind. Needs ray_ctx.
    actors_ctx,
    # runtime_settings_key (`roost settings set`, polled). Needs postgres_ctx.
    runtime_settings_ctx,
    # 000's daily quota (quota_key_app). Needs actors_ctx and runtime_settings_ctx.
    quota_ctx,
    # 000's write-behind request log and its daily prune (request_log_key). Needs postgres_ctx and
    # runtime_settings_ctx; stopped before them, so its last flush still has the pool.
    request_log_ctx,
    # jobs_key: the job runner and its retry/orphan loop. Needs postgres_ctx and ray_ctx.
    jobs_ctx,
    # 001's feed snapshots and presence (feeds_key, feed_notifier_key). Needs postgres_ctx and
    # actors_ctx; its cleanup flushes presence before they close.
    event_feeds_ctx,
    # 002's today views, access cache and default day zone (meal_aggregates_key, meal_access_key,
    # meal_zone_key). Needs actors_ctx; its cleanup sends the last changes to the aggregates.
    meal_aggregates_ctx,
    # 001's sweep of abandoned uploads. Needs postgres_ctx (and the media folder from settings).
    upload_sweeper_ctx,
    # 001's tenant notifications loop: expiring packages, and alerts made inside Ray jobs queued.
    # Needs postgres_ctx and jobs_ctx.
    notifications_ctx,
    # /metrics on METRICS_PORT when set (a private listener). Needs metrics_key.
    metrics_port_ctx,
)


def install(app: web.Application, settings: Settings, metrics: Metrics, clock: Clock) -> None:
    """The root app's keys that need no context, then every cleanup context in order."""
    app[settings_key] = settings
    # read by every context below that keeps time: throttles, sessions, the token cache, quota,
    # upload URLs and every background loop
    app[clock_key] = clock
    app[metrics_key] = metrics
    # the actor, lease, snapshot and job metrics read what the contexts below put on the app
    metrics.layers.bind(app)
    # 001's photo store (event uploads, variants, archives) and the /storage visibility cache the
    # pages' media route and 001's moderation share: plain objects, nothing to open or close
    app[media_store_key] = event_media_store(settings.media_dir)
    app[media_visibility_key] = VisibilityCache()
    app.cleanup_ctx.extend(CLEANUP_CONTEXTS)
