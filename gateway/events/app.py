"""The /api/v1 sub-application (001). Its routes arrive with the events issues."""

from __future__ import annotations

from aiohttp import web

from gateway.contracts import Contract
from gateway.keys import contract_key
from gateway.settings import Settings


def create_events_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[contract_key] = Contract.EVENTS
    return app
