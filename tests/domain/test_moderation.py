"""Photo moderation's transitions, without a database: every action from every state, with the
effects each implies (package slots, the feed, feed_version bumps) and the refusals.

The routes and the image task apply these through PhotoModeration; tests/events/test_moderation.py
and tests/events/test_photos.py check the committed rows."""

from __future__ import annotations

import itertools

import pytest

from domain.errors import Conflict
from domain.moderation import (
    Action,
    EventModeration,
    FeedChange,
    Moderation,
    PhotoState,
    PhotoStatus,
    transition,
)

PENDING, READY, FAILED = PhotoStatus.PENDING, PhotoStatus.READY, PhotoStatus.FAILED
WAITING, APPROVED, REJECTED = Moderation.PENDING, Moderation.APPROVED, Moderation.REJECTED
AUTO, MANUAL = EventModeration.AUTO, EventModeration.MANUAL

EVERY_STATE = [
    PhotoState(status, moderation, featured)
    for status, moderation, featured in itertools.product(PhotoStatus, Moderation, (False, True))
]


def _effects(state: PhotoState, action: Action, **kwargs) -> tuple[PhotoState, bool, bool, FeedChange | None]:
    step = transition(state, action, **kwargs)
    assert step.before == state and step.action is action
    return step.after, step.takes_slot, step.releases_slot, step.feed


def test_the_enums_spell_the_tables_values():
    # storage/migrations/0008_events.sql's check constraints
    assert [s.value for s in PhotoStatus] == ["pending", "ready", "failed"]
    assert [m.value for m in Moderation] == ["pending", "approved", "rejected"]
    assert [m.value for m in EventModeration] == ["auto", "manual"]


def test_a_state_is_read_from_a_photos_row():
    row = {"status": "ready", "moderation": "rejected", "is_featured": True, "id": 7}
    state = PhotoState.of(row)
    assert state == PhotoState(READY, REJECTED, True)
    assert state.status is READY and state.moderation is REJECTED
    with pytest.raises(ValueError):
        PhotoState.of({**row, "status": "archived"})


@pytest.mark.parametrize(
    "status,moderation,in_feed,holds_slot",
    [
        (PENDING, WAITING, False, True),
        (PENDING, APPROVED, False, True),
        (PENDING, REJECTED, False, False),
        (READY, WAITING, False, True),
        (READY, APPROVED, True, True),
        (READY, REJECTED, False, False),
        (FAILED, WAITING, False, False),
        (FAILED, APPROVED, False, False),
        (FAILED, REJECTED, False, False),
    ],
)
def test_feed_membership_and_slots_follow_from_the_state(status, moderation, in_feed, holds_slot):
    for featured in (False, True):
        state = PhotoState(status, moderation, featured)
        assert (state.in_feed, state.holds_slot) == (in_feed, holds_slot)


# -- approve ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "before,after,takes_slot,feed",
    [
        # processed and waiting: into the feed now
        (PhotoState(READY, WAITING), PhotoState(READY, APPROVED), False, FeedChange.ADDED),
        # still processing: approved now, into the feed when processed
        (PhotoState(PENDING, WAITING), PhotoState(PENDING, APPROVED), False, None),
        # rejection freed its slot: approving takes one again (the guarded UPDATE may refuse)
        (PhotoState(READY, REJECTED), PhotoState(READY, APPROVED), True, FeedChange.ADDED),
        (PhotoState(PENDING, REJECTED), PhotoState(PENDING, APPROVED), True, None),
        (PhotoState(READY, REJECTED, True), PhotoState(READY, APPROVED, True), True, FeedChange.ADDED),
    ],
)
def test_approving(before, after, takes_slot, feed):
    assert _effects(before, Action.APPROVE) == (after, takes_slot, False, feed)
    assert transition(before, Action.APPROVE).changed


@pytest.mark.parametrize("status", [PENDING, READY])
def test_approving_an_approved_photo_changes_nothing(status):
    state = PhotoState(status, APPROVED, True)
    step = transition(state, Action.APPROVE)
    assert not step.changed
    assert (step.after, step.takes_slot, step.releases_slot, step.feed) == (state, False, False, None)


@pytest.mark.parametrize("action", [Action.APPROVE, Action.FEATURE, Action.UNFEATURE])
@pytest.mark.parametrize("moderation", list(Moderation))
def test_a_failed_photo_cannot_be_approved_or_featured(action, moderation):
    # whatever its decision: even an approved one (approved while processing, then failed)
    for featured in (False, True):
        with pytest.raises(Conflict) as caught:
            transition(PhotoState(FAILED, moderation, featured), action)
        assert (caught.value.code, caught.value.status) == ("photo_failed", 409)
        assert caught.value.message == "This photo could not be processed."


