"""001 photos: creation from a received upload (guests and tenant admins), the tenant's lists,
and moderation (approve, reject, feature).

Creation is one transaction: the upload is locked and consumed, the package slot taken with the
guarded UPDATE (storage/photos.py), the photo inserted, and the processing job queued in the jobs
table. Queuing in the same transaction means a committed photo always has its job: if this
gateway dies before starting the Ray task, the job runner's sweep starts it.

`GET /tenant/events/{event}/photos?status=` filters (one at a time):
- `pending`, `ready`, `failed`: the processing status (pending: not processed yet);
- `approved`, `rejected`: the moderation decision, whatever the processing status;
- `featured`: photos marked featured;
- `unmoderated`: processed photos still waiting for a moderation decision (the review queue).

Moderation is domain/moderation.py's (the transitions, and the service the image task calls
too); the handlers here parse, call it and answer the photo as it now is. After its commit the feed
actor is told (a failure to tell it is logged, never the request's failure: the actor reloads from
PostgreSQL when it sees a version gap), and this gateway's media visibility cache drops the photo.
"""

from __future__ import annotations

import logging
from typing import Literal

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field, StrictBool, StrictInt

from domain import events as event_rules
from domain import notifications
from domain.errors import Conflict, Invalid
from domain.moderation import Applied, PhotoModeration, tell_feed
from domain.tenant_abilities import PHOTOS_MODERATE, PHOTOS_READ, PHOTOS_WRITE
from gateway.events.common_schemas import Item, Page, dump_all
from gateway.events.devices import device_id
from gateway.events.envelope import success
from gateway.events.feed import feed_notifier_key
from gateway.events.guards import require_tenant
from gateway.events.guest_events import guest_event_or_404
from gateway.events.openapi import GUEST_DEVICE, GUEST_TOKEN, RATE_LIMITED, TENANT_READ, TENANT_WRITE
from gateway.events.pagination import PageQuery, page_body, page_of
from gateway.events.photo_views import GuestPhotoPublic, PhotoTenantPublic
from gateway.events.tenant_media import tenant_links
from gateway.events.uploads import event_not_open, tenant_event_or_404
from gateway.kernel.keys import jobs_key, media_visibility_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse, path_id, query_choice, read_body, validate
from jobs import images
from storage import jobs as jobs_sql
from storage import photo_uploads as uploads_sql
from storage import photos as photos_sql
from storage import tasks as tasks_sql
from storage.errors import domain_errors

log = logging.getLogger(__name__)


class PhotoCreate(BaseModel):
    upload_id: str = Field(min_length=1, max_length=64)
    task_id: StrictInt | None = Field(default=None, ge=1, le=2**63 - 1)
    emotion_id: StrictInt | None = Field(default=None, ge=1, le=2**63 - 1)


class FeatureIn(BaseModel):
    featured: StrictBool = True


class PhotoListQuery(PageQuery):
    # storage.photos.STATUS_FILTERS' keys (tests/events/test_poll_schemas.py holds them together)
    status: Literal["pending", "ready", "failed", "approved", "rejected", "featured", "unmoderated"] | None = Field(
        default=None, description="One filter: see the operation's description."
    )


EVENT = {"event": "The event's id (another tenant's event is a 404, as if it did not exist)."}
PHOTO = {"photo": "The photo's id (another tenant's photo is a 404)."}
# every tenant route: a token without the ability, an account that administers no tenant, a
# session without its XSRF header (403); past the tenant's per-minute budget (429)
_TENANT_ERRORS = (403, 429)


def _invalid_upload() -> Invalid:
    return Invalid(
        "The upload is unknown for this event.",
        code="invalid_upload",
        fields={"upload_id": ["The selected upload id is invalid."]},
    )


# -- creation -------------------------------------------------------------------------------------


def _owns(upload: asyncpg.Record, *, device: str | None, user_id: int | None) -> bool:
    """A tenant admin's upload belongs to that admin; a guest's to its device."""
    if user_id is not None:
        return upload["user_id"] == user_id
    return upload["user_id"] is None and upload["device_id"] == device


