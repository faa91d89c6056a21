"""The /api/v1 sub-application (001)."""

from __future__ import annotations

from aiohttp import web

from domain.media_store import event_media_store
from gateway.kernel.contracts import Contract
from gateway.events.routes import setup_routes
from gateway.kernel.keys import contract_key, media_store_key
from domain.settings import Settings


def create_events_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[contract_key] = Contract.EVENTS
    app[media_store_key] = event_media_store(settings.media_dir)
    setup_routes(app)
    return app
