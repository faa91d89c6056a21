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


def success(data: Any = None, message: str = "Success", *, headers=None) -> web.Response:
    # The reference answers every success with 200, creates included.
    return json_response({"status": 1, "data": data, "message": message}, status=200, headers=headers)


def error(err: RoostError, request: web.Request) -> web.Response:
    if err.fields:
        detail: Any = [
            {"loc": ["body", *field.split(".")], "msg": msg, "type": err.code}
            for field, msgs in err.fields.items()
            for msg in msgs
        ]
    else:
        detail = _FRAMEWORK_DETAIL.get(err.code, err.message)
    body = {
        "status": 0,
        "data": None,
        "message": err.message,
        "details": {"error_type": err.code, "field_errors": list(err.fields), **err.meta},
        "detail": detail,
    }
    return json_response(body, status=err.status, headers=err.headers)
