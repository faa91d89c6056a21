"""EventFeedState on its own: versions, missed changes, the photo window, presence. No Ray, no SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actors.event_feed import EventFeedState, feed_photo
from domain.errors import NotFound

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
KEY = "42"


def photo(seq: int, *, task: int | None = None, photo_id: int | None = None, featured: bool = False) -> dict:
    return {
        "id": photo_id or 1000 + seq, "event_id": 42, "web_key": f"42/{seq}-ab/web.jpg",
        "thumb_key": f"42/{seq}-ab/thumb.jpg", "width": 64, "height": 48, "task_id": task, "emotion_id": None,
        "is_featured": featured, "created_at": T0, "approved_at": T0 + timedelta(seconds=seq), "feed_seq": seq,
        "status": "ready", "original_key": "not kept",
    }


def loaded(photos: list[dict] | None = None, *, version: int | None = None, total: int | None = None,
           **kwargs) -> EventFeedState:
    photos = photos or []
    state = EventFeedState(**kwargs)
    tasks: dict[int, int] = {}
    for p in photos:
        if p["task_id"] is not None:
            tasks[p["task_id"]] = tasks.get(p["task_id"], 0) + 1
    state.restore(KEY, {
        "version": version if version is not None else (photos[-1]["feed_seq"] if photos else 0),
        "total": total if total is not None else len(photos),
        "task_counts": tasks,
        "latest_photo_at": max((p["approved_at"] for p in photos), default=None),
        "photos": photos,
    })
    return state


def read(state: EventFeedState, now: float = 1000.0, known: int | None = None, window: float = 60.0):
    return state.apply("read", KEY, (now, known, window))


def test_restore_of_nothing_is_an_empty_feed():
    state = EventFeedState()
    state.restore(KEY, None)
    version, value = read(state)
    assert version == 0
    assert value["stats"] == {"online_guests": 0, "tasks_solved": 0, "latest_photo_at": None}
    assert value["photos"] == [] and value["complete"] is True


def test_next_version_applies_and_counts_distinct_tasks():
    state = loaded([photo(1, task=7)])
    assert state.apply("photo_added", KEY, (photo(2, task=7), 2)) == "applied"
    assert state.apply("photo_added", KEY, (photo(3, task=9), 3)) == "applied"
    version, value = read(state)
    assert version == 3
    assert [p["feed_seq"] for p in value["photos"]] == [1, 2, 3]
    assert value["stats"]["tasks_solved"] == 2
    assert value["stats"]["latest_photo_at"] == T0 + timedelta(seconds=3)
    # only the columns the feed renders travel
    assert set(value["photos"][0]) == set(feed_photo(photo(1)))


def test_an_old_or_repeated_version_is_already_known():
    state = loaded([photo(1), photo(2)])
    assert state.apply("photo_added", KEY, (photo(2), 2)) == "known"
    assert state.apply("photo_removed", KEY, (1001, 1)) == "known"
    version, value = read(state)
    assert version == 2 and len(value["photos"]) == 2


def test_a_gap_marks_the_feed_stale_until_reloaded():
    state = loaded([photo(1)])
    assert state.apply("photo_added", KEY, (photo(3), 3)) == "stale"
    assert not state.loaded(KEY)
    # later ops of the same batch do not pile onto stale data
    assert state.apply("photo_added", KEY, (photo(4), 4)) == "stale"
    state.apply("seen", KEY, (["device-aaaa"], 1000.0))
    state.restore(KEY, {"version": 4, "total": 3, "task_counts": {}, "latest_photo_at": T0,
                        "photos": [photo(1), photo(3), photo(4)]})
    assert state.loaded(KEY)
    version, value = read(state)
    assert version == 4 and [p["feed_seq"] for p in value["photos"]] == [1, 3, 4]
    assert value["stats"]["online_guests"] == 1  # presence survived the reload


def test_read_ships_photos_only_when_the_caller_lacks_this_version():
    state = loaded([photo(1)])
    version, value = read(state, known=None)
    assert value["photos"] is not None
    _, value = read(state, known=version)
    assert value["photos"] is None
    state.apply("photo_added", KEY, (photo(2), 2))
    _, value = read(state, known=version)
    assert [p["feed_seq"] for p in value["photos"]] == [1, 2]


def test_window_keeps_the_newest_and_reports_incomplete():
    state = loaded([photo(i) for i in range(1, 4)], max_photos=3)
    state.apply("photo_added", KEY, (photo(4, task=5), 4))
    _, value = read(state)
    assert [p["feed_seq"] for p in value["photos"]] == [2, 3, 4]
    assert value["complete"] is False
    assert value["stats"]["tasks_solved"] == 1


def test_removing_a_photo_outside_an_incomplete_window_reloads():
    state = loaded([photo(i) for i in range(3, 6)], total=5, max_photos=3)
    assert state.apply("photo_removed", KEY, (1001, 6)) == "stale"
    assert not state.loaded(KEY)


def test_removing_the_newest_photo_moves_latest_and_task_counts():
    state = loaded([photo(1, task=7), photo(2, task=8)])
    assert state.apply("photo_removed", KEY, (1002, 3)) == "applied"
    version, value = read(state)
    assert version == 3
    assert value["stats"] == {"online_guests": 0, "tasks_solved": 1, "latest_photo_at": T0 + timedelta(seconds=1)}
    state.apply("photo_removed", KEY, (1001, 4))
    _, value = read(state)
    assert value["stats"]["latest_photo_at"] is None and value["stats"]["tasks_solved"] == 0


def test_update_replaces_in_place_and_bumps_the_version():
    state = loaded([photo(1, task=7), photo(2)])
    assert state.apply("photo_updated", KEY, (photo(1, task=7, featured=True), 3)) == "applied"
    version, value = read(state)
    assert version == 3
    assert [p["is_featured"] for p in value["photos"]] == [True, False]
    assert value["stats"]["tasks_solved"] == 1


def test_the_same_photo_twice_is_kept_once():
    state = loaded([photo(1)])
    state.apply("photo_added", KEY, (photo(2, photo_id=1001), 2))
    _, value = read(state)
    assert [p["id"] for p in value["photos"]] == [1001]


def test_presence_counts_devices_seen_within_the_window():
    state = loaded()
    state.apply("seen", KEY, (["device-aaaa", "device-bbbb"], 1000.0))
    state.apply("seen", KEY, (["device-aaaa", "device-cccc"], 1030.0))
    assert read(state, now=1031.0)[1]["stats"]["online_guests"] == 3
    # device-bbbb was last seen at 1000: gone once 60 s have passed
    assert read(state, now=1061.0)[1]["stats"]["online_guests"] == 2
    assert read(state, now=1100.0)[1]["stats"]["online_guests"] == 0


def test_idle_feeds_are_evicted_at_the_end_of_a_batch():
    clock = [0.0]
    state = EventFeedState(clock=lambda: clock[0], idle_evict_s=10, max_feeds=2)
    for key in ("1", "2", "3"):
        state.restore(key, None)
    assert state.take_writes() == []
    assert state.keys() == ["2", "3"]  # over max_feeds: the least recently touched goes
    clock[0] = 5.0
    state.apply("read", "2", (0.0,))
    clock[0] = 12.0
    state.take_writes()
    assert state.keys() == ["2"]


def test_unknown_method_fails_only_that_op():
    state = loaded()
    with pytest.raises(NotFound):
        state.apply("explode", KEY, ())


def test_removed_or_missing_events_read_as_gone():
    state = EventFeedState()
    state.restore("1", {"version": 2, "photos": [], "total": 0, "task_counts": {}, "latest_photo_at": None})
    assert state.apply("read", "1", (0.0,))[1]["gone"] is False
    assert state.apply("event_removed", "1", ()) == "applied"
    version, value = state.apply("read", "1", (0.0,))
    assert value["gone"] is True and value["photos"] == [] and value["stats"]["tasks_solved"] == 0
    state.restore("2", None)  # PostgreSQL had no such event
    assert state.apply("read", "2", (0.0,))[1]["gone"] is True
