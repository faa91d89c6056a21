"""GET /tenant/media/{expires}.{signature}/{key}: an event photo's bytes for its tenant's apps.

The tenant's photo answers (lists, moderation) link every variant, the original included, here,
whatever the photo's moderation state: guests' /storage serves only what guests see
(gateway/web/media.py). The link is minted inside an answer that required a tenant token with
photos:read or more and is checked by its HMAC alone (domain/media_access.py), so it works in an
`<img>` tag and costs no database read; it stops working about an hour later. Caches must keep the
bytes to the browser that asked (`private`), and no longer than the link holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiohttp import web

from domain.media_access import check_tenant_link, photo_gone, tenant_token
from gateway.kernel.keys import media_store_key, settings_key
from gateway.kernel.openapi.operation import Body, documented

PATH = "/tenant/media"
# the bytes are ours to vouch for only as images; never let a browser run them
IMAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
# a browser keeps the bytes at most this long, however far the link's expiry is
MAX_AGE_S = 3600


@dataclass(frozen=True, slots=True)
class TenantLinks:
    """What a tenant answer needs to link media: the public base URL, the key to sign with, and
    the time the answer is made."""

    api_url: str
    app_key: str
    now: float

    def url(self, key: str | None) -> str | None:
        if not key:
            return None
        return f"{self.api_url}{PATH}/{tenant_token(self.app_key, key, self.now)}/{key}"


def tenant_links(request: web.Request) -> TenantLinks:
    settings = request.config_dict[settings_key]
    return TenantLinks(f"{settings.app_url.rstrip('/')}/api/v1", settings.app_key, time.time())


@documented(
    "A photo variant for the tenant's apps",
    response=Body("image/jpeg"),
    errors=(404,),
    path_params={
        "token": "`<expires>.<signature>`, as the tenant's photo answers link it (about an hour).",
        "key": "The media key: `<event>/<photo>-<secret>/<original|web|thumb>.jpg`.",
    },
    headers_out={"Cache-Control": "private, max-age=<at most 3600>", **IMAGE_HEADERS},
    description="Authorised by the signed link alone; an expired or forged link is 404 `photo_not_found`, "
    "as is a photo whose files are gone.",
)
async def serve(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    now = time.time()
    expires = check_tenant_link(request.config_dict[settings_key].app_key, request.match_info["token"], key, now)
    target = request.config_dict[media_store_key].path(key)
    if not target.is_file():  # the event was deleted, or the photo failed and its files went
        raise photo_gone()
    max_age = max(0, min(MAX_AGE_S, int(expires - now)))
    return web.FileResponse(target, headers={"Cache-Control": f"private, max-age={max_age}", **IMAGE_HEADERS})
