"""Placeholder: this surface arrives with the pet health issue (being built)."""

from aiohttp import web


def setup_routes(app: web.Application) -> None:
    pass
