"""`images.process_photo`: turn a received upload into a processed photo (or a failed one).

Payload: `{photo_id, media_dir, max_pixels, feed: {namespace, shards}}`, built by `payload_for`.
As with mail, what the task needs from the gateway's settings travels in the payload (a Ray task
does not get the gateway's app); nothing secret is needed.

Steps: read the upload's bytes from the media store, decode with the pixel limit, re-encode the
original and its variants (domain/photo_pipeline.py, in a thread: it is CPU work), store them under
`<event_id>/<photo_id>-<secret>/{original,web,thumb}.jpg`, then in one transaction mark the photo
ready and, when it is approved (by the tenant already, or by the event's auto moderation), put it
into the feed: domain/moderation.py's PROCESSED transition, through the service the moderation
routes use too. After the commit the raw upload is deleted and the feed actor told.

Idempotent: only a pending photo is processed, and a second run that loses the race to mark it
ready changes nothing. The key's secret segment is derived from the upload's random key, so a
re-run after a crash overwrites the same files instead of leaving orphans, and no URL can be
guessed from ids. A photo that cannot be processed is marked failed, its package slot is freed
and its bytes deleted, and the job fails permanently (retrying would give the same answer);
infrastructure errors are retried, and the last attempt marks the photo failed too rather than
leave it pending for ever.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actors.event_feed_client import FeedNotifier
from domain import photo_pipeline
from domain.media_store import LocalMediaStore, event_media_store
from domain.moderation import PhotoModeration, PhotoStatus, ProcessedMedia, tell_feed
from jobs.registry import JobContext, PermanentJobError, job
from storage import photos as photos_sql

if TYPE_CHECKING:
    from domain.settings import Settings

log = logging.getLogger(__name__)

KIND = "images.process_photo"
# Decoding is the expensive part; five tries cover a worker restart or a database blip.
MAX_ATTEMPTS = 5


def payload_for(photo_id: int, settings: Settings) -> dict[str, Any]:
    return {
        "photo_id": photo_id,
        "media_dir": str(settings.media_dir),
        "max_pixels": settings.event_photo_max_pixels,
        "feed": {"namespace": settings.roost_ray_namespace, "shards": settings.roost_shards},
    }


def _check(payload: Any) -> tuple[int, LocalMediaStore, int, FeedNotifier]:
    try:
        photo_id = int(payload["photo_id"])
        store = event_media_store(Path(payload["media_dir"]))
        max_pixels = int(payload["max_pixels"])
        feed = FeedNotifier(namespace=str(payload["feed"]["namespace"]), shards=int(payload["feed"]["shards"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentJobError(f"bad images.process_photo payload: {exc!r}") from None
    return photo_id, store, max_pixels, feed


def variant_base(event_id: int, photo_id: int, upload_key: str) -> str:
    # the upload key holds 128 random bits no client ever sees: a stable, unguessable segment
    secret = hashlib.sha256(upload_key.encode()).hexdigest()[:16]
    return f"{event_id}/{photo_id}-{secret}"


@job(KIND)
async def process_photo(payload: Any, ctx: JobContext) -> dict[str, Any]:
    photo_id, store, max_pixels, feed = _check(payload)
    try:
        return await _process(ctx, photo_id, store, max_pixels, feed)
    except PermanentJobError:
        raise
    except Exception:
        if ctx.last_attempt:
            # No attempt is left to finish the work: fail the photo so its slot is freed.
            try:
                await _fail(ctx, photo_id, store, "processing_error", None)
            except Exception:
                log.exception("could not mark the photo failed", extra={"photo_id": photo_id})
        raise


async def _process(
    ctx: JobContext, photo_id: int, store: LocalMediaStore, max_pixels: int, feed: FeedNotifier
) -> dict[str, Any]:
    photo = await photos_sql.for_processing(ctx.conn, photo_id)
    if photo is None:
        return {"photo_id": photo_id, "outcome": "gone"}
    upload_key = photo["upload_key"]
    if photo["status"] != PhotoStatus.PENDING:
        if upload_key is not None:
            # A run that died between its commit and deleting the raw upload (GPS and all) left
            # it behind; this re-run (the sweeper re-dispatches such jobs) finishes that.
            await store.delete(upload_key)
        return {"photo_id": photo_id, "outcome": f"already_{photo['status']}"}
    try:
        if upload_key is None:
            raise FileNotFoundError
        data = await store.read(upload_key)
    except FileNotFoundError:
        await _fail(ctx, photo_id, store, "upload_missing", upload_key)
        raise PermanentJobError(f"photo {photo_id}: the uploaded bytes are gone") from None
    try:
        variants = await asyncio.to_thread(photo_pipeline.process, data, max_pixels=max_pixels)
    except photo_pipeline.RejectedImage as exc:
        await _fail(ctx, photo_id, store, exc.reason, upload_key)
        raise PermanentJobError(f"photo {photo_id}: {exc.reason}") from None
    del data

    base = variant_base(photo["event_id"], photo_id, upload_key)
    keys = {"original_key": f"{base}/original.jpg", "web_key": f"{base}/web.jpg", "thumb_key": f"{base}/thumb.jpg"}
    await store.put(keys["original_key"], variants.original)
    await store.put(keys["web_key"], variants.web)
    await store.put(keys["thumb_key"], variants.thumb)

    media = ProcessedMedia(
        **keys,
        content_type=photo_pipeline.OUTPUT_CONTENT_TYPE,
        width=variants.width,
        height=variants.height,
        size_bytes=len(variants.original),
    )
    applied = await PhotoModeration(ctx.conn).processed(photo_id, media)
    if applied is None or not applied.changed:
        return {"photo_id": photo_id, "outcome": "already_done"}
    await store.delete(upload_key)
    version = applied.feed_version
    if version is not None:
        try:
            await tell_feed(feed, applied)
        except Exception:
            # The photo is committed; the feed actor reloads from PostgreSQL when it sees a gap.
            log.exception("feed notification failed", extra={"photo_id": photo_id})
    return {"photo_id": photo_id, "outcome": "ready", "in_feed": version is not None, "feed_version": version}


async def _fail(ctx: JobContext, photo_id: int, store: LocalMediaStore, reason: str, upload_key: str | None) -> None:
    """pending -> failed, freeing the package slot in the same transaction; the bytes go too."""
    applied = await PhotoModeration(ctx.conn).processing_failed(photo_id, reason)
    failed = applied.photo if applied is not None and applied.changed else None
    if upload_key is None:
        upload_key = await photos_sql.upload_key(ctx.conn, photo_id)
    if upload_key is not None:
        await store.delete(upload_key)
        if failed is not None:
            await store.delete_prefix(variant_base(failed["event_id"], photo_id, upload_key))
