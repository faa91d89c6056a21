"""Routes of the pet care contract (002)."""

from __future__ import annotations

from aiohttp import web

from gateway.petcare import accounts, google_login


def setup_routes(router: web.UrlDispatcher, prefix: str = "") -> None:
    """002 lives at the root by default, so its routes go on the root router under `prefix`."""
    accounts.setup_routes(router, prefix)
    google_login.setup_routes(router, prefix)
