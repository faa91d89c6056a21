"""001 GET /events/{token} for guests. (Not built yet.)"""

from __future__ import annotations

from aiohttp import web


def setup_routes(router: web.UrlDispatcher) -> None:
    """Adds nothing until this area is built."""
