"""The gateway side of the event feeds: what guest polls are answered from.

A poll must touch neither PostgreSQL nor an actor on its own. Three things make that so:
- Guest tokens resolve through an in-process cache (TokenDirectory): found tokens for
  EVENT_FEED_TOKEN_TTL_S, unknown ones for a fifth of that, both bounded; concurrent misses for one
  token share one query.
- Each event's feed is read through a SnapshotCache (actors/snapshots.py): at most one actor call
  per event per SNAPSHOT_INTERVAL_S in this process, shared by every concurrent poller. A refresh
  whose feed_version did not move ships only the stats and keeps the rendered photos; every
  snapshot carries its response bytes and ETags, computed once, not per poll.
- Presence is buffered (PresenceBuffer) and sent every EVENT_FEED_PRESENCE_FLUSH_S as one `seen`
  op per event, which the shard client coalesces further into one call per shard.

Polls never wait for a refresh once an event has a snapshot: the first poll past the interval
starts one in the background and is answered from the previous snapshot, so a slow actor costs
freshness (still about a second) and not poll latency.

If the feed actor cannot be reached, the last snapshot keeps being served (and re-armed for an
interval, so a dead actor is not hammered); with none yet, polls answer 503.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from typing import Any

import asyncpg
from aiohttp import web

from actors.client import ShardClient
from actors.event_feed_client import FeedNotifier
from actors.snapshots import Snapshot, SnapshotCache
from domain.clock import SYSTEM_CLOCK, Clock
from domain.errors import ServiceUnavailable
from domain.periodic import Periodic
from gateway.events.guest_events import event_not_found
from gateway.events.photo_views import photo_public
from gateway.kernel.json_io import dumps
from gateway.kernel.keys import actors_key, clock_key, pool_key, settings_key
from gateway.kernel.timeutil import iso_z
from storage import event_feed as feed_sql

log = logging.getLogger(__name__)

KIND = "event_feed"
# guest tokens are secrets.token_urlsafe; anything else (a slug, junk) is refused without a query
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
GUEST_VISIBLE = ("published", "archived")
# an event this busy has more pollers than one flush needs to count; the rest wait a flush
MAX_DEVICES_PER_FLUSH = 20_000
# distinct (since, limit) answers kept per feed version: pollers converge on a few cursors, and a
# page is at most 100 photos (~40 KB), so this bounds a snapshot's answers to a few MB
MAX_PAGES_PER_VERSION = 64
# events one gateway keeps snapshots of; each holds up to 500 rendered photos (~250 KB)
MAX_SNAPSHOTS = 2000


# -- token -> event -------------------------------------------------------------------------------


class TokenDirectory:
    """guest token -> the feed key (str(event_id)) of a published or archived event."""

    def __init__(self, pool: asyncpg.Pool, *, ttl_s: float, max_entries: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._pool = pool
        self._ttl_s = ttl_s
        self._miss_ttl_s = ttl_s / 5
        self._max = max_entries
        self._clock = clock
        # kept apart so a flood of made-up tokens cannot evict the real ones
        self._found: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._missing: OrderedDict[str, float] = OrderedDict()
        self._inflight: dict[str, asyncio.Future] = {}
        self.queries = 0

    def cached(self, token: str) -> str | None:
        """The feed key when this gateway already knows the token (no coroutine on the hot path)."""
        hit = self._found.get(token)
        return hit[0] if hit is not None and hit[1] > self._clock() else None

    async def feed_key(self, token: str) -> str:
        """The event's feed key, or 404 `event_not_found`."""
        hit = self._found.get(token)
        now = self._clock()
        if hit is not None and hit[1] > now:
            return hit[0]
        if not _TOKEN_SHAPE.fullmatch(token):
            raise event_not_found()
        until = self._missing.get(token)
        if until is not None and until > now:
            raise event_not_found()
        fut = self._inflight.get(token)
        if fut is None:
            fut = asyncio.ensure_future(self._lookup(token))
            self._inflight[token] = fut
            fut.add_done_callback(lambda _f: self._inflight.pop(token, None))
        key = await asyncio.shield(fut)
        if key is None:
            raise event_not_found()
        return key

    async def _lookup(self, token: str) -> str | None:
        self.queries += 1
        async with self._pool.acquire() as conn:
            row = await feed_sql.event_by_guest_token(conn, token)
        now = self._clock()
        if row is None or row["status"] not in GUEST_VISIBLE:
            self._missing[token] = now + self._miss_ttl_s
            self._missing.move_to_end(token)
            while len(self._missing) > self._max:
                self._missing.popitem(last=False)
            return None
        key = str(row["id"])
        self._found[token] = (key, now + self._ttl_s)
        self._found.move_to_end(token)
        self._missing.pop(token, None)
        while len(self._found) > self._max:
            self._found.popitem(last=False)
        return key

    def forget(self, token: str) -> None:
        self._found.pop(token, None)
        self._missing.pop(token, None)


