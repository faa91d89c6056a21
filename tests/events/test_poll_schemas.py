"""The guest polls answer bytes rendered once per feed version (feed.py's StatsView, polling.py's
pages from photo_public dicts), not through their response models: these tests hold those bytes
to the models and to 001's OpenAPI document, so the fast path cannot drift from its schema."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta

import pytest

from gateway.events.common_schemas import dump
from gateway.events.feed import PhotosView, StatsView
from gateway.events.photo_views import PhotoPublic, photo_public
from gateway.events.photos import PhotoListQuery
from gateway.events.polling import EventStats, FeedPhotos, _build_page, _select, parse_since
from storage import photos as photos_sql
from tests.contract_validation import ContractIndex

APP_URL = "https://roost.example"
T0 = datetime(2025, 11, 28, 12, 0, 0, 654321, tzinfo=UTC)


@pytest.fixture(scope="module")
def index(settings) -> ContractIndex:
    from gateway.app import build_documents

    return ContractIndex(build_documents(settings))


def feed_row(seq: int, **changes) -> dict:
    """A photo as storage/event_feed.py hands it to the feed."""
    row = {
        "id": 100 + seq,
        "event_id": 7,
        "feed_seq": seq,
        "web_key": f"7/{100 + seq}-0123456789abcdef/web.jpg",
        "thumb_key": f"7/{100 + seq}-0123456789abcdef/thumb.jpg",
        "width": 1600,
        "height": 1200,
        "task_id": None if seq % 2 else 3,
        "emotion_id": 2,
        "is_featured": seq == 2,
        "created_at": T0,
        "approved_at": T0 + timedelta(seconds=seq),
    }
    return {**row, **changes}


@pytest.mark.parametrize(
    ("online", "tasks", "latest"), [(0, 0, None), (3, 12, T0), (10**6, 1, datetime(1999, 1, 1, tzinfo=UTC))]
)
def test_stats_bytes_are_an_event_stats(index, online, tasks, latest):
    view = StatsView.build(online, tasks, latest)
    parsed = EventStats.model_validate_json(view.body)
    assert (parsed.online_guests, parsed.tasks_solved) == (online, tasks)
    assert index.problems("GET", "/api/v1/events/some-guest-token-1234/stats", 200, "application/json", view.body) == []


def test_feed_photo_dicts_render_as_the_model():
    for row in (feed_row(1), feed_row(2), feed_row(3, web_key=None, thumb_key=None, width=None, height=None)):
        assert photo_public(row, APP_URL) == dump(PhotoPublic.from_row(row, APP_URL))


@pytest.mark.parametrize(
    ("raw_since", "limit"), [("", 50), ("", 2), ("2025-11-28T12:00:02Z", 1), ("2030-01-01T00:00:00Z", 5)]
)
def test_photo_page_bytes_are_feed_photos(index, raw_since, limit):
    rows = [feed_row(seq) for seq in range(1, 6)]
    view = PhotosView.build(9, rows, True, rows[-1]["approved_at"], APP_URL)
    since = parse_since(raw_since)
    data, more, last = _select(view, since, limit)
    page = _build_page(view, raw_since, limit, since, data, more, last)

    parsed = FeedPhotos.model_validate_json(page.body)
    assert ("next_cursor" in parsed.model_fields_set) is more  # present only when more remain, never null
    path = "/api/v1/events/some-guest-token-1234/photos"
    assert index.problems("GET", path, 200, "application/json", page.body) == []


def test_empty_feed_page_is_feed_photos(index):
    view = PhotosView.build(0, [], True, None, APP_URL)
    page = _build_page(view, "", 50, None, [], False, None)
    parsed = FeedPhotos.model_validate_json(page.body)
    assert parsed.data == [] and parsed.latest_photo_at is None
    path = "/api/v1/events/some-guest-token-1234/photos"
    assert index.problems("GET", path, 200, "application/json", page.body) == []


def test_a_wrong_poll_body_is_caught(index):
    """The check above can fail: a null next_cursor is not the document's shape."""
    body = b'{"data": [], "next_cursor": null, "cursor": "c2VxOjA", "latest_photo_at": null}'
    assert index.problems("GET", "/api/v1/events/some-guest-token-1234/photos", 200, "application/json", body)


def test_photo_list_filters_are_storage_filters():
    statuses, _none = typing.get_args(PhotoListQuery.model_fields["status"].annotation)
    assert set(typing.get_args(statuses)) == set(photos_sql.STATUS_FILTERS)
