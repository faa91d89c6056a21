"""Request bodies into pydantic models; failures into 422s with per-field messages.

Messages follow Laravel's wording ("The email field is required."), which the /api documents'
clients show to people; every contract renders the same field map in its own envelope.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from domain.errors import Invalid, NotFound
from gateway.json_io import is_json_type, read_json

M = TypeVar("M", bound=BaseModel)

DEFAULT_MESSAGE = "The given data was invalid."


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _message(err: dict[str, Any], field: str) -> str:
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


async def read_body(request: web.Request) -> dict[str, Any]:
    """A JSON object, or a urlencoded/multipart form as a flat dict (browser forms, OAuth2 forms)."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    if not request.body_exists and not is_json_type(request.content_type):
        return {}
    return await read_json(request)


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


_PATH_ID = re.compile(r"^[1-9][0-9]{0,17}$")


def path_id(request: web.Request, name: str) -> int:
    """A numeric id in the path: anything but a positive integer that fits a bigint names nothing
    (404, never a database error)."""
    raw = request.match_info[name]
    if not _PATH_ID.fullmatch(raw):
        raise NotFound()
    return int(raw)
