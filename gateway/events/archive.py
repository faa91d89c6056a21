"""001 GET /tenant/events/{event}/photos/archive (streamed ZIP). (Not built yet.)"""

from __future__ import annotations

from aiohttp import web


def setup_routes(router: web.UrlDispatcher) -> None:
    """Adds nothing until this area is built."""
