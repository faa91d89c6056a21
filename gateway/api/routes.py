"""Routes of the /api sub-application (000 and 003)."""

from __future__ import annotations

from aiohttp import web

from gateway.api import envelope


async def ping(request: web.Request) -> web.Response:
    """003: GET /api/ping, reachability for clients (no dependency checks; /readyz does those)."""
    return envelope.success({"status": "ok"}, "OK")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/ping", ping)