# -- presence -------------------------------------------------------------------------------------


class PresenceBuffer:
    """Devices seen polling since the last flush, per feed key."""

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = {}

    def note(self, key: str, device: str) -> None:
        devices = self._seen.get(key)
        if devices is None:
            devices = self._seen[key] = set()
        if len(devices) < MAX_DEVICES_PER_FLUSH:
            devices.add(device)

    def drain(self) -> dict[str, set[str]]:
        seen, self._seen = self._seen, {}
        return seen


# -- snapshots and their precomputed answers ------------------------------------------------------


def http_date(moment: datetime) -> str:
    return formatdate(int(moment.timestamp()), usegmt=True)


@dataclass(slots=True)
class StatsView:
    """GET /events/{token}/stats, ready to send. The ETag hashes the body, so a change in presence
    changes it as surely as a new photo does."""

    key: tuple[int, int, datetime | None]
    body: bytes
    etag: str
    headers: dict[str, str]
    headers_304: dict[str, str]

    @classmethod
    def build(cls, online: int, tasks: int, latest: datetime | None) -> StatsView:
        latest_at = iso_z(latest) if latest else None
        body = dumps({"online_guests": online, "tasks_solved": tasks, "latest_photo_at": latest_at})
        etag = '"s' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
        headers_304 = {"Cache-Control": "no-store", "ETag": etag}
        headers = {"Content-Type": "application/json", **headers_304}
        return cls((online, tasks, latest), body, etag, headers, headers_304)


@dataclass(slots=True)
class FeedPage:
    """One GET /events/{token}/photos answer for one (since, limit) at one feed version."""

    body: bytes
    etag: str
    headers: dict[str, str]
    headers_304: dict[str, str]


@dataclass
class PhotosView:
    """A feed version's photos (ascending by feed_seq) rendered once as photo_public, and the
    answers already built from them."""

    version: int
    photos: list[dict[str, Any]]
    rendered: list[dict[str, Any]]
    complete: bool  # the window holds every photo of the feed
    latest_photo_at: datetime | None
    latest_iso: str | None
    last_modified: str | None  # HTTP-date of latest_photo_at
    latest_second: int | None  # latest_photo_at in whole seconds (what Last-Modified can say)
    pages: OrderedDict[tuple[str, int], FeedPage] = field(default_factory=OrderedDict)

    @classmethod
    def build(cls, version: int, photos: list[dict[str, Any]], complete: bool, latest: datetime | None,
              app_url: str) -> PhotosView:
        return cls(
            version=version,
            photos=photos,
            rendered=[photo_public(p, app_url) for p in photos],
            complete=complete,
            latest_photo_at=latest,
            latest_iso=iso_z(latest) if latest else None,
            last_modified=http_date(latest) if latest else None,
            latest_second=int(latest.timestamp()) if latest else None,
        )

    def remember(self, key: tuple[str, int], page: FeedPage) -> None:
        self.pages[key] = page
        while len(self.pages) > MAX_PAGES_PER_VERSION:
            self.pages.popitem(last=False)


@dataclass(slots=True)
class FeedView:
    stats: StatsView
    photos: PhotosView
    # the event was deleted: polls answer 404 (and the token is forgotten)
    gone: bool = False


# -- the whole gateway side -----------------------------------------------------------------------


