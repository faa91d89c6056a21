"""The /api sub-application."""

from __future__ import annotations

from aiohttp import web

from gateway.api.request_log import request_log_middleware
from gateway.api.routes import setup_routes
from gateway.api.throttles import usage_limits_middleware
from gateway.kernel.contracts import Contract
from gateway.kernel.keys import contract_key
from domain.settings import Settings


def create_api_app(settings: Settings) -> web.Application:
    # outermost first: the log sees every answer (429s included); a throttled request costs no quota
    middlewares = [request_log_middleware]
    # The switches exist to price these features (loadtests quota_overhead) and for operators who
    # enforce limits at the ingress; both default to on.
    if settings.api_throttles_enabled or settings.api_quota_enabled:
        middlewares.append(usage_limits_middleware(settings))
    app = web.Application(middlewares=middlewares)
    app[contract_key] = Contract.API
    setup_routes(app)
    return app
