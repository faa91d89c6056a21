"""001 tenant event CRUD, publish and archive (/tenant/events...).

Order of checks on every route: the token and its ability (401/403), then the event, scoped to the
caller's tenant (another tenant's id, a missing or non-numeric one: 404 `not_found`), then the
body (422), then the state rules (409).
"""

from __future__ import annotations

import logging

import asyncpg
from aiohttp import web

from domain import events as rules
from domain.errors import Invalid, NotFound
from domain.tenant_abilities import EVENTS_READ, EVENTS_WRITE
from gateway.events.common_schemas import Item, Page, dump_all
from gateway.events.envelope import success
from gateway.events.event_models import EventCreate, EventUpdate
from gateway.events.event_views import EventPublic, EventStatus
from gateway.events.feed import feed_notifier_key
from gateway.events.guards import require_tenant
from gateway.events.openapi import RATE_LIMITED, TENANT_READ, TENANT_WRITE
from gateway.events.pagination import PageQuery, page_body, page_of
from gateway.kernel.keys import media_store_key, pool_key, settings_key
from gateway.kernel.openapi.operation import NO_BODY, documented
from gateway.kernel.validation import parse, path_id, read_body, validate
from storage import events as events_sql

log = logging.getLogger("roost.events")

EVENT = {"event": "The event's id (another tenant's event is a 404, as if it did not exist)."}
# every tenant route: a token without the ability, an account that administers no tenant, a
# session without its XSRF header (403); past the tenant's per-minute budget (429)
_TENANT_ERRORS = (403, 429)


class EventListQuery(PageQuery):
    status: EventStatus | None = None


def _pool(request: web.Request) -> asyncpg.Pool:
    return request.config_dict[pool_key]


def _status_filter(request: web.Request) -> str | None:
    raw = request.query.get("status") or None
    if raw is not None and raw not in rules.STATUSES:
        raise Invalid(fields={"status": ["The selected status is invalid."]})
    return raw


@documented(
    "List the tenant's events",
    response=Page[EventPublic],
    query=EventListQuery,
    auth=TENANT_READ,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def list_events(request: web.Request) -> web.Response:
    """GET /tenant/events?page=&per_page=&status=: newest first."""
    caller = await require_tenant(request, EVENTS_READ)
    page, status = page_of(request), _status_filter(request)
    async with _pool(request).acquire() as conn:
        rows, total = await events_sql.list_for_tenant(
            conn, caller.tenant_id, status=status, limit=page.per_page, offset=page.offset
        )
    app_url = request.config_dict[settings_key].app_url
    body = page_body(request, app_url, page, dump_all(EventPublic.from_row(r) for r in rows), total)
    return success(body)


@documented(
    "Create an event (a draft)",
    response=Item[EventPublic],
    status=201,
    body=EventCreate,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 409),
    headers_out=RATE_LIMITED,
)
async def create_event(request: web.Request) -> web.Response:
    """POST /tenant/events: a new draft."""
    caller = await require_tenant(request, EVENTS_WRITE)
    body = await parse(request, EventCreate)
    async with _pool(request).acquire() as conn, conn.transaction():
        row = await events_sql.create(conn, caller.tenant_id, body.fields())
    return success(Item(data=EventPublic.from_row(row)), status=201)


@documented(
    "Show an event",
    response=Item[EventPublic],
    auth=TENANT_READ,
    errors=(*_TENANT_ERRORS, 404),
    path_params=EVENT,
    headers_out=RATE_LIMITED,
)
async def show_event(request: web.Request) -> web.Response:
    caller = await require_tenant(request, EVENTS_READ)
    event_id = path_id(request, "event")
    async with _pool(request).acquire() as conn:
        row = await events_sql.get_for_tenant(conn, caller.tenant_id, event_id)
    if row is None:
        raise NotFound("Event not found.")
    return success(Item(data=EventPublic.from_row(row)))


@documented(
    "Update an event",
    response=Item[EventPublic],
    body=EventUpdate,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404, 409),
    path_params=EVENT,
    headers_out=RATE_LIMITED,
)
async def update_event(request: web.Request) -> web.Response:
    """PUT /tenant/events/{event}: a partial update; the event is looked up before the body is
    judged, so another tenant learns nothing from a 422."""
    caller = await require_tenant(request, EVENTS_WRITE)
    event_id = path_id(request, "event")
    raw = await read_body(request)
    async with _pool(request).acquire() as conn, conn.transaction():
        if await events_sql.get_for_tenant(conn, caller.tenant_id, event_id) is None:
            raise NotFound("Event not found.")
        changes = validate(EventUpdate, raw).changes()
        row = await events_sql.update(conn, caller.tenant_id, event_id, changes)
    if row is None:  # deleted by a concurrent request
        raise NotFound("Event not found.")
    return success(Item(data=EventPublic.from_row(row)))


@documented(
    "Delete an event with its photos",
    response=NO_BODY,
    status=204,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404),
    path_params=EVENT,
    headers_out=RATE_LIMITED,
)
async def delete_event(request: web.Request) -> web.Response:
    """DELETE /tenant/events/{event}: the rows go by cascade in one statement, the media after
    the commit (a failed commit must not leave rows pointing at deleted files)."""
    caller = await require_tenant(request, EVENTS_WRITE)
    event_id = path_id(request, "event")
    async with _pool(request).acquire() as conn, conn.transaction():
        deleted = await events_sql.delete(conn, caller.tenant_id, event_id)
    if not deleted:
        raise NotFound("Event not found.")
    try:
        await request.config_dict[media_store_key].delete_prefix(str(event_id))
    except OSError:
        # the event is gone either way; orphaned files are unreachable (keys carry a random part)
        log.exception("event media not removed", extra={"event_id": event_id})
    try:
        # pollers on every gateway get 404 within a snapshot interval, not a token-cache TTL
        await request.config_dict[feed_notifier_key].event_removed(event_id)
    except Exception:  # the feed reloads as gone after its idle eviction or a restart anyway
        log.exception("event feed not told of the deletion", extra={"event_id": event_id})
    return web.Response(status=204)


@documented(
    "Publish an event",
    response=Item[EventPublic],
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404, 409),
    path_params=EVENT,
    headers_out=RATE_LIMITED,
)
async def publish_event(request: web.Request) -> web.Response:
    """POST /tenant/events/{event}/publish: idempotent; archived events answer 409."""
    caller = await require_tenant(request, EVENTS_WRITE)
    event_id = path_id(request, "event")
    async with _pool(request).acquire() as conn, conn.transaction():
        row = await events_sql.publish(conn, caller.tenant_id, event_id)
    if row is None:
        raise NotFound("Event not found.")
    return success(Item(data=EventPublic.from_row(row)))


@documented(
    "Archive an event",
    response=Item[EventPublic],
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404),
    path_params=EVENT,
    headers_out=RATE_LIMITED,
)
async def archive_event(request: web.Request) -> web.Response:
    """POST /tenant/events/{event}/archive: idempotent; the guest token stays."""
    caller = await require_tenant(request, EVENTS_WRITE)
    event_id = path_id(request, "event")
    async with _pool(request).acquire() as conn, conn.transaction():
        row = await events_sql.archive(conn, caller.tenant_id, event_id)
    if row is None:
        raise NotFound("Event not found.")
    return success(Item(data=EventPublic.from_row(row)))
