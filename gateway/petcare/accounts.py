"""Placeholder: this surface arrives with the identity issue (being built)."""

from aiohttp import web


def setup_routes(router: web.UrlDispatcher, prefix: str = "") -> None:
    pass
