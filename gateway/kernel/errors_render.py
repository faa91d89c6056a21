"""Render a domain error in the envelope of the contract the request belongs to.

The renderers are the contracts' own (each package's envelope module); the composition root
(gateway/app.py) hands the table to the root middleware, so the kernel names no contract package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiohttp import web

from domain.errors import RoostError
from gateway.kernel.contracts import Contract, contract_of

# A contract's error answer: `envelope.error(err, request)` in each contract package.
Renderer = Callable[[RoostError, web.Request], web.Response]
ErrorRenderer = Callable[[web.Request, RoostError], web.Response]


def error_renderer(renderers: Mapping[Contract, Renderer]) -> ErrorRenderer:
    """`render(request, err)` over a table holding one renderer for every Contract."""
    missing = [c.value for c in Contract if c not in renderers]
    if missing:
        # checked once at startup: a request of that contract would otherwise fail with a KeyError
        raise ValueError(f"no error renderer for {', '.join(missing)}")
    table = dict(renderers)

    def render_error(request: web.Request, err: RoostError) -> web.Response:
        return table[contract_of(request)](err, request)

    return render_error
