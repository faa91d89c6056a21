"""002's envelope. Its document and its reference code disagree, and clients of both exist, so an
error body carries both shapes: the document's {status: 0, data: null, message, details} and
FastAPI's {detail} (a string, or on 422 a list of {loc, msg, type}).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from domain.errors import RoostError
from gateway.kernel.json_io import json_response

# FastAPI's own words for what the framework itself rejects; its clients compare them.
_FRAMEWORK_DETAIL = {"route_not_found": "Not Found", "method_not_allowed": "Method Not Allowed"}
RATE_LIMITED_MESSAGE = "Rate limit exceeded"


def window_words(seconds: int) -> str:
    """A throttle's window as the document words it: `1 hour`, `1 minute`, `30 seconds`."""
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}" + ("s" if n != 1 else "")
    return f"{seconds} seconds"


def success(data: Any = None, message: str = "Success", *, headers=None) -> web.Response:
    # The reference answers every success with 200, creates included.
    return json_response({"status": 1, "data": data, "message": message}, status=200, headers=headers)


def error(err: RoostError, request: web.Request) -> web.Response:
    # the document's words for a 429 (the kernel's throttles say Laravel's "Too Many Attempts.")
    message = RATE_LIMITED_MESSAGE if err.status == 429 else err.message
    if err.fields:
        detail: Any = [
            {"loc": ["body", *field.split(".")], "msg": msg, "type": err.code}
            for field, msgs in err.fields.items()
            for msg in msgs
        ]
    else:
        detail = _FRAMEWORK_DETAIL.get(err.code, message)
    details = {"error_type": err.code, "field_errors": list(err.fields), **err.meta}
    window_s = err.meta.get("window_s") if err.status == 429 else None
    if isinstance(window_s, int):
        details["window"] = window_words(window_s)  # the document's `"window": "1 hour"`
    body = {"status": 0, "data": None, "message": message, "details": details, "detail": detail}
    return json_response(body, status=err.status, headers=err.headers)
