"""001 photo moderation: a photo's states, the transitions between them, and the one service that
commits a transition (the tenant's moderation routes and the image task both call it).

A photo has two states and a flag, as the photos table spells them (0008_events.sql):
- `status`, the processing: pending -> ready | failed (only the image task moves it);
- `moderation`, the decision: pending -> approved | rejected (the tenant, or the event's auto mode
  when a pending photo finishes processing), changeable later: a rejected photo may be approved
  again and the reverse;
- `is_featured`, set and cleared by the tenant.

Two facts follow from the state alone, and every effect of a transition is their change:
- a photo holds one of its event's package slots unless it failed processing or was rejected, so
  a transition that makes it hold one takes a slot (refused with 403 `photo_limit_exceeded` by the
  guarded UPDATE in storage/photos.py when none is left) and one that ends it frees the slot;
- guests see it (the feed, the gallery, the archive, the media route) while it is approved and
  ready. Entering that set stamps the photo with the event's next feed_version; leaving it, or
  changing while in it (featured or not), bumps feed_version too, in the same transaction, and
  the feed actor is told after the commit (`tell_feed`).

Refused: approving or featuring a photo that failed processing (409 `photo_failed`). A decision
the photo already carries changes nothing; so does a processing outcome for a photo that is not
pending any more (another run of the task got there first).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

import asyncpg

from domain import notifications
from domain.errors import Conflict, NotFound
from storage import photos as photos_sql


class PhotoStatus(StrEnum):
    PENDING = "pending"  # received, not processed yet
    READY = "ready"
    FAILED = "failed"


class Moderation(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class EventModeration(StrEnum):
    """`events.moderation`: auto approves a pending photo when it finishes processing."""

    AUTO = "auto"
    MANUAL = "manual"


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    FEATURE = "feature"
    UNFEATURE = "unfeature"
    PROCESSED = "processed"
    PROCESSING_FAILED = "processing_failed"


class FeedChange(StrEnum):
    """What the event's feed actor is told after the commit (actors/event_feed_client.py)."""

    ADDED = "added"
    REMOVED = "removed"
    UPDATED = "updated"


def photo_failed() -> Conflict:
    return Conflict("This photo could not be processed.", code="photo_failed")


@dataclass(frozen=True, slots=True)
class PhotoState:
    status: PhotoStatus
    moderation: Moderation
    featured: bool = False

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> PhotoState:
        """The state of a photos row (the table's check constraints hold only these values)."""
        return cls(PhotoStatus(row["status"]), Moderation(row["moderation"]), bool(row["is_featured"]))

    @property
    def in_feed(self) -> bool:
        """Guests see it: approved by the tenant (or auto moderation) and processed."""
        return self.moderation is Moderation.APPROVED and self.status is PhotoStatus.READY

    @property
    def holds_slot(self) -> bool:
        return self.status is not PhotoStatus.FAILED and self.moderation is not Moderation.REJECTED


@dataclass(frozen=True, slots=True)
class Transition:
    """One action on one photo: the state before and after, and the effects both imply."""

    action: Action
    before: PhotoState
    after: PhotoState

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def takes_slot(self) -> bool:
        return self.after.holds_slot and not self.before.holds_slot

    @property
    def releases_slot(self) -> bool:
        return self.before.holds_slot and not self.after.holds_slot

    @property
    def feed(self) -> FeedChange | None:
        """How the guests' view changes; each change bumps the event's feed_version."""
        if self.after.in_feed and not self.before.in_feed:
            return FeedChange.ADDED
        if self.before.in_feed and not self.after.in_feed:
            return FeedChange.REMOVED
        if self.before.in_feed and self.changed:
            return FeedChange.UPDATED
        return None


def transition(
    state: PhotoState, action: Action, *, event_moderation: EventModeration = EventModeration.MANUAL
) -> Transition:
    """The photo's next state under `action`; raises `photo_failed` for what a failed photo
    refuses. `event_moderation` matters only to PROCESSED (auto approves a pending decision)."""
    after = state
    if action in (Action.APPROVE, Action.FEATURE, Action.UNFEATURE) and state.status is PhotoStatus.FAILED:
        raise photo_failed()
    if action is Action.APPROVE:
        after = replace(state, moderation=Moderation.APPROVED)
    elif action is Action.REJECT:
        after = replace(state, moderation=Moderation.REJECTED)
    elif action in (Action.FEATURE, Action.UNFEATURE):
        after = replace(state, featured=action is Action.FEATURE)
    elif state.status is not PhotoStatus.PENDING:
        pass  # a processing outcome for a photo already processed: another run won
    elif action is Action.PROCESSED:
        moderation = state.moderation
        if moderation is Moderation.PENDING and event_moderation is EventModeration.AUTO:
            moderation = Moderation.APPROVED
        after = PhotoState(PhotoStatus.READY, moderation, state.featured)
    elif action is Action.PROCESSING_FAILED:
        after = replace(state, status=PhotoStatus.FAILED)
    return Transition(action, state, after)


# -- the service ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcessedMedia:
    """What the image task stored for a photo: the variants' media keys and the original's size."""

    original_key: str
    web_key: str
    thumb_key: str
    content_type: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Applied:
    """A committed transition: the photo row as it now is, and the event's feed_version the
    transition bumped to (None when the guests' view did not change)."""

    photo: asyncpg.Record
    transition: Transition
    feed_version: int | None = None

    @property
    def changed(self) -> bool:
        return self.transition.changed


