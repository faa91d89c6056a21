"""001 emotions and tasks: the library, tenant overrides, event scoping and the guests' lists.

The library is global (seeded, shared by every tenant) plus each tenant's own entries. A tenant
changes a global task only through its override (its own title/description, or hidden), never the
task itself; `restore` drops the override. An event offers the tasks scoped to it, or the whole
library when none are; guests see that list with hidden tasks left out and overrides applied.

Tenant routes: reads need events:read, writes events:write. Another tenant's own task, emotion or
event is a 404, exactly as a missing one.
"""

from __future__ import annotations

import asyncpg
from aiohttp import web

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.tenant_abilities import EVENTS_READ, EVENTS_WRITE
from gateway.events.common_schemas import Item, Items, Page, dump_all
from gateway.events.devices import device_id
from gateway.events.envelope import success
from gateway.events.guards import require_tenant
from gateway.events.guest_events import guest_event_row
from gateway.events.openapi import GUEST_DEVICE, GUEST_TOKEN, RATE_LIMITED, TENANT_READ, TENANT_WRITE
from gateway.events.pagination import PageQuery, page_body, page_of
from gateway.events.task_models import (
    EmotionCreate,
    EmotionPublic,
    EventTasks,
    EventTasksIn,
    EventTasksMeta,
    GuestEmotionPublic,
    GuestTaskPublic,
    TaskCreate,
    TaskPublic,
    TaskUpdate,
)
from gateway.kernel.keys import pool_key, settings_key
from gateway.kernel.openapi.operation import NO_BODY, documented
from gateway.kernel.validation import parse, path_id
from storage import events as events_sql
from storage import tasks as tasks_sql

# fields an override may set on a global task; the rest of a global task is the library's
_OVERRIDABLE = frozenset({"title", "description"})
# every tenant route: a token without the ability, an account that administers no tenant, a
# session without its XSRF header (403); past the tenant's per-minute budget (429)
_TENANT_ERRORS = (403, 429)


async def _require_emotion(conn: asyncpg.Connection, tenant_id: int, emotion_id: int | None) -> None:
    """A task's emotion must be global or the tenant's own (else 422 on `emotion_id`)."""
    if emotion_id is not None and await tasks_sql.emotion_for_tenant(conn, tenant_id, emotion_id) is None:
        raise Invalid(fields={"emotion_id": ["The selected emotion id is invalid."]})


# -- emotions -------------------------------------------------------------------------------------


@documented(
    "List emotions (global, then the tenant's)",
    response=Page[EmotionPublic],
    query=PageQuery,
    auth=TENANT_READ,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def list_emotions(request: web.Request) -> web.Response:
    """GET /tenant/emotions: the global emotions, then the tenant's own."""
    caller = await require_tenant(request, EVENTS_READ)
    page = page_of(request)
    async with request.config_dict[pool_key].acquire() as conn:
        rows, total = await tasks_sql.emotions_page(conn, caller.tenant_id, limit=page.per_page, offset=page.offset)
    items = dump_all(EmotionPublic.from_row(r) for r in rows)
    return success(page_body(request, request.config_dict[settings_key].app_url, page, items, total))


@documented(
    "Create an emotion of the tenant's own",
    response=Item[EmotionPublic],
    status=201,
    body=EmotionCreate,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 409),
    headers_out=RATE_LIMITED,
)
async def create_emotion(request: web.Request) -> web.Response:
    """POST /tenant/emotions {slug, name, emoji?, sort_order?} → 201 {data}."""
    caller = await require_tenant(request, EVENTS_WRITE)
    body = await parse(request, EmotionCreate)
    async with request.config_dict[pool_key].acquire() as conn:
        row = await tasks_sql.create_emotion(
            conn, caller.tenant_id, slug=body.slug, name=body.name, emoji=body.emoji, sort_order=body.sort_order
        )
    return success(Item(data=EmotionPublic.from_row(row)), status=201)


@documented(
    "Delete an emotion of the tenant's own",
    response=NO_BODY,
    status=204,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404),
    path_params={"emotion": "The emotion's id."},
    headers_out=RATE_LIMITED,
)
async def delete_emotion(request: web.Request) -> web.Response:
    """DELETE /tenant/emotions/{emotion} → 204; global emotions are everyone's (403)."""
    caller = await require_tenant(request, EVENTS_WRITE)
    emotion_id = path_id(request, "emotion")
    async with request.config_dict[pool_key].acquire() as conn:
        row = await tasks_sql.emotion_for_tenant(conn, caller.tenant_id, emotion_id)
        if row is None:
            raise NotFound()
        if row["tenant_id"] is None:
            raise Forbidden("Global emotions cannot be deleted.", code="global_emotion_readonly")
        await tasks_sql.delete_own_emotion(conn, caller.tenant_id, emotion_id)
    return web.Response(status=204)


