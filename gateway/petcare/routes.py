"""Routes of the pet care contract (002). Its endpoints arrive with the pet care issue."""

from __future__ import annotations

from aiohttp import web


def setup_routes(router: web.UrlDispatcher, prefix: str = "") -> None:
    """002 lives at the root by default, so its routes go on the root router under `prefix`."""
