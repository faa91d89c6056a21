"""The application factory: one root app, a sub-app per /api mount, 002 at the root."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web, web_response

from gateway.api.app import create_api_app
from gateway.api.resources import quota_ctx, request_log_ctx, runtime_settings_ctx
from gateway.kernel import api_envelope
from gateway.kernel.contracts import Contract
from gateway.kernel.errors_render import error_renderer
from gateway.events.app import create_events_app
from gateway.events.routes import setup_fast_routes
from gateway.events.upload_sweeper import upload_sweeper_ctx
from gateway.events import envelope as events_envelope
from gateway.events.feed import event_feeds_ctx
from gateway.kernel.health import healthz, readyz
from gateway.kernel.keys import contract_key, metrics_key, settings_key
from gateway.kernel.metrics import Metrics, metrics_handler, metrics_port_ctx
from gateway.kernel.middlewares import gateway_middleware
from gateway.petcare import envelope as petcare_envelope
from gateway.petcare.routes import setup_routes as setup_petcare_routes
from gateway.web.media import setup_routes as setup_media_routes
from gateway.web.pages import setup_routes as setup_web_routes
from gateway.kernel.resources import actors_ctx, identity_ctx, jobs_ctx, postgres_ctx, ray_ctx, redis_ctx
from domain.settings import Settings


RouteHook = Callable[[Contract, web.Application], None]

# Each request's failures leave in its contract's envelope (gateway/kernel/contracts.py says which).
ERROR_RENDERERS = {
    Contract.API: api_envelope.error,
    Contract.EVENTS: events_envelope.error,
    Contract.PETCARE: petcare_envelope.error,
    # ops endpoints live at the root, where 002's envelope is what a client there expects
    Contract.OPS: petcare_envelope.error,
    Contract.WEB: api_envelope.error,
}

# What every answer says in `Server`: the name, no versions to match against vulnerability lists.
SERVER_HEADER = "roost"


def _hide_versions() -> None:
    """aiohttp fills in `Server: Python/3.x aiohttp/3.y` from this module global when a response
    has none (StreamResponse._prepare_headers, its own error pages included). Replacing the value
    once costs nothing per request, unlike a header set in the middleware or on_response_prepare,
    and covers answers that never reach the middleware. tests/security holds it."""
    web_response.SERVER_SOFTWARE = SERVER_HEADER


def _api_domain_app(settings: Settings) -> web.Application:
    """003's subdomain mode: on the API_DOMAIN host the /api routes answer at the root.

    aiohttp consults domain-matched apps before any path, so everything on that host is served
    here: the probes are repeated, and API_PREFIX_FALLBACK keeps /api/... working there too.
    The main host always keeps /api, because 000's clients live there.
    """
    domain_app = create_api_app(settings)
    domain_app.router.add_get("/healthz", healthz)
    domain_app.router.add_get("/readyz", readyz)
    if settings.api_prefix_fallback:
        domain_app.add_subapp("/api", create_api_app(settings))
    return domain_app


def create_app(settings: Settings, *, add_routes: RouteHook | None = None) -> web.Application:
    """The whole gateway. `add_routes(contract, app)` runs on each contract's app before it is
    mounted (mounting freezes a router), for embedders and tests that add their own routes."""
    if not settings.database_url or not settings.redis_url:
        raise ValueError("create_app needs resolved DATABASE_URL and REDIS_URL (see gateway.embedded)")
    _hide_versions()
    metrics = Metrics()
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # ids, metrics, authentication and envelopes in one layer (gateway/kernel/middlewares.py)
        middlewares=[gateway_middleware(metrics, error_renderer(ERROR_RENDERERS))],
    )
    app[settings_key] = settings
    app[metrics_key] = metrics
    app[contract_key] = Contract.PETCARE
    app.cleanup_ctx.extend([postgres_ctx, redis_ctx, identity_ctx, ray_ctx, actors_ctx, runtime_settings_ctx, quota_ctx, request_log_ctx, jobs_ctx, event_feeds_ctx, upload_sweeper_ctx])

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.cleanup_ctx.append(metrics_port_ctx)
    app.router.add_get("/metrics", metrics_handler)
    # /api/v1 before /api: sub-apps are matched in the order they were added.
    if settings.api_domain:
        app.add_domain(settings.api_domain, _api_domain_app(settings))
    events_app, api_app = create_events_app(settings), create_api_app(settings)
    if add_routes is not None:
        for contract, sub in ((Contract.EVENTS, events_app), (Contract.API, api_app), (Contract.PETCARE, app)):
            add_routes(contract, sub)
    setup_fast_routes(app, "/api/v1")
    app.add_subapp("/api/v1", events_app)
    app.add_subapp("/api", api_app)
    setup_petcare_routes(app.router, settings.petcare_prefix)
    setup_web_routes(app.router)
    setup_media_routes(app)
    return app
