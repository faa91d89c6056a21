"""`GET /` for a browser outside production: a page that links to every contract's documents and
docs UIs, the health endpoints and the account pages.

002 owns `/` (its status JSON); its handler hands a browser here through `landing_page_key`, which
the composition root sets. With PETCARE_PREFIX, 002's status moves to `{prefix}/` and the root
serves this page on its own. In production `/` is 002's JSON for everyone, and this handler is
a 404 if it is reached at all.
"""

from __future__ import annotations

from aiohttp import web

from gateway.kernel.keys import settings_key
from gateway.kernel.openapi.serve import documents_key
from gateway.web import render
from gateway.web.responses import html_response, new_nonce


async def landing_page(request: web.Request) -> web.Response:
    settings = request.config_dict[settings_key]
    if settings.app_env == "production":
        raise web.HTTPNotFound()  # the middleware answers it as any unknown route
    status_path = f"{settings.petcare_prefix}/"
    nonce = new_nonce()
    text = render.landing_page(
        nonce=nonce,
        environment=settings.app_env,
        documents=list(request.config_dict[documents_key].values()),
        status_path=status_path,
        status_url=settings.app_url.rstrip("/") + status_path,
    )
    return html_response(text, nonce=nonce)
