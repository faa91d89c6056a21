"""Request bodies into pydantic models; failures into 422s with per-field messages.

This is also the gateway's input boundary (with domain/inputs.py): every body is read by
`read_body` (forms through `read_form`), which refuses forbidden code points before any model or
handler sees them; the root middleware runs `refuse_hostile_query` on every request; ids and
numbers in the URL go through `path_id` / `query_int`.

Messages follow Laravel's wording ("The email field is required."), which the /api documents'
clients show to people; every contract renders the same field map in its own envelope.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from multidict import MultiDictProxy
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from domain.errors import BadRequest, Invalid, NotFound, PayloadTooLarge, UnsupportedMediaType
from domain.inputs import FORBIDDEN_IN_LINE, forbidden_fields, has_forbidden, parse_positive_int, scrub
from gateway.kernel.json_io import is_json_type, read_json

M = TypeVar("M", bound=BaseModel)

DEFAULT_MESSAGE = "The given data was invalid."


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _message(err: ErrorDetails, field: str) -> str:
    label = field.split(".")[-1].replace("_", " ")
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return f"The {label} field is required."
    if kind in ("string_too_long", "too_long"):
        return f"The {label} may not be greater than {ctx.get('max_length')} characters."
    if kind in ("string_too_short", "too_short"):
        if ctx.get("min_length") == 1:
            return f"The {label} field is required."
        return f"The {label} must be at least {ctx.get('min_length')} characters."
    if kind == "string_type":
        return f"The {label} must be a string."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"The {label} must be an integer."
    if kind in ("bool_type", "bool_parsing"):
        return f"The {label} field must be true or false."
    if kind in ("greater_than_equal", "greater_than"):
        return f"The {label} must be at least {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"The {label} may not be greater than {ctx.get('le', ctx.get('lt'))}."
    if kind == "value_error":
        # our own validators raise ValueError("The email must be a valid email address.")
        return str(ctx.get("error", err["msg"]))
    if kind == "literal_error" or kind == "enum":
        return f"The selected {label} is invalid."
    if kind == "extra_forbidden":
        return f"The {label} field is not allowed."
    return err["msg"]


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in exc.errors():
        name = _field_name(err["loc"])
        fields.setdefault(name, []).append(_message(err, name))
    return fields


def validate(model: type[M], data: Any, *, message: str = DEFAULT_MESSAGE) -> M:
    if not isinstance(data, dict):
        raise Invalid(message, fields={"body": ["The request body must be a JSON object."]})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(message, fields=field_errors(exc)) from None


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# the longest field path we echo back: a key is the client's text, and a field map is not a mirror
_FIELD_NAME_MAX = 200


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """`request.post()`, with what a client can break in it answered in the envelope: an unknown
    charset is 415, a body that is not the form it claims (no boundary, truncated multipart,
    bytes that are not its charset) is 400, a body over the size limit 413. Every form read goes
    through here (aiohttp caches the result, so a second call is free)."""
    try:
        return await request.post()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(meta={"max_bytes": getattr(exc, "max_size", None)}) from exc
    except LookupError as exc:  # codecs.lookup() of a charset nobody has heard of
        raise UnsupportedMediaType(
            "The request body's charset is not supported.",
            code="unsupported_charset",
            meta={"charset": scrub(request.charset or "", 64)},
        ) from exc
    except (ValueError, AssertionError, RuntimeError, BadHttpMessage) as exc:
        # aiohttp raises ValueError for a missing boundary, a body cut short or bytes not in the
        # charset (UnicodeDecodeError), RuntimeError for a part's unknown transfer encoding,
        # BadHttpMessage for a part's header it cannot parse (a control character in a field
        # name, found by schemathesis), and asserts on a few shapes it does not expect
        raise BadRequest("The request body is not a valid form.", code="malformed_form") from exc


def refuse_forbidden(data: Any, *, message: str = DEFAULT_MESSAGE) -> None:
    """422 naming every field whose key or value holds a code point no store takes
    (domain/inputs.py: NUL, C0 controls but tab and line breaks, lone surrogates)."""
    fields: dict[str, list[str]] = {}
    for path, in_key in forbidden_fields(data):
        name = scrub(_field_name(path), _FIELD_NAME_MAX)
        label = name.split(".")[-1].replace("_", " ")
        what = "field name" if in_key else "field"
        fields.setdefault(name, []).append(f"The {label} {what} contains a character that is not allowed.")
    if fields:
        raise Invalid(message, code="forbidden_characters", fields=fields)


async def read_body(request: web.Request) -> dict[str, Any]:
    """A JSON object, or a urlencoded/multipart form as a flat dict (browser forms, OAuth2 forms),
    with forbidden code points refused here, once, for every handler that reads a body."""
    if request.content_type in FORM_TYPES:
        form = await read_form(request)
        body: Any = {k: v for k, v in form.items() if isinstance(v, str)}
    elif not request.body_exists and not is_json_type(request.content_type):
        return {}
    else:
        body = await read_json(request)
    refuse_forbidden(body)
    return body


async def parse(request: web.Request, model: type[M], *, message: str = DEFAULT_MESSAGE) -> M:
    return validate(model, await read_body(request), message=message)


def trimmed_name(value: Any, max_len: int = 255) -> Any:
    """A `name` field as the documents check it (a BeforeValidator): a string, trimmed, not empty,
    at most `max_len` characters; None passes (for optional fields)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("The name must be a string.")
    value = value.strip()
    if not value:
        raise ValueError("The name field is required.")
    if len(value) > max_len:
        raise ValueError(f"The name may not be greater than {max_len} characters.")
    return value


