"""JSON in and out: orjson both ways, with the failures every contract must answer with a 4xx."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from domain.errors import MalformedJSON, PayloadTooLarge, UnsupportedMediaType


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def json_response(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type="application/json", headers=headers)


def is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


async def read_json(request: web.Request) -> Any:
    """The request's JSON body. 415 for another content type, 400 when malformed, 413 when too big."""
    if not is_json_type(request.content_type):
        raise UnsupportedMediaType(
            "The request body must be JSON (Content-Type: application/json).",
            meta={"content_type": request.content_type},
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(meta={"max_bytes": exc.max_size if hasattr(exc, "max_size") else None}) from exc
    if not raw.strip():
        raise MalformedJSON("The request body is empty; JSON was expected.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedJSON(meta={"position": exc.pos}) from exc
