"""001 GET /tenant/events/{event}/photos/archive: every approved photo's original in one ZIP,
streamed as it is built.

No temporary file and flat memory whatever the event's size: photos are read from PostgreSQL in
short keyset batches (no connection held while streaming), each original is read from the media
store in chunks, and zipfile writes into `ZipPipe`, which hands every piece on to the response
before the next chunk is read. Entries are STORED (JPEGs do not compress) with data descriptors
and ZIP64 headers, the form zipfile writes to a non-seekable stream of any size.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import zipfile
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import asyncpg
from aiohttp import web

from domain.errors import NotFound
from domain.tenant_abilities import PHOTOS_EXPORT
from gateway.events.guards import require_tenant
from gateway.events.openapi import TENANT_READ
from gateway.kernel.keys import media_store_key, pool_key
from gateway.kernel.middlewares import stream_headers
from gateway.kernel.openapi.operation import Body, documented
from gateway.kernel.validation import path_id
from storage import events as events_sql
from storage import gallery as gallery_sql

if TYPE_CHECKING:
    from domain.media_store import LocalMediaStore

log = logging.getLogger("roost.events")

# rows per query: a few dozen KB of metadata at a time, one short query per few hundred photos
BATCH = 500
# ZIP timestamps cannot go before 1980
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of the archive: its name, its time and a way to read its bytes in chunks."""

    name: str
    when: datetime | None
    open_chunks: Callable[[], AsyncGenerator[bytes, None]]


class ZipPipe:
    """The file object zipfile writes to: it keeps only what was written since the last `take`.
    Having no seek/tell makes zipfile use its streaming (data descriptor) layout."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.buffered = 0
        # the most ever held at once: what "flat memory" means here, and what the tests check
        self.high_water = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.buffered += len(data)
        self.high_water = max(self.high_water, self.buffered)
        return len(data)

    def flush(self) -> None:
        """zipfile flushes its file object; the bytes leave through `take` instead."""

    def close(self) -> None:
        """Part of the file protocol zipfile declares; it never closes a file it was handed."""

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.buffered = 0
        return data


def _zip_time(when: datetime | None) -> tuple[int, int, int, int, int, int]:
    if when is None or when.year < 1980:
        return _ZIP_EPOCH
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


async def zip_stream(entries: AsyncIterable[Entry], pipe: ZipPipe | None = None) -> AsyncGenerator[bytes, None]:
    """The ZIP of `entries`, piece by piece: each piece is at most one source chunk plus headers.
    An entry whose bytes are gone (FileNotFoundError on the first read) is left out."""
    pipe = pipe or ZipPipe()
    archive = zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED)
    async for entry in entries:
        chunks = entry.open_chunks()
        try:
            first = await anext(chunks, None)
        except FileNotFoundError:
            log.warning("archive entry missing from the media store", extra={"entry": entry.name})
            continue
        info = zipfile.ZipInfo(entry.name, _zip_time(entry.when))
        info.compress_type = zipfile.ZIP_STORED
        try:
            with archive.open(info, mode="w", force_zip64=True) as dest:
                if first:
                    dest.write(first)
                    yield pipe.take()
                async for chunk in chunks:
                    dest.write(chunk)
                    yield pipe.take()
        finally:
            await chunks.aclose()
        yield pipe.take()  # the entry's data descriptor
    archive.close()
    yield pipe.take()  # the central directory


Fetch = Callable[[int], Awaitable[list[asyncpg.Record]]]


async def _entries(fetch: Fetch, store: LocalMediaStore, first_batch: list[asyncpg.Record]) -> AsyncIterator[Entry]:
    """Every approved photo's original, in id order, a batch at a time."""
    batch = first_batch
    while batch:
        for row in batch:
            key = row["original_key"]
            suffix = PurePosixPath(key).suffix or ".jpg"
            yield Entry(
                name=f"photo-{row['id']}{suffix}",
                when=row["approved_at"] or row["created_at"],
                open_chunks=functools.partial(store.chunks, key),
            )
        if len(batch) < BATCH:
            return
        batch = await fetch(batch[-1]["id"])


@documented(
    "Download every approved photo as a ZIP",
    response=Body("application/zip"),
    auth=TENANT_READ,
    errors=(403, 404, 429),
    path_params={"event": "The event's id."},
    headers_out={"Content-Disposition": 'attachment; filename="<event slug>-photos.zip"', "Cache-Control": "no-store"},
)
async def download_archive(request: web.Request) -> web.StreamResponse:
    """GET /tenant/events/{event}/photos/archive (photos:export); 404 `no_photos` when the event
    has no approved photo, 404 `not_found` when it is not the caller's."""
    caller = await require_tenant(request, PHOTOS_EXPORT)
    event_id = path_id(request, "event")
    pool = request.config_dict[pool_key]

    async def fetch(after_id: int) -> list[asyncpg.Record]:
        async with pool.acquire() as conn:
            return await gallery_sql.archive_batch(conn, caller.tenant_id, event_id, after_id, BATCH)

    async with pool.acquire() as conn:
        event = await events_sql.get_for_tenant(conn, caller.tenant_id, event_id)
    if event is None:
        raise NotFound("Event not found.")
    first_batch = await fetch(0)
    if not first_batch:
        raise NotFound("This event has no approved photos to export.", code="no_photos")

    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{event["slug"]}-photos.zip"',
            "Cache-Control": "no-store",
            # sent before the middleware sees the answer, so it cannot add the request id itself
            **stream_headers(request),
        }
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    if request.method == "HEAD":  # the headers say it all: build no ZIP for an answer with no body
        await response.write_eof()
        return response
    store = request.config_dict[media_store_key]
    # aclosing: a client that hangs up mid-download closes the open media file at once
    async with contextlib.aclosing(zip_stream(_entries(fetch, store, first_batch))) as pieces:
        async for piece in pieces:
            if piece:
                await response.write(piece)
    await response.write_eof()
    return response
