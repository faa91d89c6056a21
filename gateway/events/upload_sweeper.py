"""Abandoned uploads: a guest asked for an upload URL (and maybe sent the bytes) but never made a
photo of it. Their rows and raw bytes, EXIF and GPS included, would otherwise stay for ever.

Every gateway runs the sweep now and then; `for update skip locked` lets several run at once
without doing the same rows twice. An upload is swept `GRACE_S` after its URL expired, so a PUT
still streaming at the expiry instant is long finished. Files go before rows: a sweep that dies in
between leaves rows whose files are already gone, and the next sweep deletes them again harmlessly.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
from aiohttp import web

from domain.clock import utc_now
from domain.media_store import LocalMediaStore, event_media_store
from domain.periodic import Periodic
from gateway.kernel.keys import clock_key, pool_key, settings_key
from storage import photo_uploads as uploads_sql

log = logging.getLogger(__name__)

# an hour past a URL's expiry (15 min by default) nothing can still be writing its bytes
GRACE_S = 3600
SWEEP_EVERY_S = 600
BATCH = 500


async def sweep_abandoned(pool: asyncpg.Pool, store: LocalMediaStore, *, now: datetime | None = None) -> int:
    """Delete abandoned uploads and their bytes, a batch at a time; returns how many went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=GRACE_S)
    swept = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await uploads_sql.lock_abandoned(conn, cutoff, BATCH)
            for row in rows:
                # the PUT stores bytes under the row's key, or (racing PUTs) under key-<suffix>
                # that it records; an unreceived upload has no file and the delete is a no-op
                await store.delete(row["media_key"])
            await uploads_sql.delete_many(conn, [r["id"] for r in rows])
        swept += len(rows)
        if len(rows) < BATCH:
            return swept


async def upload_sweeper_ctx(app: web.Application) -> AsyncIterator[None]:
    """Needs postgres_ctx before it."""
    store, clock = event_media_store(app[settings_key].media_dir), app[clock_key]

    async def sweep() -> None:
        # upload URLs expire on the app's clock (gateway/events/uploads.py), so they are swept on it
        swept = await sweep_abandoned(app[pool_key], store, now=utc_now(clock))
        if swept:
            log.info("abandoned uploads swept", extra={"uploads": swept})

    # the loop must outlive a failed sweep; the next one retries
    sweeper = Periodic("upload-sweeper", sweep, SWEEP_EVERY_S, clock=clock)
    sweeper.start()
    yield
    await sweeper.stop()
