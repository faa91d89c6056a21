"""Serving the generated documents: each at its stable path, built once when the app is made.

The documents are built by the composition root (gateway/app.py knows every contract) and kept
under `documents_key` as {key: (path, document)}; the bytes are serialised once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.kernel.json_io import dumps


@dataclass(frozen=True)
class Published:
    key: str  # the ContractSpec's key
    title: str
    path: str  # where the JSON is served
    document: dict[str, Any]
    body: bytes


documents_key = web.AppKey("openapi_documents", dict[str, Published])


def publish(key: str, path: str, document: dict[str, Any]) -> Published:
    return Published(key=key, title=document["info"]["title"], path=path, document=document, body=dumps(document))


def _document_handler(published: Published) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=published.body, content_type="application/json")

    return handler


def add_document_routes(router: web.UrlDispatcher, documents: Mapping[str, Published]) -> None:
    for published in documents.values():
        router.add_get(published.path, _document_handler(published))
