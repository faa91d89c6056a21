"""Answers for browsers on 003's endpoints that answer both (logout, verify); which callers are
browsers is gateway/kernel/negotiation.py's."""

from __future__ import annotations

from aiohttp import web


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})
