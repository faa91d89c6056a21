"""The /api envelope: the union of 000's and 003's, so clients of either document work unchanged.

success {success: true, status: "success", data, message, code, timestamp}
error   {success: false, status: "error", data, message, error, errors, code, timestamp}
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

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


# `data.error_code` of the daily quota's 429: the quota counts every signed-in request on /api,
# 000's and 003's alike (gateway/pethealth/quota.py enforces it on the mount)
QUOTA_EXCEEDED_CODE = "API_DAILY_QUOTA_EXCEEDED"


class QuotaState(BaseModel):
    limit: int = Field(description="Requests a day for this user.")
    used: int
    remaining: int
    reset_at_utc: str = Field(
        description="The next UTC midnight, `YYYY-MM-DDT00:00:00+00:00`.", json_schema_extra={"format": "date-time"}
    )


class QuotaExceeded(BaseModel):
    """`data` of the daily quota's 429, on any /api route."""

    error_code: Literal["API_DAILY_QUOTA_EXCEEDED"]
    quota: QuotaState


class ApiError(BaseModel):
    """Every /api error body (the OpenAPI component; `error` above builds it)."""

    # documents add top-level fields of their own (000's pet-type gate: `error_code`)
    model_config = ConfigDict(extra="allow")

    success: Literal[False]
    status: Literal["error"]
    data: Any
    message: str
    error: str
    errors: dict[str, list[str]] | None
    code: int
    timestamp: str


def envelope_schema(data: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI schema of a success body around `data`'s schema (see `success`)."""
    return {
        "type": "object",
        "required": ["success", "status", "data", "message", "code", "timestamp"],
        "properties": {
            "success": {"const": True},
            "status": {"const": "success"},
            "data": data,
            "message": {"type": "string"},
            "code": {"type": "integer"},
            "timestamp": {"type": "string", "format": "date-time"},
        },
    }


# The /api mount's per-minute throttle and daily quota counters (gateway/pethealth/throttles.py)
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed in the current window.", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the current window.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Unix time at which the window resets.", "schema": {"type": "integer"}},
    # beyond both documents: the daily quota's state, on the successes of signed-in regular callers
    "X-Quota-Limit": {
        "description": "Beyond the contract: requests a day for this caller (signed-in, not premium).",
        "schema": {"type": "integer"},
    },
    "X-Quota-Remaining": {
        "description": "Beyond the contract: requests left today as this gateway sees it (a lower bound "
        "with several gateways).",
        "schema": {"type": "integer"},
    },
    "X-Quota-Reset": {
        "description": "Beyond the contract: Unix time of the next UTC midnight, when the quota resets.",
        "schema": {"type": "integer"},
    },
}
THROTTLE_HEADERS = {
    "Retry-After": {"description": "Seconds until a request may succeed again.", "schema": {"type": "integer"}},
}
