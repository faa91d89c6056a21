"""The composition root: the one place that knows every contract.

`create_app` builds the root app (the one root middleware, probes, metrics, 002 and the pages at
the root), the /api/v1 sub-app (001), and the /api sub-app that carries two documents, 000 and 003,
under one envelope and 000's request log and usage limits. It may import every package; nothing
but the entry points (gateway/ops, tests, loadtests) imports it.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web, web_response
from aiohttp.typedefs import Middleware

from domain.clock import SYSTEM_CLOCK, Clock
from domain.settings import Settings
from gateway import wiring
from gateway.accounts import openapi as accounts_openapi
from gateway.accounts.routes import setup_routes as setup_accounts_routes
from gateway.events import envelope as events_envelope
from gateway.events import openapi as events_openapi
from gateway.events.routes import setup_fast_routes as setup_event_polls
from gateway.events.routes import setup_routes as setup_events_routes
from gateway.kernel import api_envelope
from gateway.kernel.contracts import Contract
from gateway.kernel.errors_render import error_renderer
from gateway.kernel.health import healthz, readyz
from gateway.kernel.keys import landing_page_key
from gateway.kernel.metrics import Metrics, metrics_handler
from gateway.kernel.middlewares import gateway_middleware
from gateway.kernel.openapi.builder import build_document
from gateway.kernel.openapi.serve import Published, add_document_routes, documents_key, publish
from gateway.kernel.openapi.ui import add_ui_routes
from gateway.petcare import envelope as petcare_envelope
from gateway.petcare import openapi as petcare_openapi
from gateway.petcare.limits import petcare_limits_middleware
from gateway.petcare.routes import setup_routes as setup_petcare_routes
from gateway.pethealth import openapi as pethealth_openapi
from gateway.pethealth.request_log import request_log_middleware
from gateway.pethealth.routes import setup_routes as setup_pethealth_routes
from gateway.pethealth.throttles import usage_limits_middleware
from gateway.web.landing import landing_page
from gateway.web.routes import setup_routes as setup_web_routes

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


def create_api_app(settings: Settings) -> web.Application:
    """/api: 003's routes and 000's on one sub-app, in the union envelope."""
    # outermost first: the log sees every answer (429s included); a throttled request costs no quota
    middlewares: list[Middleware] = [request_log_middleware]
    # The switches exist to price these features (loadtests quota_overhead) and for operators who
    # enforce limits at the ingress; both default to on.
    if settings.api_throttles_enabled or settings.api_quota_enabled:
        middlewares.append(usage_limits_middleware(settings))
    app = web.Application(middlewares=middlewares)
    setup_accounts_routes(app.router)
    setup_pethealth_routes(app.router)
    return app


def _petcare_limits(settings: Settings) -> list[Middleware]:
    # the /api throttles' switch covers 002's too (benchmarks pricing them, limits at the ingress)
    return [petcare_limits_middleware(settings)] if settings.api_throttles_enabled else []


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


def _all_event_routes(router: web.UrlDispatcher) -> None:
    setup_event_polls(router, "")  # the polls are served from the root app, at the same paths
    setup_events_routes(router)


def build_documents(settings: Settings) -> dict[str, Published]:
    """Every contract's OpenAPI document, from the route tables this app serves, at its stable
    path (the README's "API documents" lists them)."""
    docs = [
        publish(
            "pethealth", "/api/openapi/pethealth.json", build_document(pethealth_openapi.SPEC, setup_pethealth_routes)
        ),
        publish("accounts", "/api/openapi/accounts.json", build_document(accounts_openapi.SPEC, setup_accounts_routes)),
        publish("events", "/api/v1/openapi.json", build_document(events_openapi.SPEC, _all_event_routes)),
        publish(
            "petcare",
            f"{settings.petcare_prefix}/openapi.json",
            build_document(petcare_openapi.spec_for(settings.petcare_prefix), setup_petcare_routes),
        ),
    ]
    return {d.key: d for d in docs}


def create_app(
    settings: Settings, *, clock: Clock = SYSTEM_CLOCK, add_routes: RouteHook | None = None
) -> web.Application:
    """The whole gateway. `clock` is what every time window and background loop reads (tests pass
    a fake one and move it instead of sleeping). `add_routes(contract, app)` runs on each
    contract's app before it is mounted (mounting freezes a router), for embedders and tests that
    add their own routes."""
    if not settings.database_url or not settings.redis_url:
        raise ValueError("create_app needs resolved DATABASE_URL and REDIS_URL (see gateway.ops.embedded)")
    _hide_versions()
    metrics = Metrics()
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # ids, metrics, authentication and envelopes in one layer (gateway/kernel/middlewares.py)
        # 002's limits after it (the caller is known then); they pass other contracts straight by
        middlewares=[gateway_middleware(metrics, error_renderer(ERROR_RENDERERS)), *_petcare_limits(settings)],
    )
    wiring.install(app, settings, metrics, clock)
    app[documents_key] = documents = build_documents(settings)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    # /api/v1 before /api: sub-apps are matched in the order they were added.
    if settings.api_domain:
        app.add_domain(settings.api_domain, _api_domain_app(settings))
    events_app, api_app = web.Application(), create_api_app(settings)
    setup_events_routes(events_app.router)
    if add_routes is not None:
        for contract, sub in ((Contract.EVENTS, events_app), (Contract.API, api_app), (Contract.PETCARE, app)):
            add_routes(contract, sub)
    setup_event_polls(app.router, "/api/v1")
    # on the root app, ahead of the sub-apps: documents cost no throttle, quota or request log
    add_document_routes(app.router, documents)
    add_ui_routes(app.router, documents, settings.petcare_prefix)  # /docs and /scalar over them all
    app.add_subapp("/api/v1", events_app)
    app.add_subapp("/api", api_app)
    setup_petcare_routes(app.router, settings.petcare_prefix)
    setup_web_routes(app.router)
    # 002's `/` hands browsers to the landing page outside production; with 002 under a prefix,
    # the root serves the page itself
    app[landing_page_key] = landing_page
    if settings.petcare_prefix:
        app.router.add_get("/", landing_page)
    return app
