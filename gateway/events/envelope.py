"""001's envelope: resource JSON on success; every non-2xx is {"error": {code, title, message, meta}}
with `message` in the client's language (Accept-Language; English by default)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from domain.errors import RoostError
from gateway.events.messages import localize, pick_language
from gateway.kernel.json_io import json_response
from gateway.kernel.keys import request_id_key


def success(data: Any, *, status: int = 200, headers=None) -> web.Response:
    """`data`: a response model (gateway/events/*_views.py, *_schemas.py) or its JSON-ready dump."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", by_alias=True)
    return json_response(data, status=status, headers=headers)


def error(err: RoostError, request: web.Request) -> web.Response:
    lang = pick_language(request.headers.get("Accept-Language"))
    meta = dict(err.meta)
    if err.fields:
        meta["fields"] = err.fields
    if err.status >= 500 and request_id_key in request:
        meta["trace_id"] = request[request_id_key]
    title, message = localize(err, lang)
    body: dict[str, Any] = {"error": {"code": err.code, "title": title, "message": message, "meta": meta}}
    headers = {"Content-Language": lang, **err.headers}
    return json_response(body, status=err.status, headers=headers)
