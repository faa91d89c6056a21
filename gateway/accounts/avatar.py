"""003's avatar upload (POST /api/user/avatar) and the avatar files under the media folder.

Files live at `<media_dir>/avatars/<user_id>/<random>.<ext>`; `users.avatar` holds the relative
`avatars/<user_id>/<file>`, which user_views renders as `${APP_URL}/storage/avatars/...` and
gateway/web/media.py serves. The type is decided by the file's first bytes, never by its name
or the client's Content-Type alone.

Avatars are public, so they are never stored as uploaded: like event photos they are decoded
within the pixel limit (EVENT_PHOTO_MAX_PIXELS), turned upright, and re-encoded as a JPEG of at
most AVATAR_LONGEST_SIDE pixels by domain/photo_pipeline.py, which writes no metadata (EXIF with
GPS positions, XMP, comments). Transparency is flattened onto white, an animated GIF keeps its
first frame. The work runs in a thread, not as a Ray task: 003 answers with the stored URL, so the
caller waits for it either way, and a job row and a task hop would only add to that wait; Pillow
releases the GIL while it decodes and encodes, so the event loop keeps serving meanwhile.

The form is read with `request.post()`, which aiohttp keeps: a browser session's XSRF check may
already have read it for its `_token` field (gateway/kernel/auth/sessions.py), and the same parsed form
serves the handler.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from pathlib import Path
from typing import IO

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from domain import photo_pipeline
from domain.errors import Invalid, PayloadTooLarge
from gateway.accounts.openapi import WRITE_AUTH, WRITE_ERRORS
from gateway.accounts.schemas import AvatarUploaded, render
from gateway.kernel.account_views import absolute_avatar
from gateway.kernel.api_envelope import success
from gateway.kernel.auth.guards import PROFILE_WRITE, require_abilities
from gateway.kernel.keys import accounts_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented, file_upload
from storage import users as users_sql

MAX_AVATAR_BYTES = 5 * 1024 * 1024  # 003: max 5 MB (Laravel's max:5120 kilobytes)
ALLOWED_EXTENSIONS = ("jpg", "jpeg", "png", "gif", "webp")
FIELD = "avatar"
# Pillow's names for the types accepted above (the extension check is the client's label only)
AVATAR_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
# Avatars are shown small; a bigger one costs bytes for every viewer and shows nothing more.
AVATAR_LONGEST_SIDE = 1024
STORED_EXTENSION = "jpg"
AVATAR_FORM = file_upload(FIELD, "A JPEG, PNG, GIF or WebP image of at most 5 MB (stored re-encoded as a JPEG).")


def image_type(head: bytes) -> str | None:
    """The extension for an image we accept, from its magic bytes; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _invalid(message: str) -> Invalid:
    return Invalid(fields={FIELD: [message]})


def _head(file: IO[bytes]) -> bytes:
    """Up to one byte past the limit: enough to know the file is too large."""
    file.seek(0)
    return file.read(MAX_AVATAR_BYTES + 1)


async def read_upload(request: web.Request, hard_limit: int) -> tuple[bytes, str]:
    """The `avatar` file of a multipart form and its type; 422 for anything else, 413 past the
    gateway's body limit."""
    if request.content_type != "multipart/form-data":
        raise _invalid("The avatar field is required.")
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(meta={"max_bytes": hard_limit}) from exc
    # a malformed multipart body (RuntimeError: a part's unknown Content-Transfer-Encoding;
    # BadHttpMessage: a part header aiohttp cannot parse, e.g. a control character in a name)
    except (ValueError, AssertionError, LookupError, RuntimeError, BadHttpMessage) as exc:
        raise _invalid("The avatar failed to upload.") from exc
    part = form.get(FIELD)
    if part is None:
        raise _invalid("The avatar field is required.")
    if not isinstance(part, web.FileField):  # a text field named avatar
        raise _invalid("The avatar must be an image.")
    suffix = Path(part.filename or "").suffix.lower().lstrip(".")
    if suffix and suffix not in ALLOWED_EXTENSIONS:
        raise _invalid("The avatar must be a file of type: " + ", ".join(ALLOWED_EXTENSIONS) + ".")
    data = await asyncio.to_thread(_head, part.file)
    if len(data) > MAX_AVATAR_BYTES:
        raise _invalid(f"The avatar may not be greater than {MAX_AVATAR_BYTES // 1024} kilobytes.")
    if not data:
        raise _invalid("The avatar failed to upload.")
    kind = image_type(data[:16])
    if kind is None:
        raise _invalid("The avatar must be an image.")
    return data, kind


