"""Routes of the /api sub-application (000 and 003)."""

from __future__ import annotations

from aiohttp import web

from gateway.api import gpt_bridge
from gateway.api import accounts, api_tokens, health_records, oauth, pets
from gateway.kernel import api_envelope as envelope


async def ping(request: web.Request) -> web.Response:
    """003: GET /api/ping, reachability for clients (no dependency checks; /readyz does those)."""
    return envelope.success({"status": "ok"}, "OK")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/ping", ping)
    accounts.setup_routes(app)
    oauth.setup_routes(app)
    api_tokens.setup_routes(app)
    pets.setup_routes(app)
    health_records.setup_routes(app)
    gpt_bridge.setup_routes(app)