def optional_description(value: Any, max_len: int) -> Any:
    """A `description` field (a BeforeValidator): blank means none; else a string of at most
    `max_len` characters, kept as sent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("The description must be a string.")
    if len(value) > max_len:
        raise ValueError(f"The description may not be greater than {max_len} characters.")
    return value


def path_id(request: web.Request, name: str, *, not_found: NotFound | None = None) -> int:
    """A numeric id in the path: anything but a positive integer in ASCII that fits a bigint
    names nothing (404, never a database error; `/pets/１` is not pet 1)."""
    value = parse_positive_int(request.match_info[name])
    if value is None:
        raise not_found or NotFound()
    return value


def query_int(request: web.Request, name: str, default: int, *, maximum: int | None = None) -> int:
    """A positive integer query parameter (`page`, `per_page`, `limit`): absent or empty is
    `default`; anything but an ASCII integer from 1 to `maximum` is a 422 naming it."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    value = parse_positive_int(raw)
    label = name.replace("_", " ")
    if value is None:
        raise Invalid(fields={name: [f"The {label} must be a positive integer."]})
    if maximum is not None and value > maximum:
        raise Invalid(fields={name: [f"The {label} may not be greater than {maximum}."]})
    return value


def query_choice(request: web.Request, name: str, allowed: Collection[str]) -> str | None:
    """A query parameter that must be one of `allowed` (a filter such as `status`): absent or
    empty is None; anything else outside `allowed` is a 422 naming it and the choices."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise Invalid(fields={name: [f"The {name} must be one of: {', '.join(allowed)}."]})
    return raw


def clean_or_none(value: str | None) -> str | None:
    """A header or cookie value as something we may hash, store or echo, or None: header bytes
    that are not UTF-8 arrive as lone surrogates, which no encoder takes."""
    return None if value is None or has_forbidden(value, single_line=True) else value


def refuse_hostile_query(request: web.Request) -> None:
    """The query's boundary, called by the root middleware before any handler: a parameter (name
    or value) with a control character is a 422 naming it. One search over the decoded query when
    nothing is wrong (the common case). Invalid UTF-8 needs no check: yarl decodes it to U+FFFD.

    Path segments are left to their routes, which answer for any value they cannot name (an id
    through `path_id`, a guest token by its shape, a verification token as unknown: 400), and
    the request log records such a path, scrubbed, like any other."""
    if not FORBIDDEN_IN_LINE.search(request.query_string):
        return
    fields: dict[str, list[str]] = {}
    for key, value in request.query.items():
        if has_forbidden(key, single_line=True) or has_forbidden(value, single_line=True):
            name = scrub(key, _FIELD_NAME_MAX)
            fields.setdefault(name, []).append(
                f"The {name.replace('_', ' ')} parameter contains a character that is not allowed."
            )
    raise Invalid(code="forbidden_characters", fields=fields or {"query": ["The query string is not valid."]})