def reencode(data: bytes, max_pixels: int) -> bytes:
    """The avatar as the JPEG we store: upright, bounded, without any metadata. 422 when it
    cannot be decoded, or claims more pixels than the limit."""
    try:
        im = photo_pipeline.normalized(data, max_pixels=max_pixels, formats=AVATAR_FORMATS)
    except photo_pipeline.RejectedImage as exc:
        if exc.reason == "too_many_pixels":
            raise _invalid("The avatar has invalid image dimensions.") from None
        raise _invalid("The avatar must be an image.") from None
    return photo_pipeline.jpeg_of(im, longest_side=AVATAR_LONGEST_SIDE)


def _user_dir(media_dir: Path, user_id: int) -> Path:
    return media_dir / "avatars" / str(user_id)


def _write(media_dir: Path, user_id: int, data: bytes, ext: str) -> str:
    folder = _user_dir(media_dir, user_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)  # readers never see half a file
    return f"avatars/{user_id}/{name}"


def stored_path(media_dir: Path, user_id: int, avatar: str | None) -> Path | None:
    """The file behind a stored avatar of this user, if it is one of ours (not an external URL,
    not someone else's, never outside the media folder)."""
    if not avatar:
        return None
    rel = avatar.lstrip("/")
    rel = rel.removeprefix("storage/")
    prefix = f"avatars/{user_id}/"
    if not rel.startswith(prefix) or "/" in rel[len(prefix):]:
        return None
    folder = _user_dir(media_dir, user_id).resolve()
    path = (folder / rel[len(prefix):]).resolve()
    return path if path.parent == folder else None


async def remove_stored(media_dir: Path, user_id: int, avatar: str | None) -> None:
    path = stored_path(media_dir, user_id, avatar)
    if path is not None:
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def remove_all(media_dir: Path, user_id: int) -> None:
    """Every avatar file of a user (account deletion), including any a lost race left behind."""
    await asyncio.to_thread(shutil.rmtree, _user_dir(media_dir, user_id), True)


@documented(
    "Upload the signed-in user's avatar",
    response=AvatarUploaded,
    upload=AVATAR_FORM,
    errors=(*WRITE_ERRORS, 404, 422),
    auth=WRITE_AUTH,
)
async def upload(request: web.Request) -> web.Response:
    """POST /api/user/avatar → 200 "Avatar uploaded" {avatar_url}; the previous file is deleted."""
    identity = require_abilities(request, PROFILE_WRITE)
    settings = request.config_dict[settings_key]
    user_id = identity.user_id
    raw, _ = await read_upload(request, settings.max_body_bytes)
    data, ext = await asyncio.to_thread(reencode, raw, settings.event_photo_max_pixels), STORED_EXTENSION
    del raw
    media_dir = settings.media_dir
    async with request.config_dict[pool_key].acquire() as conn:
        previous = (await users_sql.get_or_404(conn, user_id))["avatar"]
    relative = await asyncio.to_thread(_write, media_dir, user_id, data, ext)
    try:
        await request.config_dict[accounts_key].update_user(user_id, {"avatar": relative})
    except BaseException:
        await remove_stored(media_dir, user_id, relative)
        raise
    if previous != relative:
        await remove_stored(media_dir, user_id, previous)
    url = absolute_avatar(settings, relative)
    assert url is not None  # a stored path always renders
    return success(render(AvatarUploaded(avatar_url=url)), "Avatar uploaded")
