"""001 GET /events/{token}: the event as guests see it.

Guests reach an event only by its guest token: a slug, an unknown token or a draft is 404
`event_not_found` (no difference between them, so a token cannot be probed for drafts). Archived
events stay readable; refusing their uploads is the photo routes' job.
"""

from __future__ import annotations

import asyncpg
from aiohttp import web

from domain.errors import NotFound
from domain.inputs import has_forbidden
from gateway.events.common_schemas import Item
from gateway.events.devices import device_id
from gateway.events.envelope import success
from gateway.events.event_views import GuestEventPublic
from gateway.events.openapi import GUEST_DEVICE, GUEST_TOKEN
from gateway.kernel.keys import pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from storage import events as events_sql


def event_not_found() -> NotFound:
    return NotFound("Event not found.", code="event_not_found")


async def guest_event_or_404(conn: asyncpg.Connection, token: str) -> asyncpg.Record:
    """The published or archived event a guest token names, or 404 `event_not_found`."""
    if has_forbidden(token, single_line=True):  # no token of ours holds one; PostgreSQL refuses NUL
        raise event_not_found()
    row = await events_sql.get_by_token(conn, token)
    if row is None:
        raise event_not_found()
    return row


async def guest_event_row(request: web.Request) -> asyncpg.Record:
    """The published or archived event the `{token}` path segment names, or 404."""
    async with request.config_dict[pool_key].acquire() as conn:
        return await guest_event_or_404(conn, request.match_info["token"])


@documented(
    "The event as guests see it",
    response=Item[GuestEventPublic],
    auth=GUEST_DEVICE,
    auth_optional=True,
    errors=(400, 404),
    path_params=GUEST_TOKEN,
)
async def show_guest_event(request: web.Request) -> web.Response:
    """GET /events/{token}; X-Device-Id is optional here but must be well-formed when sent."""
    device_id(request)
    row = await guest_event_row(request)
    return success(Item(data=GuestEventPublic.from_event(row, request.config_dict[settings_key].app_url)))