# -- the task library -----------------------------------------------------------------------------


async def _library_task_or_404(conn: asyncpg.Connection, tenant_id: int, task_id: int) -> asyncpg.Record:
    row = await tasks_sql.library_task(conn, tenant_id, task_id)
    if row is None:
        raise NotFound()
    return row


@documented(
    "List the task library",
    response=Page[TaskPublic],
    query=PageQuery,
    auth=TENANT_READ,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def list_tasks(request: web.Request) -> web.Response:
    """GET /tenant/tasks: global tasks (overrides applied, hidden ones flagged), then the tenant's own."""
    caller = await require_tenant(request, EVENTS_READ)
    page = page_of(request)
    async with request.config_dict[pool_key].acquire() as conn:
        rows, total = await tasks_sql.library_page(conn, caller.tenant_id, limit=page.per_page, offset=page.offset)
    items = dump_all(TaskPublic.from_row(r) for r in rows)
    return success(page_body(request, request.config_dict[settings_key].app_url, page, items, total))


@documented(
    "Create a task of the tenant's own",
    response=Item[TaskPublic],
    status=201,
    body=TaskCreate,
    auth=TENANT_WRITE,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def create_task(request: web.Request) -> web.Response:
    """POST /tenant/tasks {title, description?, emotion_id?, sort_order?} → 201 {data}: a task of the tenant's own."""
    caller = await require_tenant(request, EVENTS_WRITE)
    body = await parse(request, TaskCreate)
    async with request.config_dict[pool_key].acquire() as conn:
        await _require_emotion(conn, caller.tenant_id, body.emotion_id)
        row = await tasks_sql.create_task(
            conn,
            caller.tenant_id,
            title=body.title,
            description=body.description or None,
            emotion_id=body.emotion_id,
            sort_order=body.sort_order,
        )
    return success(Item(data=TaskPublic.from_row(row)), status=201)


@documented(
    "Edit a task, or override a global one",
    response=Item[TaskPublic],
    body=TaskUpdate,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404),
    path_params={"task": "The task's id (a global one or the tenant's own)."},
    headers_out=RATE_LIMITED,
)
async def update_task(request: web.Request) -> web.Response:
    """PUT /tenant/tasks/{task}: the tenant's own task is edited; a global one gets (or updates)
    the tenant's override of its title and description. Only the fields sent change."""
    caller = await require_tenant(request, EVENTS_WRITE)
    task_id = path_id(request, "task")
    body = await parse(request, TaskUpdate)
    fields = body.model_dump(include=body.model_fields_set)
    async with request.config_dict[pool_key].acquire() as conn:
        row = await _library_task_or_404(conn, caller.tenant_id, task_id)
        if row["tenant_id"] is None:
            fixed = sorted(set(fields) - _OVERRIDABLE)
            if fixed:
                messages = {
                    name: [f"The {name.replace('_', ' ')} of a global task cannot be changed."] for name in fixed
                }
                raise Invalid(fields=messages)
            await tasks_sql.override_global_task(conn, caller.tenant_id, task_id, fields)
        else:
            if "description" in fields:
                fields["description"] = fields["description"] or None
            await _require_emotion(conn, caller.tenant_id, fields.get("emotion_id"))
            await tasks_sql.update_own_task(conn, caller.tenant_id, task_id, fields)
        row = await _library_task_or_404(conn, caller.tenant_id, task_id)
    return success(Item(data=TaskPublic.from_row(row)))


@documented(
    "Delete a task, or hide a global one",
    response=NO_BODY,
    status=204,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404),
    path_params={"task": "The task's id (a global one or the tenant's own)."},
    headers_out=RATE_LIMITED,
)
async def delete_task(request: web.Request) -> web.Response:
    """DELETE /tenant/tasks/{task} → 204: the tenant's own task is deleted; a global one is hidden
    from the tenant's events (restore brings it back)."""
    caller = await require_tenant(request, EVENTS_WRITE)
    task_id = path_id(request, "task")
    async with request.config_dict[pool_key].acquire() as conn:
        row = await _library_task_or_404(conn, caller.tenant_id, task_id)
        if row["tenant_id"] is None:
            await tasks_sql.hide_global_task(conn, caller.tenant_id, task_id)
        else:
            await tasks_sql.delete_own_task(conn, caller.tenant_id, task_id)
    return web.Response(status=204)


