"""GET /storage/{path}: avatars, 001 tenants' logos, and the variants of event photos guests may see.

003's avatar URLs are `${APP_URL}/storage/avatars/...` (Laravel's `storage:link` convention);
avatars are public by design. Only regular files inside the avatar folder are served: `..`,
absolute paths and symlinks that lead outside it are 404s, as are dotfiles (uploads in progress are
written as `.name.part`). 001 tenants' logos (`/storage/logos/<tenant>/<random>.jpg`) are served
the same way: a guest page shows them to anyone.

Event photos (`/storage/events/<event>/<photo>-<secret>/{web,thumb}.jpg`) are served only while
guests see the photo (domain/media_access.py: approved and in the feed, event reachable, gallery
open; else 404, or 410 past the gallery window). Originals, raw uploads and anything else under
events/ are never served here; tenants fetch those through their signed links
(gateway/events/tenant_media.py). The verdict is cached a few seconds per photo, so serving stays
about one dictionary lookup for a hot photo.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from domain.errors import NotFound
from domain.media_access import GUEST_MAX_AGE_S, Visibility, VisibilityCache, parse_guest_key, photo_gone
from domain.media_store import event_media_store
from gateway.kernel.keys import media_visibility_key, pool_key, settings_key
from gateway.kernel.timeutil import utc_now
from storage import photo_media

# Avatar names are random, so a file never changes under its URL.
AVATAR_CACHE_CONTROL = "public, max-age=86400"
# Shared caches may keep a guest variant briefly, then must ask again: a rejection or an expired
# gallery reaches them within GUEST_MAX_AGE_S (plus the gateway's VISIBILITY_TTL_S).
EVENT_CACHE_CONTROL = f"public, max-age={GUEST_MAX_AGE_S}, must-revalidate"
PATH_MAX = 1024
AVATARS = "avatars/"
# 001 tenants' logos (domain/tenant_settings.py): public like avatars, random names too
LOGOS = "logos/"
EVENTS = "events/"
# the bytes are ours to vouch for only as images; never let a browser run them
IMAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


def resolve_media(media_dir: Path, relative: str) -> Path | None:
    """The file `relative` names inside `media_dir`, or None if it is not one to serve."""
    if not relative or len(relative) > PATH_MAX or "\x00" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") or "\\" in p for p in parts):
        return None
    base = media_dir.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


async def _visibility(request: web.Request, cache: VisibilityCache, event_id: int, photo_id: int) -> Visibility:
    found = cache.get(photo_id)
    if found is None:
        async with request.config_dict[pool_key].acquire() as conn:
            row = await photo_media.visibility_row(conn, event_id, photo_id)
        found = Visibility.from_row(row)
        cache.put(photo_id, found)
    return found


async def _event_media(request: web.Request, key: str) -> web.StreamResponse:
    parsed = parse_guest_key(key)
    if parsed is None:
        raise photo_gone()
    visibility = await _visibility(request, request.config_dict[media_visibility_key], parsed.event_id, parsed.photo_id)
    visibility.check(key, utc_now())
    target = event_media_store(request.config_dict[settings_key].media_dir).path(key)
    if not target.is_file():
        raise photo_gone()
    return web.FileResponse(target, headers={"Cache-Control": EVENT_CACHE_CONTROL, **IMAGE_HEADERS})


async def serve(request: web.Request) -> web.StreamResponse:
    relative = request.match_info["path"]
    if relative.startswith(EVENTS):
        return await _event_media(request, relative[len(EVENTS):])
    media_dir = request.config_dict[settings_key].media_dir
    target = resolve_media(media_dir, relative) if relative.startswith((AVATARS, LOGOS)) else None
    if target is None:
        raise NotFound()
    return web.FileResponse(target, headers={"Cache-Control": AVATAR_CACHE_CONTROL, **IMAGE_HEADERS})
