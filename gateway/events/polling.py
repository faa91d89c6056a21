"""001 guest polling: GET /events/{token}/stats and GET /events/{token}/photos, from the feed
snapshot (gateway/events/feed.py); the hottest paths in the system.

stats  -> {online_guests, tasks_solved, latest_photo_at}; Cache-Control: no-store; ETag (a hash of
          the body); If-None-Match (a list, `*`, weak or strong) -> 304 with no body.
photos -> {data: Photo[] ascending, next_cursor?, cursor, latest_photo_at} for photos newer than
          `since` (an ISO 8601 time, compared with approved_at, or a cursor); at most `limit`
          (1..100, default 50). `next_cursor` is present when more remain; `cursor` always says
          where this answer ends: polling again with since=<cursor> is gap-free, whereas an ISO
          `since` may repeat photos approved within the same second. ETag (feed version and query)
          with If-None-Match, Last-Modified (latest_photo_at) with If-Modified-Since -> 304.
          A `since` older than the feed's in-memory window (the newest 500 photos) is answered
          with one PostgreSQL query, kept with the snapshot so the same question costs one query
          per feed version per gateway.
Both: unknown token, slug or draft -> 404 event_not_found. X-Device-Id is optional; a valid one
records presence (buffered, see feed.py); a malformed one is ignored rather than failing a poll.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from bisect import bisect_right
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp import hdrs, web
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from domain.errors import BadRequest, Invalid, NotFound
from domain.inputs import parse_int, parse_positive_int
from gateway.events.common_schemas import Moment, no_default
from gateway.events.devices import device_id
from gateway.events.feed import EventFeeds, FeedPage, PhotosView, feeds_key
from gateway.events.guest_events import event_not_found
from gateway.events.openapi import GUEST_DEVICE, GUEST_TOKEN
from gateway.events.photo_views import PhotoPublic, photo_public
from gateway.kernel.json_io import dumps
from gateway.kernel.openapi.operation import NO_BODY, documented
from storage import event_feed as feed_sql

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_CURSOR_PREFIX = "seq:"


# -- the answers' schemas -------------------------------------------------------------------------
# Documentation only: the polls answer bytes rendered once per feed version (feed.py's StatsView
# and _build_page below); tests/events/test_poll_schemas.py proves those bytes are these models.


class EventStats(BaseModel):
    """The Home info bar's counters."""

    online_guests: int = Field(ge=0, description="Devices that polled with X-Device-Id in the presence window.")
    tasks_solved: int = Field(ge=0)
    latest_photo_at: Moment | None = Field(description="The newest approval in the feed; null when it is empty.")


class FeedPhotos(BaseModel):
    """Photos approved after `since`, oldest first."""

    data: list[PhotoPublic]
    next_cursor: str | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=no_default,
        description="Present (never null) when more photos remain than `limit` allowed.",
    )
    cursor: str = Field(description="Where this answer ends: poll again with since=<cursor> (gap-free).")
    latest_photo_at: Moment | None


