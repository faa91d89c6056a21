"""One error hierarchy for the whole domain.

Each error has a stable snake_case `code`, an HTTP `status`, an English `message`, structured
`meta` and, for validation failures, per-field messages. Domain code raises these; each contract
surface renders the same error in its own envelope (gateway/envelopes.py). Nothing here knows
about HTTP responses.
"""

from __future__ import annotations

from typing import Any


class RoostError(Exception):
    status: int = 500
    code: str = "server_error"
    title: str = "Server Error"
    message: str = "Server Error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        meta: dict[str, Any] | None = None,
        fields: dict[str, list[str]] | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else type(self).message
        self.code = code or type(self).code
        self.meta = meta or {}
        # field -> messages, rendered as `errors` (000/003), `detail` list (002), meta (001)
        self.fields = fields or {}
        # Some documents put structured data in the error body's `data` (e.g. the daily quota).
        self.data = data
        self.headers = headers or {}
        # Top-level fields a document adds to its error body (000's pet-type gate: `error_code`).
        self.extra = extra or {}
        super().__init__(self.message)

    def __reduce__(self):  # errors cross Ray process boundaries; keep their keywords
        return (
            _rebuild,
            (type(self), self.message, self.code, self.meta, self.fields, self.data, self.headers, self.extra),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


def _rebuild(cls, message, code, meta, fields, data, headers, extra):
    return cls(message, code=code, meta=meta, fields=fields, data=data, headers=headers, extra=extra)


class BadRequest(RoostError):
    status, code, title, message = 400, "bad_request", "Bad Request", "Bad request."


class MalformedJSON(BadRequest):
    code, title, message = "malformed_json", "Malformed JSON", "The request body is not valid JSON."


class Unauthenticated(RoostError):
    status, code, title, message = 401, "unauthenticated", "Unauthenticated", "Unauthenticated."


class Forbidden(RoostError):
    status, code, title, message = 403, "forbidden", "Forbidden", "Access forbidden."


class NotFound(RoostError):
    status, code, title, message = 404, "not_found", "Not Found", "Resource not found."


class RouteNotFound(NotFound):
    code, message = "route_not_found", "Route not found."


class MethodNotAllowed(RoostError):
    status, code, title, message = 405, "method_not_allowed", "Method Not Allowed", "Method not allowed."


class Conflict(RoostError):
    status, code, title, message = 409, "conflict", "Conflict", "The resource already exists or was changed."


class Gone(RoostError):
    status, code, title, message = 410, "gone", "Gone", "The resource is no longer available."


class PayloadTooLarge(RoostError):
    status, code, title, message = 413, "payload_too_large", "Payload Too Large", "The request body is too large."


class UnsupportedMediaType(RoostError):
    status, code, title, message = (
        415,
        "unsupported_media_type",
        "Unsupported Media Type",
        "The request body must be JSON.",
    )


class Invalid(RoostError):
    status, code, title, message = 422, "validation_failed", "Validation Failed", "The given data was invalid."


class RateLimited(RoostError):
    status, code, title, message = 429, "rate_limited", "Too Many Requests", "Too Many Attempts."


class ServiceUnavailable(RoostError):
    status, code, title, message = 503, "service_unavailable", "Service Unavailable", "Service unavailable."


def from_http_status(status: int, reason: str | None = None) -> RoostError:
    """The domain error for a bare HTTP status that the web framework raised on its own."""
    cls = {
        400: BadRequest,
        401: Unauthenticated,
        403: Forbidden,
        404: RouteNotFound,
        405: MethodNotAllowed,
        409: Conflict,
        410: Gone,
        413: PayloadTooLarge,
        415: UnsupportedMediaType,
        422: Invalid,
        429: RateLimited,
        503: ServiceUnavailable,
    }.get(status)
    if cls is None:
        err = RoostError(reason or "Server Error")
        err.status = status if 400 <= status < 600 else 500
        return err
    return cls()
