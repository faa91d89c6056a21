"""An event's live feed: its approved photos in order, `tasks_solved`, `latest_photo_at` and guest
presence. The `event_feed` kind; keys are `str(event_id)`.

PostgreSQL is the truth. `events.feed_version` is bumped in the same transaction as every change
to the set of approved, processed photos, and whoever commits such a change tells the feed right
after (actors/event_feed_client.py) with the new version. An op applies only when it is the very
next version; an older one is already included; a newer one means a change was missed, so the
feed marks itself stale and reloads from PostgreSQL on its next batch. Notifications may therefore
arrive late, twice or out of order without the feed drifting.

What the feed keeps in memory, and its bounds
- The newest MAX_PHOTOS photos (ascending by feed_seq). Older ones stay in PostgreSQL; `read`
  says whether the window is `complete` so the gateway knows when to look further back.
- Per-task photo counts over the whole feed (for `tasks_solved`, and so removals are exact).
- Presence: device id -> last seen (wall-clock seconds), at most MAX_DEVICES per event. Presence is
  not persisted: after a restart `online_guests` counts again from the next flush (seconds).
- At most MAX_FEEDS events per shard; idle ones are dropped after IDLE_EVICT_S and reload on use.

Ops (all take the key first)
- photo_added(photo, feed_version), photo_updated(photo, feed_version),
  photo_removed(photo_id, feed_version) -> "applied" | "known" | "stale"
- seen(device_ids, now) -> how many devices are online (in the last presence window)
- event_removed() -> the event was deleted: reads say `gone` from now on (as after a reload)
- read(now, known_version=None, presence_window_s=60) -> (version, {"stats", "photos", "complete"});
  `photos` is None when the caller already holds `known_version` (the common, cheap refresh).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from actors.state import Persistence, ShardState
from domain.errors import NotFound
from storage import event_feed as feed_sql
from storage.event_feed import FEED_COLUMNS

# A guest scrolling back further than this is served from PostgreSQL; 500 photos are ~200 KB per
# event, so a shard holding MAX_FEEDS busy events stays within a few hundred MB.
MAX_PHOTOS = 500
MAX_FEEDS = 1000
# a feed untouched this long has no pollers left; dropping it costs one reload if one comes back
IDLE_EVICT_S = 15 * 60
# far above any real event's guest count; only bounds what a hostile client can make us hold
MAX_DEVICES = 50_000
DEFAULT_PRESENCE_WINDOW_S = 60.0

Photo = dict[str, Any]


def feed_photo(row: Mapping[str, Any]) -> Photo:
    """The part of a photos row the feed keeps (and ships to gateways)."""
    return {name: row[name] for name in FEED_COLUMNS}


@dataclass
class _Feed:
    version: int
    total: int  # photos in the feed, in memory or not
    photos: list[Photo]  # the newest ones, ascending by feed_seq
    task_counts: dict[int, int]
    latest_photo_at: datetime | None
    presence: dict[str, float] = field(default_factory=dict)
    # a change was missed: the next batch reloads this feed (loaded() says no)
    stale: bool = False
    # the event no longer exists (deleted, or never did): reads say so, gateways answer 404
    gone: bool = False

    @property
    def complete(self) -> bool:
        return self.total == len(self.photos)

    def index_of(self, photo_id: int) -> int | None:
        for i in range(len(self.photos) - 1, -1, -1):  # recent photos are the ones that change
            if self.photos[i]["id"] == photo_id:
                return i
        return None

    def count_task(self, task_id: int | None, delta: int) -> None:
        if task_id is None:
            return
        n = self.task_counts.get(task_id, 0) + delta
        if n > 0:
            self.task_counts[task_id] = n
        else:
            self.task_counts.pop(task_id, None)


class EventFeedState(ShardState):
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_photos: int = MAX_PHOTOS,
                 max_feeds: int = MAX_FEEDS, idle_evict_s: float = IDLE_EVICT_S) -> None:
        self._feeds: OrderedDict[str, _Feed] = OrderedDict()
        self._touched: dict[str, float] = {}
        self._clock = clock
        self._max_photos = max_photos
        self._max_feeds = max_feeds
        self._idle_evict_s = idle_evict_s

    # -- ShardState ---------------------------------------------------------------------------

    def loaded(self, key: str) -> bool:
        feed = self._feeds.get(key)
        return feed is not None and not feed.stale

    def restore(self, key: str, snapshot: Any | None) -> None:
        old = self._feeds.get(key)
        snap = snapshot or {}
        photos = [feed_photo(p) for p in snap.get("photos", ())][-self._max_photos:]
        self._feeds[key] = _Feed(
            version=int(snap.get("version", 0)),
            total=int(snap.get("total", len(photos))),
            photos=photos,
            task_counts=dict(snap.get("task_counts", {})),
            latest_photo_at=snap.get("latest_photo_at"),
            # presence is not in PostgreSQL; a reload after a missed change must not lose it
            presence=old.presence if old is not None else {},
            # PostgreSQL has nothing for events that do not exist
            gone=snapshot is None,
        )
        self._touch(key)

    def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._feeds.pop(key, None)
            self._touched.pop(key, None)

    def apply(self, method: str, key: str, args: tuple) -> Any:
        feed = self._feeds[key]
        self._touch(key)
        if method == "read":
            return self._read(feed, *args)
        if method == "seen":
            return self._seen(feed, *args)
        if method == "event_removed":
            self._feeds[key] = _Feed(version=feed.version, total=0, photos=[], task_counts={},
                                     latest_photo_at=None, gone=True)
            return "applied"
        if method in ("photo_added", "photo_updated", "photo_removed"):
            subject, feed_version = args
            if feed.stale:
                return "stale"  # the reload will include this change
            if feed_version <= feed.version:
                return "known"
            if feed_version != feed.version + 1:
                feed.stale = True
                return "stale"
            getattr(self, "_" + method)(feed, subject)
            feed.version = feed_version
            return "stale" if feed.stale else "applied"
        raise NotFound(f"event_feed has no method {method!r}", code="unknown_method")

    def take_writes(self) -> list[Any]:
        # Nothing to persist: photo rows are written by the photo code. The end of a batch is the
        # safe moment to evict (no op of this batch still needs its key loaded).
        self._evict()
        return []

    # -- ops ----------------------------------------------------------------------------------

    def _photo_added(self, feed: _Feed, photo: Mapping[str, Any]) -> None:
        photo = feed_photo(photo)
        existing = feed.index_of(photo["id"])
        if existing is not None:  # the same photo twice under two versions: keep one copy
            feed.count_task(feed.photos[existing]["task_id"], -1)
            del feed.photos[existing]
            feed.total -= 1
        seqs = [p["feed_seq"] for p in feed.photos]
        feed.photos.insert(bisect_left(seqs, photo["feed_seq"]), photo)
        feed.total += 1
        feed.count_task(photo["task_id"], +1)
        approved = photo["approved_at"]
        if approved is not None and (feed.latest_photo_at is None or approved > feed.latest_photo_at):
            feed.latest_photo_at = approved
        if len(feed.photos) > self._max_photos:
            del feed.photos[: len(feed.photos) - self._max_photos]

    def _photo_updated(self, feed: _Feed, photo: Mapping[str, Any]) -> None:
        photo = feed_photo(photo)
        i = feed.index_of(photo["id"])
        if i is None:
            return  # older than the window (nothing in memory shows it) or not in the feed at all
        feed.count_task(feed.photos[i]["task_id"], -1)
        feed.count_task(photo["task_id"], +1)
        feed.photos[i] = photo

    def _photo_removed(self, feed: _Feed, photo_id: int) -> None:
        i = feed.index_of(photo_id)
        if i is None:
            if not feed.complete:
                # it may be an older photo outside the window: counts would drift, so reload
                feed.stale = True
            return
        gone = feed.photos.pop(i)
        feed.total -= 1
        feed.count_task(gone["task_id"], -1)
        if gone["approved_at"] is not None and gone["approved_at"] == feed.latest_photo_at:
            times = [p["approved_at"] for p in feed.photos if p["approved_at"] is not None]
            if times:
                feed.latest_photo_at = max(times)
            elif feed.total:
                feed.stale = True  # the newest remaining photo is outside the window
            else:
                feed.latest_photo_at = None

    def _seen(self, feed: _Feed, device_ids: Iterable[str], now: float) -> int:
        presence = feed.presence
        for device in device_ids:
            if device in presence or len(presence) < MAX_DEVICES:
                presence[device] = now
        if len(presence) >= MAX_DEVICES:
            self._prune(feed, now, DEFAULT_PRESENCE_WINDOW_S)
        return len(presence)

    def _read(self, feed: _Feed, now: float, known_version: int | None = None,
              presence_window_s: float = DEFAULT_PRESENCE_WINDOW_S) -> tuple[int, dict[str, Any]]:
        self._prune(feed, now, presence_window_s)
        value = {
            "stats": {
                "online_guests": len(feed.presence),
                "tasks_solved": len(feed.task_counts),
                "latest_photo_at": feed.latest_photo_at,
            },
            # a copy: Ray pickles it anyway, and callers in-process must not see later changes
            "photos": None if known_version == feed.version else list(feed.photos),
            "complete": feed.complete,
            "gone": feed.gone,
        }
        return feed.version, value

    # -- housekeeping -------------------------------------------------------------------------

    @staticmethod
    def _prune(feed: _Feed, now: float, window_s: float) -> None:
        cutoff = now - window_s
        stale = [d for d, seen in feed.presence.items() if seen <= cutoff]
        for device in stale:
            del feed.presence[device]

    def _touch(self, key: str) -> None:
        self._touched[key] = self._clock()
        self._feeds.move_to_end(key)

    def _evict(self) -> None:
        cutoff = self._clock() - self._idle_evict_s
        while self._feeds:
            key = next(iter(self._feeds))  # least recently touched first
            if len(self._feeds) <= self._max_feeds and self._touched.get(key, 0.0) > cutoff:
                break
            self.forget([key])

    def keys(self) -> list[str]:
        return list(self._feeds)


class EventFeedPersistence(Persistence):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def load(self, conn: asyncpg.Connection, keys: list[str]) -> dict[str, Any]:
        ids = {int(k): k for k in keys if k.isdigit()}
        if not ids:
            return {}
        feeds = await feed_sql.load_feeds(conn, list(ids), window=MAX_PHOTOS)
        return {ids[event_id]: feed for event_id, feed in feeds.items()}

    async def save(self, conn: asyncpg.Connection, writes: list[Any]) -> None:
        """Nothing: PostgreSQL rows are written by the photo code before it notifies the feed."""
