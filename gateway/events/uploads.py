"""001 signed uploads: asking for an upload URL (guests and tenant admins), and the PUT of the bytes.

A photo arrives in three steps: `POST .../photos/upload-url {content_type, size}` reserves an
upload and answers a signed URL; `PUT <upload_url>` with the raw bytes stores them; `POST
.../photos {upload_id}` (gateway/events/photos.py) turns a received upload into a photo.

The PUT is authorised by its URL alone (domain/upload_signing.py), so a guest app needs no
credentials to send bytes, and the URL works for that one upload until it expires. The body is
streamed into the media store with the declared size as its hard limit, then checked off the event
loop (domain/image_checks.py); on any failure its bytes are deleted and the upload stays open for
another try. Raw uploads live under `<event_id>/uploads/<random>` and are never served as they are:
only the image task's re-encoded variants are.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Literal

import aiohttp
import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field, StrictInt

from domain import image_checks
from domain.errors import BadRequest, Conflict, Invalid, NotFound, PayloadTooLarge, UnsupportedMediaType
from domain.media_store import TooLarge
from domain.tenant_abilities import PHOTOS_WRITE
from domain.upload_signing import UploadSigner
from gateway.events.common_schemas import Item, Moment
from gateway.events.devices import device_id
from gateway.events.envelope import success
from gateway.events.guards import TenantCaller, require_tenant
from gateway.events.guest_events import guest_event_or_404
from gateway.events.guest_limits import enforce_upload_limits
from gateway.events.openapi import GUEST_DEVICE, GUEST_TOKEN, RATE_LIMITED, TENANT_WRITE
from gateway.kernel.keys import clock_key, media_store_key, pool_key, settings_key
from gateway.kernel.openapi.operation import Body, documented
from gateway.kernel.validation import parse, path_id
from storage import events as events_sql
from storage import photo_uploads as uploads_sql
from storage import photos as photos_sql

log = logging.getLogger(__name__)

ALLOWED_TYPES = tuple(image_checks.FORMATS)
# Names clients use for the same type.
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
# Network reads of the body; the store writes each chunk in a thread.
CHUNK_BYTES = 256 * 1024
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadUrlIn(BaseModel):
    content_type: str = Field(min_length=1, max_length=100, description="image/jpeg, image/png or image/webp.")
    size: StrictInt = Field(ge=1, description="The photo's size in bytes; the PUT may send no more.")


class UploadHeaders(BaseModel):
    content_type: str = Field(alias="Content-Type", description="The type the PUT must declare.")


class UploadTicket(BaseModel):
    """Where and how to send the bytes: `PUT <upload_url>` with `headers`, then create the photo
    with `upload_id`."""

    upload_id: str
    upload_url: str = Field(description="Signed; works for this upload only, until expires_at.")
    method: Literal["PUT"]
    headers: UploadHeaders
    max_bytes: int
    expires_at: Moment


class UploadReceived(BaseModel):
    """The bytes are stored and are a valid image."""

    upload_id: str
    size: int
    content_type: str
    width: int
    height: int


class UploadSignature(BaseModel):
    """The PUT's authorisation: the query of the upload_url, as it was answered."""

    expires: int = Field(description="Unix seconds.")
    signature: str


