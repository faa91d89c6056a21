"""001's OpenAPI document: what it says about itself (the operations come from routes.py), and the
declarations its handlers share (credentials, rate-limit headers, the guest token)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from gateway.events import devices
from gateway.events.common_schemas import no_default
from gateway.events.error_codes import EventsErrorCode
from gateway.kernel.openapi import security
from gateway.kernel.openapi.builder import ContractSpec


class EventsErrorMeta(BaseModel):
    """Structured data about the error; which keys appear depends on the code."""

    model_config = ConfigDict(extra="allow")

    fields: dict[str, list[str]] | SkipJsonSchema[None] = Field(
        default=None, json_schema_extra=no_default, description="Validation failures (422): field name -> messages."
    )
    trace_id: str | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=no_default,
        description="On 5xx answers: the request id, as in X-Request-Id and the logs.",
    )


class EventsErrorDetail(BaseModel):
    code: EventsErrorCode = Field(description="Stable, snake_case: what clients switch on.")
    title: str = Field(description="A short label, in the client's language.")
    message: str = Field(description="The explanation, in the client's language (Accept-Language: de or en).")
    meta: EventsErrorMeta


class EventsError(BaseModel):
    """Every 001 error: `message` in the client's language (Accept-Language)."""

    error: EventsErrorDetail


def _bare(data: dict[str, Any]) -> dict[str, Any]:
    return data  # 001 answers the resource itself, no envelope


TENANT = {
    "type": "http",
    "scheme": "bearer",
    "description": "A tenant-app token from POST /tenant-auth/login or /tenant-auth/exchange (`<id>|<secret>`); "
    "its abilities (events:read, events:write, photos:read, photos:write, photos:moderate, photos:export, "
    "settings:write) "
    "decide what it may do. Any Roost personal access token of the account works the same way, and a "
    "Roost JWT stands for the whole account. The account must administer a tenant.",
}
DEVICE = {
    "type": "apiKey",
    "in": "header",
    "name": devices.HEADER,
    "description": "Not a credential: a stable random id the guest app picks for itself (8 to 128 of "
    "A-Z a-z 0-9 . _ : -). It names the device for presence (online_guests) and the per-device upload "
    "limits; access comes from the guest token in the path alone. A malformed one is 400 "
    "`device_id_invalid` where it is read (the polls ignore it instead).",
}

# `auth=` of the tenant routes: a token, or a signed-in browser session (with the XSRF header
# when it changes state)
TENANT_READ = ("tenant", "session")
TENANT_WRITE = ("tenant", "session+xsrf")
# `auth=` of the guest routes that read X-Device-Id; never required as a credential (see DEVICE)
GUEST_DEVICE = ("device",)

GUEST_TOKEN = {"token": "The event's guest token (`guest_token` of the tenant's event); never its slug."}

_RATE_LIMIT = {
    "Limit": "Requests allowed in the current window.",
    "Remaining": "Requests left in the current window.",
    "Reset": "Unix time at which the window resets.",
}
# on the successful answers of throttled routes; both spellings (the document's and the usual one)
RATE_LIMITED = {
    **{f"x-rate-limit-{k.lower()}": v for k, v in _RATE_LIMIT.items()},
    **{f"X-RateLimit-{k}": v for k, v in _RATE_LIMIT.items()},
}
_INTEGER = {"type": "integer"}
THROTTLE_HEADERS = {
    "Retry-After": {"description": "Seconds until a request may succeed again.", "schema": _INTEGER},
    **{f"x-rate-limit-{k.lower()}": {"description": v, "schema": _INTEGER} for k, v in _RATE_LIMIT.items()},
    **{f"X-RateLimit-{k}": {"description": v, "schema": _INTEGER} for k, v in _RATE_LIMIT.items()},
}


SPEC = ContractSpec(
    key="events",
    title="Roost events API (001)",
    version="1.0.0",
    description=(
        "Tenants, events, guest photos and their moderation, galleries, and the guest polls. Every "
        "non-2xx answer is `{error: {code, title, message, meta}}`, localized by Accept-Language "
        "(English or German). Tenant routes count against the tenant's per-minute budget, sign-ins "
        "against the address and account, upload starts against the device, the address and the "
        "tenant: those answers carry x-rate-limit-* (and X-RateLimit-*), and 429 with Retry-After."
    ),
    server="/api/v1",
    envelope=_bare,
    error_model=EventsError,
    security_schemes={
        "tenant": TENANT,
        "session": security.SESSION,
        "xsrf": security.XSRF,
        "device": DEVICE,
    },
    # the root middleware refuses a query parameter holding a control character on every route,
    # before any handler (422 `forbidden_characters`, gateway/kernel/validation.py)
    common_errors=(422,),
    throttle_headers=THROTTLE_HEADERS,
)