async def _check_task_and_emotion(conn: asyncpg.Connection, event: asyncpg.Record, body: PhotoCreate) -> None:
    tenant_id = event["tenant_id"]
    fields: dict[str, list[str]] = {}
    if body.task_id is not None and not await tasks_sql.event_offers_task(conn, tenant_id, event["id"], body.task_id):
        fields["task_id"] = ["The selected task id is invalid."]
    if body.emotion_id is not None and await tasks_sql.emotion_for_tenant(conn, tenant_id, body.emotion_id) is None:
        fields["emotion_id"] = ["The selected emotion id is invalid."]
    if fields:
        raise Invalid(fields=fields)


async def _create(
    request: web.Request, event: asyncpg.Record, *, device: str | None, user_id: int | None
) -> asyncpg.Record:
    if event["status"] == event_rules.ARCHIVED:
        raise event_not_open()
    body = await parse(request, PhotoCreate)
    settings = request.config_dict[settings_key]
    async with request.config_dict[pool_key].acquire() as conn, conn.transaction():
        upload = await uploads_sql.lock_for_photo(conn, body.upload_id, event["id"])
        if upload is None or not _owns(upload, device=device, user_id=user_id):
            raise _invalid_upload()
        if upload["received_at"] is None:
            raise Conflict("The photo's bytes have not been uploaded yet.", code="upload_not_received")
        if upload["consumed_at"] is not None:
            raise Conflict("This upload has already been used for a photo.", code="upload_already_used")
        await _check_task_and_emotion(conn, event, body)
        used = await photos_sql.reserve_slot(conn, event["id"], event["photo_limit"])
        # the 80 % / 100 % alerts commit with the slot that crosses the line, or not at all
        alert_jobs = await notifications.photo_slot_taken(
            conn, event, used, event["photo_limit"], notifications.Delivery.from_settings(settings)
        )
        photo = await photos_sql.insert(
            conn,
            event_id=event["id"],
            tenant_id=event["tenant_id"],
            upload_id=upload["id"],
            device_id=device,
            user_id=user_id,
            task_id=body.task_id,
            emotion_id=body.emotion_id,
        )
        await uploads_sql.consume(conn, upload["id"])
        with domain_errors():
            job_id, _ = await jobs_sql.insert(
                conn,
                images.KIND,
                images.payload_for(photo["id"], settings),
                max_attempts=images.MAX_ATTEMPTS,
                idempotency_key=f"photo:{photo['id']}",
            )
    for queued in (job_id, *alert_jobs):
        try:
            await request.config_dict[jobs_key].dispatch(queued)
        except Exception:
            # the job is committed; the runner's sweep starts it if this dispatch did not
            log.exception("photo job dispatch failed", extra={"photo_id": photo["id"], "job_id": queued})
    return photo


@documented(
    "Create a photo from a received upload (guests)",
    response=Item[GuestPhotoPublic],
    status=201,
    body=PhotoCreate,
    auth=GUEST_DEVICE,
    auth_optional=True,
    errors=(400, 403, 404, 409),
    path_params=GUEST_TOKEN,
    description="X-Device-Id is required here (400 `device_id_required`): the upload must be this device's.",
)
async def guest_create(request: web.Request) -> web.Response:
    """POST /events/{token}/photos {upload_id, task_id?, emotion_id?} (X-Device-Id required)."""
    async with request.config_dict[pool_key].acquire() as conn:
        event = await guest_event_or_404(conn, request.match_info["token"])
    device = device_id(request, required=True)
    photo = await _create(request, event, device=device, user_id=None)
    return success(Item(data=GuestPhotoPublic.from_row(photo, request.config_dict[settings_key].app_url)), status=201)


@documented(
    "Create a photo from a received upload (tenant)",
    response=Item[PhotoTenantPublic],
    status=201,
    body=PhotoCreate,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 400, 404, 409),
    path_params=EVENT,
    headers_out=RATE_LIMITED,
)
async def tenant_create(request: web.Request) -> web.Response:
    """POST /tenant/events/{event}/photos (photos:write)."""
    caller = await require_tenant(request, PHOTOS_WRITE)
    async with request.config_dict[pool_key].acquire() as conn:
        event = await tenant_event_or_404(conn, caller, path_id(request, "event"))
    photo = await _create(request, event, device=device_id(request), user_id=caller.user_id)
    return success(Item(data=PhotoTenantPublic.from_links(photo, tenant_links(request))), status=201)


