"""The /api envelope: the union of 000's and 003's, so clients of either document work unchanged.

success {success: true, status: "success", data, message, code, timestamp}
error   {success: false, status: "error", data, message, error, errors, code, timestamp}
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from domain.errors import RoostError
from gateway.kernel.json_io import json_response
from gateway.kernel.timeutil import iso_z


def success(data: Any = None, message: str = "OK", *, status: int = 200, headers=None) -> web.Response:
    body = {
        "success": True,
        "status": "success",
        "data": data,
        "message": message,
        "code": status,
        "timestamp": iso_z(),
    }
    return json_response(body, status=status, headers=headers)


def error(err: RoostError, request: web.Request) -> web.Response:
    body = {
        "success": False,
        "status": "error",
        "data": err.data,
        "message": err.message,
        "error": err.message,
        "errors": err.fields or None,
        "code": err.status,
        "timestamp": iso_z(),
        **err.extra,
    }
    return json_response(body, status=err.status, headers=err.headers)