def normalize_type(value: str | None) -> str:
    mime = (value or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(mime, mime)


def signer_of(request: web.Request) -> UploadSigner:
    app = request.config_dict
    return UploadSigner(app[settings_key].app_key, clock=app[clock_key].time)


def event_not_open() -> Conflict:
    return Conflict("This event no longer accepts photos.", code="event_not_open")


async def tenant_event_or_404(conn: asyncpg.Connection, caller: TenantCaller, event_id: int) -> asyncpg.Record:
    event = await events_sql.get_for_tenant(conn, caller.tenant_id, event_id)
    if event is None:
        raise NotFound()
    return event


# -- upload URLs ----------------------------------------------------------------------------------


async def _start_upload(
    request: web.Request, event: asyncpg.Record, *, device: str | None, user_id: int | None
) -> web.Response:
    """Rate limits, the body, the package's room, then the upload row and its signed URL. Guests
    (no user) are also limited per address and event: their device id is their own choice."""
    if event["status"] == "archived":
        raise event_not_open()
    await enforce_upload_limits(request, event["tenant_id"], device, event_id=event["id"] if user_id is None else None)
    body = await parse(request, UploadUrlIn)
    settings = request.config_dict[settings_key]
    content_type = normalize_type(body.content_type)
    if content_type not in ALLOWED_TYPES:
        raise Invalid(
            "Only JPEG, PNG and WebP photos can be uploaded.",
            code="unsupported_photo_type",
            fields={"content_type": ["The content type must be one of: " + ", ".join(ALLOWED_TYPES) + "."]},
            meta={"allowed": list(ALLOWED_TYPES)},
        )
    if body.size > settings.event_photo_max_bytes:
        raise photo_too_large(settings.event_photo_max_bytes)
    photos_sql.check_room(event)

    signer = signer_of(request)
    upload_id = secrets.token_hex(16)
    expires = signer.expiry(settings.event_upload_url_ttl_s)
    async with request.config_dict[pool_key].acquire() as conn:
        await uploads_sql.create(
            conn,
            upload_id=upload_id,
            event_id=event["id"],
            tenant_id=event["tenant_id"],
            device_id=device,
            user_id=user_id,
            content_type=content_type,
            declared_size=body.size,
            media_key=f"{event['id']}/uploads/{secrets.token_hex(16)}",
            expires_at=datetime.fromtimestamp(expires, UTC),
        )
    data = UploadTicket(
        upload_id=upload_id,
        upload_url=signer.url(settings.app_url, upload_id, expires),
        method="PUT",
        headers=UploadHeaders.model_validate({"Content-Type": content_type}),
        max_bytes=body.size,
        expires_at=datetime.fromtimestamp(expires, UTC),
    )
    return success(Item(data=data), status=201)


def photo_too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge("The photo is too large.", code="photo_too_large", meta={"max_bytes": max_bytes})


@documented(
    "Ask for an upload URL (guests)",
    response=Item[UploadTicket],
    status=201,
    body=UploadUrlIn,
    auth=GUEST_DEVICE,
    auth_optional=True,
    errors=(403, 404, 409, 429),
    path_params=GUEST_TOKEN,
    headers_out=RATE_LIMITED,
    description="X-Device-Id is required here (400 `device_id_required`). Counted per device, per address "
    "and event, and per tenant (429 with meta.scope).",
)
async def guest_upload_url(request: web.Request) -> web.Response:
    """POST /events/{token}/photos/upload-url (X-Device-Id required)."""
    async with request.config_dict[pool_key].acquire() as conn:
        event = await guest_event_or_404(conn, request.match_info["token"])
    device = device_id(request, required=True)
    return await _start_upload(request, event, device=device, user_id=None)


@documented(
    "Ask for an upload URL (tenant)",
    response=Item[UploadTicket],
    status=201,
    body=UploadUrlIn,
    auth=TENANT_WRITE,
    errors=(403, 404, 409, 429),
    path_params={"event": "The event's id."},
    headers_out=RATE_LIMITED,
)
async def tenant_upload_url(request: web.Request) -> web.Response:
    """POST /tenant/events/{event}/photos/upload-url (photos:write); drafts accept photos too."""
    caller = await require_tenant(request, PHOTOS_WRITE)
    async with request.config_dict[pool_key].acquire() as conn:
        event = await tenant_event_or_404(conn, caller, path_id(request, "event"))
    return await _start_upload(request, event, device=device_id(request), user_id=caller.user_id)


# -- the PUT --------------------------------------------------------------------------------------


@documented(
    "Send a photo's bytes",
    response=Item[UploadReceived],
    query=UploadSignature,
    upload=Body("image/*"),
    errors=(403, 404, 409),
    path_params={"upload_id": "From the upload URL answer."},
    description="Authorised by the signed URL alone. The Content-Type must be the one declared when the URL "
    "was asked for (else 415 `content_type_mismatch`), the body at most the declared size (413).",
)
async def receive_upload(request: web.Request) -> web.Response:
    """PUT /uploads/{upload_id}?expires=&signature= with the raw bytes."""
    upload_id = request.match_info["upload_id"]
    signer_of(request).verify(upload_id, request.query.get("expires"), request.query.get("signature"))
    if not _UPLOAD_ID.fullmatch(upload_id):  # signed by us, so this cannot happen; stay safe anyway
        raise NotFound()
    pool = request.config_dict[pool_key]
    async with pool.acquire() as conn:
        upload = await uploads_sql.get_with_event(conn, upload_id)
    if upload is None:
        raise NotFound()
    if upload["received_at"] is not None:
        raise Conflict("This upload has already been received.", code="upload_already_received")
    if upload["event_status"] == "archived":
        raise event_not_open()
    declared = upload["content_type"]
    if normalize_type(request.headers.get("Content-Type")) != declared:
        raise UnsupportedMediaType(
            "The Content-Type must be the one declared for this upload.",
            code="content_type_mismatch",
            meta={"expected": declared},
        )
    if request.content_length is not None and request.content_length > upload["declared_size"]:
        raise photo_too_large(upload["declared_size"])

    store = request.config_dict[media_store_key]
    # A key per attempt: a racing PUT can never overwrite the bytes another one had accepted.
    key = f"{upload['media_key']}-{secrets.token_hex(4)}"
    try:
        size = await store.put_stream(key, request.content.iter_chunked(CHUNK_BYTES), max_bytes=upload["declared_size"])
    except TooLarge:
        raise photo_too_large(upload["declared_size"]) from None
    except (aiohttp.ClientPayloadError, ConnectionError, asyncio.IncompleteReadError):
        raise BadRequest("The upload was interrupted.", code="upload_incomplete") from None
    try:
        if size == 0:
            raise image_checks.invalid_image("empty")
        data = await store.read(key)
        checked = await asyncio.to_thread(
            image_checks.check_upload, data, declared, request.config_dict[settings_key].event_photo_max_pixels
        )
        del data
        async with pool.acquire() as conn:
            received = await uploads_sql.mark_received(conn, upload_id, size=size, media_key=key)
        if not received:
            raise Conflict("This upload has already been received.", code="upload_already_received")
    except BaseException:
        # nothing of a refused upload is kept (and a cancelled request leaves no orphan either)
        await asyncio.shield(store.delete(key))
        raise
    received_upload = UploadReceived(
        upload_id=upload_id, size=size, content_type=declared, width=checked.width, height=checked.height
    )
    return success(Item(data=received_upload))