# -- reject ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "before,after,releases_slot,feed",
    [
        # in the feed: out of it (feed_seq stays, the version is bumped) and its slot freed
        (PhotoState(READY, APPROVED), PhotoState(READY, REJECTED), True, FeedChange.REMOVED),
        (PhotoState(READY, APPROVED, True), PhotoState(READY, REJECTED, True), True, FeedChange.REMOVED),
        # never in the feed: only the slot
        (PhotoState(READY, WAITING), PhotoState(READY, REJECTED), True, None),
        (PhotoState(PENDING, WAITING), PhotoState(PENDING, REJECTED), True, None),
        (PhotoState(PENDING, APPROVED), PhotoState(PENDING, REJECTED), True, None),
        # a failed photo holds no slot: nothing to free, but the decision is recorded
        (PhotoState(FAILED, WAITING), PhotoState(FAILED, REJECTED), False, None),
        (PhotoState(FAILED, APPROVED), PhotoState(FAILED, REJECTED), False, None),
    ],
)
def test_rejecting(before, after, releases_slot, feed):
    assert _effects(before, Action.REJECT) == (after, False, releases_slot, feed)


@pytest.mark.parametrize("status", list(PhotoStatus))
def test_rejecting_a_rejected_photo_changes_nothing(status):
    step = transition(PhotoState(status, REJECTED), Action.REJECT)
    assert not step.changed
    assert (step.takes_slot, step.releases_slot, step.feed) == (False, False, None)


# -- feature ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status,moderation", [(s, m) for s in (PENDING, READY) for m in Moderation])
def test_featuring_bumps_the_feed_only_for_photos_in_it(status, moderation):
    plain, featured = PhotoState(status, moderation), PhotoState(status, moderation, True)
    feed = FeedChange.UPDATED if plain.in_feed else None
    # pending, waiting and rejected photos may be featured too: it shows once they are in the feed
    assert _effects(plain, Action.FEATURE) == (featured, False, False, feed)
    assert _effects(featured, Action.UNFEATURE) == (plain, False, False, feed)
    for state, action in ((featured, Action.FEATURE), (plain, Action.UNFEATURE)):
        step = transition(state, action)
        assert not step.changed and step.feed is None


# -- the image task's outcomes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "moderation,mode,after,feed",
    [
        (APPROVED, MANUAL, PhotoState(READY, APPROVED), FeedChange.ADDED),  # approved while processing
        (APPROVED, AUTO, PhotoState(READY, APPROVED), FeedChange.ADDED),
        (WAITING, AUTO, PhotoState(READY, APPROVED), FeedChange.ADDED),  # auto moderation approves it
        (WAITING, MANUAL, PhotoState(READY, WAITING), None),  # into the review queue
        (REJECTED, AUTO, PhotoState(READY, REJECTED), None),  # rejected while processing: stays out
        (REJECTED, MANUAL, PhotoState(READY, REJECTED), None),
    ],
)
def test_processing_finished(moderation, mode, after, feed):
    effects = _effects(PhotoState(PENDING, moderation), Action.PROCESSED, event_moderation=mode)
    assert effects == (after, False, False, feed)


def test_processing_keeps_the_featured_flag():
    step = transition(PhotoState(PENDING, APPROVED, True), Action.PROCESSED)
    assert step.after == PhotoState(READY, APPROVED, True) and step.feed is FeedChange.ADDED


@pytest.mark.parametrize(
    "moderation,releases_slot",
    [(WAITING, True), (APPROVED, True), (REJECTED, False)],  # rejection already freed it
)
def test_processing_failed(moderation, releases_slot):
    after = PhotoState(FAILED, moderation)
    assert _effects(PhotoState(PENDING, moderation), Action.PROCESSING_FAILED) == (after, False, releases_slot, None)


@pytest.mark.parametrize("action", [Action.PROCESSED, Action.PROCESSING_FAILED])
@pytest.mark.parametrize("state", [s for s in EVERY_STATE if s.status is not PENDING])
def test_an_outcome_for_a_processed_photo_changes_nothing(action, state):
    """Another run of the task got there first: nothing moves, nothing is freed twice."""
    for mode in EventModeration:
        step = transition(state, action, event_moderation=mode)
        assert not step.changed
        assert (step.after, step.takes_slot, step.releases_slot, step.feed) == (state, False, False, None)


# -- invariants over every state and action --------------------------------------------------------


@pytest.mark.parametrize("state", EVERY_STATE)
@pytest.mark.parametrize("action", list(Action))
def test_effects_are_what_the_state_change_implies(state, action):
    try:
        step = transition(state, action, event_moderation=AUTO)
    except Conflict:
        assert state.status is FAILED and action in (Action.APPROVE, Action.FEATURE, Action.UNFEATURE)
        return
    before, after = step.before, step.after
    assert step.takes_slot == (after.holds_slot and not before.holds_slot)
    assert step.releases_slot == (before.holds_slot and not after.holds_slot)
    assert not (step.takes_slot and step.releases_slot)
    if not step.changed:
        assert step.feed is None
    elif before.in_feed or after.in_feed:
        # every change guests can see is a feed change, and so a feed_version bump
        assert step.feed is not None
    # no action moves a photo back to pending, and the decision never moves to pending
    assert not (after.status is PENDING and before.status is not PENDING)
    assert not (after.moderation is WAITING and before.moderation is not WAITING)
