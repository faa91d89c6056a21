"""The /api sub-application."""

from __future__ import annotations

from aiohttp import web

from gateway.api.routes import setup_routes
from gateway.contracts import Contract
from gateway.keys import contract_key
from gateway.settings import Settings


def create_api_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[contract_key] = Contract.API
    setup_routes(app)
    return app
