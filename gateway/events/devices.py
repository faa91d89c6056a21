"""Guest devices. A guest app sends a stable random id of its own in `X-Device-Id`; it names the
device for presence (online_guests) and for the per-device rate limits, never for access (only
the event's guest token grants that)."""

from __future__ import annotations

import re

from aiohttp import web

from domain.errors import BadRequest

HEADER = "X-Device-Id"
# UUIDs and similar app-generated ids; bounded so a hostile client cannot bloat presence sets
_DEVICE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def device_id(request: web.Request, *, required: bool = False) -> str | None:
    value = request.headers.get(HEADER)
    if value is None or value == "":
        if required:
            raise BadRequest("The X-Device-Id header is required.", code="device_id_required")
        return None
    if not _DEVICE_ID.fullmatch(value):
        raise BadRequest(
            "The X-Device-Id header must be 8 to 128 letters, digits or . _ : -.", code="device_id_invalid"
        )
    return value