class FeedListener(Protocol):
    """actors.event_feed_client.FeedNotifier, as far as moderation needs it."""

    async def photo_added(self, event_id: int, photo: Mapping[str, Any], feed_version: int) -> None: ...

    async def photo_updated(self, event_id: int, photo: Mapping[str, Any], feed_version: int) -> None: ...

    async def photo_removed(self, event_id: int, photo_id: int, feed_version: int) -> None: ...


async def tell_feed(feed: FeedListener, applied: Applied) -> None:
    """Tell the event's feed actor what the committed transition changed for guests; call after
    the commit. Failures are raised for the caller to log (the actor reloads on a version gap)."""
    change, version, row = applied.transition.feed, applied.feed_version, applied.photo
    if change is None or version is None:
        return
    if change is FeedChange.ADDED:
        await feed.photo_added(row["event_id"], dict(row), version)
    elif change is FeedChange.UPDATED:
        await feed.photo_updated(row["event_id"], dict(row), version)
    else:
        await feed.photo_removed(row["event_id"], row["id"], version)


class PhotoModeration:
    """Each method locks the photo row, works out the transition from the locked state and writes
    it in one transaction (a savepoint when the caller already holds one). Locks are taken photo
    row first, event row second, as everywhere in storage/photos.py."""

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[asyncpg.Connection]:
        if isinstance(self._db, asyncpg.Pool):
            async with self._db.acquire() as conn, conn.transaction():
                yield conn
        else:  # a connection (or a pool's proxy of one)
            async with self._db.transaction():
                yield self._db

    async def approve(self, tenant_id: int, photo_id: int) -> Applied:
        """Into the feed now if processed, else once it is; a rejected photo takes a slot again."""
        return await self._decide(tenant_id, photo_id, Action.APPROVE)

    async def reject(self, tenant_id: int, photo_id: int) -> Applied:
        """Out of the feed, and its package slot freed."""
        return await self._decide(tenant_id, photo_id, Action.REJECT)

    async def feature(self, tenant_id: int, photo_id: int, featured: bool) -> Applied:
        return await self._decide(tenant_id, photo_id, Action.FEATURE if featured else Action.UNFEATURE)

    async def _decide(self, tenant_id: int, photo_id: int, action: Action) -> Applied:
        """A tenant's decision on one of its photos; 404 for a photo of another tenant."""
        async with self._transaction() as conn:
            photo = await photos_sql.lock_tenant_photo(conn, tenant_id, photo_id)
            if photo is None:
                raise NotFound()
            step = transition(PhotoState.of(photo), action)
            if not step.changed:
                return Applied(photo, step)
            return await _write(conn, photo, step)

    async def processed(self, photo_id: int, media: ProcessedMedia) -> Applied | None:
        """pending -> ready with the stored variants; into the feed when approved (by the tenant
        already, or now by the event's auto moderation). None: the photo is gone."""
        async with self._transaction() as conn:
            photo = await photos_sql.lock_for_outcome(conn, photo_id)
            if photo is None:
                return None
            mode = EventModeration(photo["event_moderation"])
            step = transition(PhotoState.of(photo), Action.PROCESSED, event_moderation=mode)
            if not step.changed:
                return Applied(photo, step)
            row = await photos_sql.mark_ready(conn, photo_id, **asdict(media))
            assert row is not None  # its guard holds: we locked the row and saw it pending
            return await _write(conn, row, step)

    async def processing_failed(self, photo_id: int, reason: str) -> Applied | None:
        """pending -> failed with `reason`, its package slot freed. None: the photo is gone."""
        async with self._transaction() as conn:
            photo = await photos_sql.lock_for_outcome(conn, photo_id)
            if photo is None:
                return None
            step = transition(PhotoState.of(photo), Action.PROCESSING_FAILED)
            if not step.changed:
                return Applied(photo, step)
            row = await photos_sql.mark_failed(conn, photo_id, reason)
            assert row is not None  # its guard holds: we locked the row and saw it pending
            return await _write(conn, row, step)


async def _write(conn: asyncpg.Connection, row: asyncpg.Record, step: Transition) -> Applied:
    """The transition's effects beyond the processing status (written by the caller, first)."""
    event_id = row["event_id"]
    if step.takes_slot:
        limit = await photos_sql.photo_limit(conn, event_id)
        used = await photos_sql.reserve_slot(conn, event_id, limit)
        await notifications.photo_slot_retaken(conn, event_id, used, limit)  # 80 % / 100 % alerts
    if step.releases_slot:
        await photos_sql.release_slot(conn, event_id)
    version: int | None = None
    if step.feed is FeedChange.ADDED:
        row, version = await photos_sql.enter_feed(conn, row)  # approves it and stamps feed_seq
    elif step.after.moderation is not step.before.moderation:
        row = await photos_sql.set_moderation(conn, row["id"], step.after.moderation)
    if step.after.featured != step.before.featured:
        row = await photos_sql.set_featured(conn, row["id"], step.after.featured)
    if step.feed in (FeedChange.REMOVED, FeedChange.UPDATED):
        version = await photos_sql.bump_feed_version(conn, event_id)
    return Applied(row, step, version)