class FeedPhotosQuery(BaseModel):
    since: str | None = Field(
        default=None,
        max_length=64,
        description="An ISO 8601 time (compared with approved_at) or a `cursor` from an earlier answer.",
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


_POLL_ERRORS = (404, 503)  # unknown token, slug or draft; no snapshot yet and the feed unreachable
_DEVICE_NOTE = "X-Device-Id is optional; a valid one counts the device as online, a malformed one is ignored."


# -- conditional requests (RFC 9110 §13.1) --------------------------------------------------------


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"; `*` matches any current one."""
    if header == etag:
        return True
    opaque = etag[2:] if etag.startswith("W/") else etag
    for part in header.split(","):
        tag = part.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == opaque:
            return True
    return False


def not_modified_since(header: str, latest_second: int | None) -> bool:
    if latest_second is None:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False  # an unparseable date is ignored (RFC 9110 §13.1.3)
    if since is None:
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return latest_second <= since.timestamp()


# -- cursors and `since` --------------------------------------------------------------------------


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def _bad_since() -> Invalid:
    return Invalid(
        "The since parameter must be an ISO 8601 time or a cursor from an earlier answer.",
        code="invalid_cursor",
        fields={"since": ["The since must be an ISO 8601 time or a cursor from an earlier answer."]},
    )


def parse_since(raw: str | None) -> int | datetime | None:
    """None (from the start), a feed_seq (a cursor) or an aware datetime (ISO 8601)."""
    if not raw:
        return None
    if len(raw) > 64:
        raise _bad_since()
    if parse_int(raw[:4]) is not None and raw[4:5] == "-":
        # an unencoded '+' of an offset arrives as a space
        try:
            moment = datetime.fromisoformat(raw.replace(" ", "+"))
        except ValueError:
            raise _bad_since() from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        text = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_since() from None
    seq = parse_int(text[len(_CURSOR_PREFIX) :]) if text.startswith(_CURSOR_PREFIX) else None
    if seq is None:
        raise _bad_since()
    return seq


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    value = parse_positive_int(raw)
    if value is None or value > MAX_LIMIT:
        raise Invalid(fields={"limit": [f"The limit must be an integer from 1 to {MAX_LIMIT}."]})
    return value


# -- building an answer ---------------------------------------------------------------------------


def _in_window(view: PhotosView, since: int | datetime | None) -> bool:
    """Whether the in-memory window can answer: nothing older than it may qualify."""
    if view.complete:
        return True
    if not view.photos or since is None:
        return False
    oldest = view.photos[0]
    if isinstance(since, int):
        return since >= oldest["feed_seq"] - 1
    return oldest["approved_at"] is not None and since >= oldest["approved_at"]


def _select(
    view: PhotosView, since: int | datetime | None, limit: int
) -> tuple[list[dict[str, Any]], bool, int | None]:
    """(rendered photos, more remain, feed_seq of the last one) from the window."""
    photos = view.photos
    if since is None:
        start = 0
    elif isinstance(since, int):
        start = bisect_right([p["feed_seq"] for p in photos], since)
    else:
        idx = [i for i, p in enumerate(photos) if p["approved_at"] is not None and p["approved_at"] > since]
        chosen = idx[:limit]
        last = photos[chosen[-1]]["feed_seq"] if chosen else None
        return [view.rendered[i] for i in chosen], len(idx) > limit, last
    chosen_rendered = view.rendered[start : start + limit]
    last = photos[start + len(chosen_rendered) - 1]["feed_seq"] if chosen_rendered else None
    return chosen_rendered, len(photos) - start > limit, last


async def _select_from_database(
    feeds: EventFeeds, key: str, since: int | datetime | None, limit: int
) -> tuple[list[dict[str, Any]], bool, int | None]:
    feeds.fallback_queries += 1
    async with feeds.pool.acquire() as conn:
        rows = await feed_sql.feed_photos_after(
            conn,
            int(key),
            after_time=since if isinstance(since, datetime) else None,
            after_seq=since if isinstance(since, int) else None,
            limit=limit + 1,
        )
    chosen = rows[:limit]
    last_seq = chosen[-1]["feed_seq"] if chosen else None
    return [photo_public(r, feeds.app_url) for r in chosen], len(rows) > limit, last_seq


def _build_page(
    view: PhotosView,
    raw_since: str,
    limit: int,
    since: int | datetime | None,
    data: list[dict[str, Any]],
    more: bool,
    last_seq: int | None,
) -> FeedPage:
    if last_seq is not None:
        cursor = encode_cursor(last_seq)
    elif isinstance(since, int):
        cursor = encode_cursor(since)
    else:  # nothing newer than an ISO time, or an empty feed: resume from the head
        cursor = encode_cursor(view.photos[-1]["feed_seq"] if view.photos else 0)
    body: dict[str, Any] = {"data": data}
    if more:
        assert last_seq is not None  # more implies data
        body["next_cursor"] = encode_cursor(last_seq)
    body["cursor"] = cursor
    body["latest_photo_at"] = view.latest_iso
    etag = f'"p{view.version}-{zlib.crc32(f"{raw_since}|{limit}".encode()):08x}"'
    headers_304 = {"Cache-Control": "no-cache", "ETag": etag}
    if view.last_modified:
        headers_304["Last-Modified"] = view.last_modified
    return FeedPage(dumps(body), etag, {"Content-Type": "application/json", **headers_304}, headers_304)


# -- handlers -------------------------------------------------------------------------------------


def _deleted(feeds: EventFeeds, token: str) -> NotFound:
    """The feed says the event was deleted: drop the cached token (the next poll looks it up,
    finds nothing and caches that) and answer like an unknown token."""
    feeds.tokens.forget(token)
    return event_not_found()


def not_modified(headers: dict[str, str]) -> web.StreamResponse:
    # A bare StreamResponse: a 304 has no body, and Response's body handling is a measurable share
    # of the cheapest answer we give (aiohttp sends neither chunking nor a length for a 304).
    return web.StreamResponse(status=304, headers=headers)


def _note_device(request: web.Request, feeds: EventFeeds, key: str) -> None:
    try:
        device = device_id(request)
    except BadRequest:
        return
    if device:
        feeds.saw(key, device)


@documented(
    "Guest poll: the event's counters",
    response=EventStats,
    also={304: NO_BODY},
    auth=GUEST_DEVICE,
    auth_optional=True,
    errors=_POLL_ERRORS,
    path_params=GUEST_TOKEN,
    headers_in={"If-None-Match": "An ETag of an earlier answer (a list, `*`, weak or strong): 304 while it holds."},
    headers_out={
        "ETag": 'A hash of the body (`"s<hex>"`); also on the 304.',
        "Cache-Control": "`no-store`; also on the 304.",
    },
    description=_DEVICE_NOTE,
)
async def event_stats(request: web.Request) -> web.StreamResponse:
    feeds: EventFeeds = request.app[feeds_key]  # mounted on the root app (routes.py)
    # the sync lookups answer nearly every poll; the awaits only fill a cold cache
    token = request.match_info["token"]
    key = feeds.tokens.cached(token) or await feeds.tokens.feed_key(token)
    headers = request.headers
    if "X-Device-Id" in headers:
        _note_device(request, feeds, key)
    feed = feeds.current(key) or await feeds.view(key)
    if feed.gone:
        raise _deleted(feeds, token)
    stats = feed.stats
    inm = headers.get(hdrs.IF_NONE_MATCH)
    if inm is not None and (inm == stats.etag or etag_matches(inm, stats.etag)):
        return not_modified(stats.headers_304)
    return web.Response(body=stats.body, headers=stats.headers)


@documented(
    "Guest poll: photos since a time or cursor",
    response=FeedPhotos,
    also={304: NO_BODY},
    query=FeedPhotosQuery,
    auth=GUEST_DEVICE,
    auth_optional=True,
    errors=_POLL_ERRORS,
    path_params=GUEST_TOKEN,
    headers_in={
        "If-None-Match": "An ETag of an earlier answer to the same query: 304 while the feed has not moved.",
        "If-Modified-Since": "An HTTP date (ignored when If-None-Match is sent): 304 when no newer photo exists.",
    },
    headers_out={
        "ETag": "The feed version and the query; also on the 304.",
        "Last-Modified": "latest_photo_at as an HTTP date (absent while the feed is empty); also on the 304.",
        "Cache-Control": "`no-cache`; also on the 304.",
    },
    description=_DEVICE_NOTE + " A `since` past the feed's in-memory window costs one database query per feed version.",
)
async def event_photos(request: web.Request) -> web.StreamResponse:
    feeds: EventFeeds = request.app[feeds_key]  # mounted on the root app (routes.py)
    token = request.match_info["token"]
    key = feeds.tokens.cached(token) or await feeds.tokens.feed_key(token)
    query = request.query
    raw_since = query.get("since", "")
    limit = parse_limit(query.get("limit"))
    if "X-Device-Id" in request.headers:
        _note_device(request, feeds, key)
    feed = feeds.current(key) or await feeds.view(key)
    if feed.gone:
        raise _deleted(feeds, token)
    view = feed.photos
    page = view.pages.get((raw_since, limit))
    if page is None:
        since = parse_since(raw_since)
        if _in_window(view, since):
            data, more, last = _select(view, since, limit)
        else:
            data, more, last = await _select_from_database(feeds, key, since, limit)
        page = _build_page(view, raw_since, limit, since, data, more, last)
        view.remember((raw_since, limit), page)
    inm = request.headers.get(hdrs.IF_NONE_MATCH)
    if inm is not None:
        if etag_matches(inm, page.etag):
            return not_modified(page.headers_304)
    else:
        ims = request.headers.get(hdrs.IF_MODIFIED_SINCE)
        if ims is not None and not_modified_since(ims, view.latest_second):
            return not_modified(page.headers_304)
    return web.Response(body=page.body, headers=page.headers)
