"""Telling an event's feed actor that its approved photos changed.

Whoever commits a change to an event's set of approved, processed photos calls one of these right
after the commit: moderation in the gateway, and the image task when auto-moderation approves a
processed photo. Every call carries the event's new `feed_version`, so the actor can tell when it
missed one and reload the event from PostgreSQL instead of drifting (actors/event_feed.py).

Works in any Ray-connected process (a gateway or a Ray task): it looks the named shard actor up
instead of creating it. When the shard does not exist yet nobody holds that feed in memory, so
there is nothing to tell; the first reader loads it from PostgreSQL, after our commit. A negative
lookup is deliberately not cached: a shard created a moment later would otherwise miss the next
change. Failures (actor restarting, Ray down) are raised for the caller to log: the commit stands,
and the feed catches up at the next change, or at its next reload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from typing import Any

import ray

from actors.event_feed import feed_photo
from actors.sharding import actor_name, shard_of

KIND = "event_feed"


class FeedNotifier:
    def __init__(self, *, namespace: str, shards: int) -> None:
        self.namespace = namespace
        self.shards = shards
        self._handles: dict[int, Any] = {}
        self.calls = 0  # actor calls made (tests and metrics)

    async def photo_added(self, event_id: int, photo: Mapping[str, Any], feed_version: int) -> None:
        """`photo` is the photos row (every column) just approved and ready, with its feed_seq."""
        await self._send(event_id, "photo_added", feed_photo(photo), feed_version)

    async def photo_updated(self, event_id: int, photo: Mapping[str, Any], feed_version: int) -> None:
        """An approved photo changed in place (featured or not)."""
        await self._send(event_id, "photo_updated", feed_photo(photo), feed_version)

    async def photo_removed(self, event_id: int, photo_id: int, feed_version: int) -> None:
        """A photo left the feed (rejected after approval, or deleted)."""
        await self._send(event_id, "photo_removed", int(photo_id), feed_version)

    async def _handle(self, shard: int) -> Any | None:
        handle = self._handles.get(shard)
        if handle is None:
            lookup = partial(ray.get_actor, actor_name(KIND, shard), namespace=self.namespace)
            try:
                # the lookup talks to the GCS; keep it off the event loop
                handle = await asyncio.get_running_loop().run_in_executor(None, lookup)
            except ValueError:  # no such actor: no feed of this shard is in memory anywhere
                return None
            self._handles[shard] = handle
        return handle

    async def event_removed(self, event_id: int) -> None:
        """The event was deleted: its pollers get 404 within a snapshot interval on every gateway."""
        await self._call(event_id, "event_removed", ())

    async def _send(self, event_id: int, method: str, subject: Any, feed_version: int) -> None:
        await self._call(event_id, method, (subject, int(feed_version)))

    async def _call(self, event_id: int, method: str, args: tuple) -> None:
        key = str(event_id)
        shard = shard_of(key, self.shards)
        handle = await self._handle(shard)
        if handle is None:
            return
        self.calls += 1
        try:
            ((ok, value),) = await handle.call_batch.remote([(method, key, args)])
        except Exception:
            # a killed (not restarting) actor leaves a dead handle; look it up afresh next time
            self._handles.pop(shard, None)
            raise
        if not ok:
            raise value