# -- the tenant's list ----------------------------------------------------------------------------


@documented(
    "List an event's photos",
    response=Page[PhotoTenantPublic],
    query=PhotoListQuery,
    auth=TENANT_READ,
    errors=(*_TENANT_ERRORS, 404),
    path_params=EVENT,
    headers_out=RATE_LIMITED,
)
async def tenant_list(request: web.Request) -> web.Response:
    """GET /tenant/events/{event}/photos?status=&page=&per_page= (photos:read), newest first."""
    caller = await require_tenant(request, PHOTOS_READ)
    status = query_choice(request, "status", photos_sql.STATUS_FILTERS)
    page = page_of(request)
    app_url = request.config_dict[settings_key].app_url
    async with request.config_dict[pool_key].acquire() as conn:
        event = await tenant_event_or_404(conn, caller, path_id(request, "event"))
        rows, total = await photos_sql.list_for_event(conn, event["id"], status, page.per_page, page.offset)
    links = tenant_links(request)
    body = page_body(request, app_url, page, dump_all(PhotoTenantPublic.from_links(r, links) for r in rows), total)
    if status is not None:  # keep the filter when following the page links
        for name, link in body["links"].items():
            if link is not None:
                body["links"][name] = f"{link}&status={status}"
    return success(body)


# -- moderation -----------------------------------------------------------------------------------


def _moderation(request: web.Request) -> PhotoModeration:
    return PhotoModeration(request.config_dict[pool_key])


async def _tell_feed(request: web.Request, applied: Applied) -> None:
    if applied.feed_version is None:
        return  # the guests' view did not change: nothing to tell
    try:
        await tell_feed(request.config_dict[feed_notifier_key], applied)
    except Exception:
        log.exception("feed notification failed", extra={"photo_id": applied.photo["id"]})


async def _answer(request: web.Request, applied: Applied) -> web.Response:
    """After the commit: the feed actor is told, then the photo answered as it now is."""
    await _tell_feed(request, applied)
    return success(Item(data=PhotoTenantPublic.from_links(applied.photo, tenant_links(request))))


@documented(
    "Approve a photo",
    response=Item[PhotoTenantPublic],
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404, 409),
    path_params=PHOTO,
    headers_out=RATE_LIMITED,
)
async def approve(request: web.Request) -> web.Response:
    """POST /tenant/photos/{photo}/approve: into the feed now if processed, else once it is."""
    caller = await require_tenant(request, PHOTOS_MODERATE)
    photo_id = path_id(request, "photo")
    applied = await _moderation(request).approve(caller.tenant_id, photo_id)
    # a cached refusal would keep hiding it here for the cache's TTL
    request.config_dict[media_visibility_key].forget(photo_id)
    return await _answer(request, applied)


@documented(
    "Reject a photo",
    response=Item[PhotoTenantPublic],
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404, 409),
    path_params=PHOTO,
    headers_out=RATE_LIMITED,
)
async def reject(request: web.Request) -> web.Response:
    """POST /tenant/photos/{photo}/reject: out of the feed, and its package slot freed."""
    caller = await require_tenant(request, PHOTOS_MODERATE)
    photo_id = path_id(request, "photo")
    applied = await _moderation(request).reject(caller.tenant_id, photo_id)
    request.config_dict[media_visibility_key].forget(photo_id)  # this gateway stops serving it now
    return await _answer(request, applied)


@documented(
    "Feature or unfeature a photo",
    response=Item[PhotoTenantPublic],
    body=FeatureIn,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404, 409),
    path_params=PHOTO,
    headers_out=RATE_LIMITED,
)
async def feature(request: web.Request) -> web.Response:
    """POST /tenant/photos/{photo}/feature {featured?: bool = true}."""
    caller = await require_tenant(request, PHOTOS_MODERATE)
    photo_id = path_id(request, "photo")
    body = validate(FeatureIn, await read_body(request))  # no body at all: featured
    # featuring changes no media visibility: the cache entry stays
    applied = await _moderation(request).feature(caller.tenant_id, photo_id, body.featured)
    return await _answer(request, applied)