class EventFeeds:
    def __init__(self, client: ShardClient, pool: asyncpg.Pool, *, app_url: str, interval_s: float,
                 presence_window_s: float, flush_s: float, token_ttl_s: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self.client = client
        self.pool = pool
        self.app_url = app_url
        self.tokens = TokenDirectory(pool, ttl_s=token_ttl_s)
        self.presence = PresenceBuffer()
        self.snapshots: SnapshotCache[FeedView] = SnapshotCache(
            self._fetch, interval_s=interval_s, max_keys=MAX_SNAPSHOTS, meters=client.stats.meters
        )
        self._interval_s = interval_s
        self._refreshing: dict[str, asyncio.Future] = {}
        self._presence_window_s = presence_window_s
        # The loop must outlive any one bad flush, or presence stops for good; flush_presence
        # itself logs the events it could not reach.
        self._flusher = Periodic("event-presence-flush", self.flush_presence, flush_s, clock=clock)
        self.fallback_queries = 0

    async def view(self, key: str) -> FeedView:
        """The event's current snapshot. Once one exists, a poll never waits for a refresh: the
        first poll past the interval starts one in the background and is answered from the
        previous snapshot (a slow actor then costs freshness, not poll latency)."""
        return self.current(key) or (await self.snapshots.get(key)).value

    def current(self, key: str) -> FeedView | None:
        """`view` without waiting: None when this gateway has no snapshot of the event yet."""
        snap = self.snapshots.peek(key)
        if snap is None:
            return None
        if time.monotonic() - snap.fetched_at >= self._interval_s and key not in self._refreshing:
            task = asyncio.ensure_future(self.snapshots.get(key))
            self._refreshing[key] = task
            task.add_done_callback(functools.partial(self._refreshed, key))
        return snap.value

    def _refreshed(self, key: str, task: asyncio.Future) -> None:
        self._refreshing.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            # _fetch keeps the previous snapshot when the actor fails; this is anything else
            log.warning("feed refresh failed", extra={"key": key, "error": repr(task.exception())})

    async def _fetch(self, key: str) -> tuple[int, FeedView]:
        prev: Snapshot[FeedView] | None = self.snapshots.peek(key)
        try:
            version, value = await self.client.call(
                "read", key, time.time(), prev.version if prev else None, self._presence_window_s
            )
        except Exception as exc:
            if prev is None:
                log.warning("event feed unreachable", extra={"key": key, "error": repr(exc)})
                message = "The live feed is temporarily unavailable."
                raise ServiceUnavailable(message, code="service_unavailable") from exc
            log.warning("event feed unreachable; serving the last snapshot", extra={"key": key, "error": repr(exc)})
            return prev.version, prev.value
        stats = value["stats"]
        stats_key = (stats["online_guests"], stats["tasks_solved"], stats["latest_photo_at"])
        if prev is not None and prev.value.stats.key == stats_key:
            stats_view = prev.value.stats
        else:
            stats_view = StatsView.build(*stats_key)
        if value["photos"] is None and prev is not None:
            photos_view = prev.value.photos  # same version: same photos, same answers
        else:
            photos_view = PhotosView.build(
                version, value["photos"] or [], value["complete"], stats["latest_photo_at"], self.app_url
            )
        return version, FeedView(stats_view, photos_view, gone=bool(value.get("gone")))

    # presence

    def saw(self, key: str, device: str) -> None:
        self.presence.note(key, device)

    async def flush_presence(self) -> int:
        """Send what was seen since the last flush: one `seen` op per event. Returns ops sent."""
        seen = self.presence.drain()
        if not seen:
            return 0
        now = time.time()
        results = await asyncio.gather(
            *(self.client.call("seen", key, sorted(devices), now) for key, devices in seen.items()),
            return_exceptions=True,
        )
        failed = sum(isinstance(r, BaseException) for r in results)
        if failed:
            # presence is soft state: the same devices poll again within seconds
            log.warning("presence flush failed for some events", extra={"failed": failed, "events": len(seen)})
        return len(seen)

    def start(self) -> None:
        self._flusher.start()

    async def stop(self) -> None:
        for task in list(self._refreshing.values()):
            task.cancel()
        await self._flusher.stop()
        try:
            await self.flush_presence()
        except Exception:  # shutting down: presence is soft state, never worth failing a shutdown
            log.exception("final presence flush failed")


feeds_key = web.AppKey("event_feeds", EventFeeds)
feed_notifier_key = web.AppKey("event_feed_notifier", FeedNotifier)


async def event_feeds_ctx(app: web.Application) -> AsyncIterator[None]:
    """Needs postgres_ctx and actors_ctx before it; its cleanup flushes presence before they close."""
    s = app[settings_key]
    feeds = EventFeeds(
        app[actors_key][KIND],
        app[pool_key],
        app_url=s.app_url,
        interval_s=s.snapshot_interval_s,
        presence_window_s=s.event_feed_presence_window_s,
        flush_s=s.event_feed_presence_flush_s,
        token_ttl_s=s.event_feed_token_ttl_s,
        clock=app[clock_key],
    )
    app[feeds_key] = feeds
    # one notifier per process, so its shard handles are looked up once, not per approval
    app[feed_notifier_key] = FeedNotifier(namespace=s.roost_ray_namespace, shards=s.roost_shards)
    try:
        # Resolve (or create) the shard actors off the event loop now: done lazily, the first
        # poll's handle lookup would block the loop for every other request.
        await feeds.client.start()
    except Exception:  # Ray not answering yet: handles resolve on first use instead
        log.exception("event feed shards not resolved at startup")
    feeds.start()
    yield
    await feeds.stop()
