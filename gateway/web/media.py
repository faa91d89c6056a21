"""GET /storage/{path}: files of the media folder (uploaded avatars), read-only.

003's avatar URLs are `${APP_URL}/storage/avatars/...` (Laravel's `storage:link` convention).
Only regular files inside the media folder are served: `..`, absolute paths and symlinks that
lead outside it are 404s, as are dotfiles (uploads in progress are written as `.name.part`).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from domain.errors import NotFound
from gateway.keys import settings_key

# Uploaded names are random, so a file never changes under its URL.
CACHE_CONTROL = "public, max-age=86400"
PATH_MAX = 1024


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


async def serve(request: web.Request) -> web.StreamResponse:
    media_dir = request.config_dict[settings_key].media_dir
    target = resolve_media(media_dir, request.match_info["path"])
    if target is None:
        raise NotFound()
    return web.FileResponse(
        target,
        headers={
            "Cache-Control": CACHE_CONTROL,
            # the bytes are ours to vouch for only as images; never let a browser run them
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/storage/{path:.+}", serve)