@documented(
    "Restore a global task",
    response=Item[TaskPublic],
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404, 409),
    path_params={"task": "The task's id (a global one or the tenant's own)."},
    headers_out=RATE_LIMITED,
)
async def restore_task(request: web.Request) -> web.Response:
    """POST /tenant/tasks/{task}/restore → {data}: a global task as the library has it, visible
    again; the tenant's own tasks have nothing to restore (409)."""
    caller = await require_tenant(request, EVENTS_WRITE)
    task_id = path_id(request, "task")
    async with request.config_dict[pool_key].acquire() as conn:
        row = await _library_task_or_404(conn, caller.tenant_id, task_id)
        if row["tenant_id"] is not None:
            raise Conflict("Only global tasks can be restored.", code="not_a_global_task")
        await tasks_sql.drop_override(conn, caller.tenant_id, task_id)
        row = await _library_task_or_404(conn, caller.tenant_id, task_id)
    return success(Item(data=TaskPublic.from_row(row)))


# -- event scoping --------------------------------------------------------------------------------


async def _event_tasks_body(conn: asyncpg.Connection, tenant_id: int, event_id: int) -> EventTasks:
    rows = await tasks_sql.event_tasks(conn, tenant_id, event_id)
    scoped = await tasks_sql.event_is_scoped(conn, event_id)
    return EventTasks(data=[TaskPublic.from_row(r) for r in rows], meta=EventTasksMeta(scoped=scoped))


@documented(
    "The tasks an event offers",
    response=EventTasks,
    auth=TENANT_READ,
    errors=(*_TENANT_ERRORS, 404),
    path_params={"event": "The event's id."},
    headers_out=RATE_LIMITED,
)
async def get_event_tasks(request: web.Request) -> web.Response:
    """GET /tenant/events/{event}/tasks → {data: [tasks the event offers], meta: {scoped}}."""
    caller = await require_tenant(request, EVENTS_READ)
    event_id = path_id(request, "event")
    async with request.config_dict[pool_key].acquire() as conn:
        if await events_sql.get_for_tenant(conn, caller.tenant_id, event_id) is None:
            raise NotFound()
        body = await _event_tasks_body(conn, caller.tenant_id, event_id)
    return success(body)


@documented(
    "Set the tasks an event offers",
    response=EventTasks,
    body=EventTasksIn,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 404),
    path_params={"event": "The event's id."},
    headers_out=RATE_LIMITED,
)
async def put_event_tasks(request: web.Request) -> web.Response:
    """PUT /tenant/events/{event}/tasks {task_ids} replaces the event's scoped list (in that
    order); an empty list offers the whole library again. Every id must be a global task or the
    tenant's own, and not hidden (else 422 on `task_ids`, nothing changed)."""
    caller = await require_tenant(request, EVENTS_WRITE)
    event_id = path_id(request, "event")
    body = await parse(request, EventTasksIn)
    async with request.config_dict[pool_key].acquire() as conn, conn.transaction():
        if await events_sql.get_for_tenant(conn, caller.tenant_id, event_id, lock=True) is None:
            raise NotFound()
        usable = await tasks_sql.usable_task_ids(conn, caller.tenant_id, body.task_ids)
        refused = [i for i in body.task_ids if i not in usable]
        if refused:
            message = "The selected task ids are invalid."
            raise Invalid(fields={"task_ids": [message]}, meta={"invalid_task_ids": refused})
        await tasks_sql.set_event_tasks(conn, event_id, body.task_ids)
        result = await _event_tasks_body(conn, caller.tenant_id, event_id)
    return success(result)


# -- guests ---------------------------------------------------------------------------------------


@documented(
    "The event's tasks, for guests",
    response=Items[GuestTaskPublic],
    auth=GUEST_DEVICE,
    auth_optional=True,
    errors=(400, 404),
    path_params=GUEST_TOKEN,
)
async def guest_tasks(request: web.Request) -> web.Response:
    """GET /events/{token}/tasks → {data}: what the event offers, hidden tasks left out."""
    device_id(request)  # optional on reads, but a malformed one is refused like everywhere else
    event = await guest_event_row(request)
    async with request.config_dict[pool_key].acquire() as conn:
        rows = await tasks_sql.event_tasks(conn, event["tenant_id"], event["id"])
    return success(Items(data=[GuestTaskPublic.from_row(r) for r in rows]))


@documented(
    "The event's emotions, for guests",
    response=Items[GuestEmotionPublic],
    auth=GUEST_DEVICE,
    auth_optional=True,
    errors=(400, 404),
    path_params=GUEST_TOKEN,
)
async def guest_emotions(request: web.Request) -> web.Response:
    """GET /events/{token}/emotions → {data}: the global emotions and the event's tenant's own."""
    device_id(request)
    event = await guest_event_row(request)
    async with request.config_dict[pool_key].acquire() as conn:
        rows = await tasks_sql.emotions_for_tenant(conn, event["tenant_id"])
    return success(Items(data=[GuestEmotionPublic.from_row(r) for r in rows]))
