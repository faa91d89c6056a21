"""001 public gallery: GET /gallery/{token}, its photos (cursor pages) and a photo's download.

Token only, like every guest URL. The gallery stays open `gallery_days` after the event ends (or
was published): past that every gallery route answers 410 `gallery_expired`.

Cursors are the last feed_seq a page showed, signed with APP_KEY and bound to the event, so a
client cannot forge or edit one (422 `invalid_cursor`) nor carry it to another event. feed_seq
grows in commit order per event; a photo approved while someone pages was given a higher feed_seq
than anything on the pages already shown, so it can never appear in the pages still to come nor
shift them: no duplicates, no gaps.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from pathlib import PurePosixPath

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from domain import events as rules
from domain.errors import Gone, Invalid, NotFound
from domain.inputs import parse_int, parse_positive_int
from gateway.events.common_schemas import Item, Moment
from gateway.events.envelope import success
from gateway.events.event_views import Branding, EventSnapshot, gallery_expiry
from gateway.events.guest_events import guest_event_row
from gateway.events.openapi import GUEST_TOKEN
from gateway.events.photo_views import PhotoPublic
from gateway.kernel.keys import media_store_key, pool_key, settings_key
from gateway.kernel.middlewares import stream_headers
from gateway.kernel.openapi.operation import Body, documented
from gateway.kernel.timeutil import iso_z, utc_now
from gateway.kernel.validation import path_id
from storage import gallery as gallery_sql

DEFAULT_LIMIT = 30
MAX_LIMIT = 100
# 64 bits of HMAC: forging a cursor would need ~2^63 tries against a rate-limited endpoint
_SIG_HEX = 16
_CURSOR_MAX = 128


class GalleryPublic(BaseModel):
    event: EventSnapshot
    branding: Branding
    expires_at: Moment | None = Field(description="When the gallery closes (410 `gallery_expired` after).")


class GalleryPhotos(BaseModel):
    """One page of approved photos, newest approval first."""

    data: list[PhotoPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


class GalleryPhotosQuery(BaseModel):
    cursor: str | None = Field(default=None, max_length=_CURSOR_MAX, description="`next_cursor` of the page before.")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


DOWNLOAD_HEADERS = {
    "Content-Disposition": 'attachment; filename="photo-<id>.<ext>"',
    "Cache-Control": "private, max-age=3600",
    "X-Content-Type-Options": "nosniff",
}


def _sign(app_key: str, event_id: int, seq: int) -> str:
    message = f"gallery:{event_id}:{seq}".encode()
    return hmac.new(app_key.encode(), message, hashlib.sha256).hexdigest()[:_SIG_HEX]


def encode_cursor(app_key: str, event_id: int, seq: int) -> str:
    raw = f"{seq}.{_sign(app_key, event_id, seq)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_cursor() -> Invalid:
    return Invalid("The cursor is invalid.", code="invalid_cursor", fields={"cursor": ["The cursor is invalid."]})


def decode_cursor(app_key: str, event_id: int, cursor: str) -> int:
    """The feed_seq a cursor carries; 422 `invalid_cursor` for anything we did not issue for this event."""
    if len(cursor) > _CURSOR_MAX:
        raise _invalid_cursor()
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise _invalid_cursor() from None
    seq_text, _, sig = text.partition(".")
    seq = parse_int(seq_text)
    if seq is None:
        raise _invalid_cursor()
    if not hmac.compare_digest(sig, _sign(app_key, event_id, seq)):
        raise _invalid_cursor()
    return seq


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    value = parse_positive_int(raw)
    if value is None or value > MAX_LIMIT:
        raise Invalid(fields={"limit": [f"The limit must be an integer between 1 and {MAX_LIMIT}."]})
    return value


async def open_gallery(request: web.Request) -> asyncpg.Record:
    """The event behind `{token}`, if its gallery window is still open (else 410)."""
    row = await guest_event_row(request)
    expires_at = gallery_expiry(row)
    if rules.gallery_expired(expires_at, utc_now()):
        raise Gone("This gallery has expired.", code="gallery_expired", meta={"expired_at": iso_z(expires_at)})
    return row


@documented("The public gallery", response=Item[GalleryPublic], errors=(404, 410), path_params=GUEST_TOKEN)
async def show_gallery(request: web.Request) -> web.Response:
    """GET /gallery/{token}: the event snapshot, its branding and when the gallery closes."""
    row = await open_gallery(request)
    expires_at = gallery_expiry(row)
    branding = Branding.of(row, request.config_dict[settings_key].app_url)
    data = GalleryPublic(event=EventSnapshot.from_row(row), branding=branding, expires_at=expires_at)
    return success(Item(data=data))


@documented(
    "The gallery's photos", response=GalleryPhotos, query=GalleryPhotosQuery, errors=(404, 410), path_params=GUEST_TOKEN
)
async def gallery_photos(request: web.Request) -> web.Response:
    """GET /gallery/{token}/photos?cursor=&limit=: newest approval first."""
    row = await open_gallery(request)
    settings = request.config_dict[settings_key]
    limit = _limit(request)
    cursor = request.query.get("cursor") or None
    before = decode_cursor(settings.app_key, row["id"], cursor) if cursor else None
    async with request.config_dict[pool_key].acquire() as conn:
        # one extra row tells whether another page exists without a count
        rows = await gallery_sql.page_before(conn, row["id"], before, limit + 1)
    page = rows[:limit]
    next_cursor = encode_cursor(settings.app_key, row["id"], page[-1]["feed_seq"]) if len(rows) > limit else None
    return success(
        GalleryPhotos(data=[PhotoPublic.from_row(r, settings.app_url) for r in page], next_cursor=next_cursor)
    )


def photo_not_found() -> NotFound:
    return NotFound("Photo not found.", code="photo_not_found")


@documented(
    "Download an approved photo's original",
    response=Body("image/*"),
    errors=(404, 410),
    path_params={**GUEST_TOKEN, "photo": "The photo's id."},
    headers_out=DOWNLOAD_HEADERS,
    description="Streamed as an attachment (never a redirect); 404 `photo_not_found` when the photo is not "
    "approved in this gallery or its original is gone.",
)
async def download_photo(request: web.Request) -> web.StreamResponse:
    """GET /gallery/{token}/photos/{photo}/download: the original, streamed as an attachment."""
    row = await open_gallery(request)
    photo_id = path_id(request, "photo", not_found=photo_not_found())
    async with request.config_dict[pool_key].acquire() as conn:
        photo = await gallery_sql.approved_photo(conn, row["id"], photo_id)
    if photo is None or not photo["original_key"]:
        raise photo_not_found()
    store = request.config_dict[media_store_key]
    chunks = store.chunks(photo["original_key"])
    try:
        # the first read opens the file: a vanished original is still a clean 404
        first = await anext(chunks, b"")
    except FileNotFoundError:
        raise photo_not_found() from None
    size = await store.size(photo["original_key"])
    suffix = PurePosixPath(photo["original_key"]).suffix or ".jpg"
    response = web.StreamResponse(
        headers={
            "Content-Type": photo["content_type"] or "image/jpeg",
            "Content-Disposition": f'attachment; filename="photo-{photo["id"]}{suffix}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
            # sent before the middleware sees the answer, so it cannot add the request id itself
            **stream_headers(request),
        }
    )
    if size is not None:
        response.content_length = size
    if request.method == "HEAD":  # the headers say it all; read no bytes for an answer with none
        await chunks.aclose()
        await response.prepare(request)
        await response.write_eof()
        return response
    try:
        await response.prepare(request)
        await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
    finally:
        await chunks.aclose()
    await response.write_eof()
    return response
