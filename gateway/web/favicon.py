"""`GET /favicon.ico`: browsers ask for it on every page (the docs UIs included), and a 404 there
is a console error each time. The icon is a committed file (static/favicon.ico: 16, 32 and 48 px),
read once at import.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from aiohttp import web

ICON: Final = (Path(__file__).with_name("static") / "favicon.ico").read_bytes()
ETAG: Final = '"' + hashlib.sha256(ICON).hexdigest()[:16] + '"'
# The URL carries no version, so not `immutable`: a changed icon reaches a browser within a week,
# and until then the ETag makes its revalidation a 304.
CACHE_CONTROL: Final = "public, max-age=604800"


async def favicon(request: web.Request) -> web.Response:
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": ETAG, "X-Content-Type-Options": "nosniff"}
    if ETAG in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=ICON, content_type="image/x-icon", headers=headers)
