"""001 guest polling: GET /events/{token}/stats and /photos, served from the feed snapshot, with
real PostgreSQL, Ray shard actors and the FeedNotifier the moderation code calls."""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from email.utils import formatdate

import pytest

from actors.client import kill_shard
from actors.event_feed_client import FeedNotifier
from gateway.events.feed import feeds_key
from gateway.events.photo_views import photo_public
from gateway.kernel.keys import actors_key, pool_key, settings_key
from gateway.kernel.timeutil import iso_z
from tests.event_builders import make_event, make_photo, make_tenant
from tests.waiting import eventually

DEVICE = {"X-Device-Id": "device-poll-0001"}


@pytest.fixture
async def fast(aiohttp_client, settings, ray_session):
    """The whole app with a 0.1 s snapshot interval and presence flush, so tests need not wait."""
    from gateway.app import create_app

    quick = settings.model_copy(update={"snapshot_interval_s": 0.1, "event_feed_presence_flush_s": 0.1})
    return await aiohttp_client(create_app(quick))


@pytest.fixture
def notifier(settings) -> FeedNotifier:
    return FeedNotifier(namespace=settings.roost_ray_namespace, shards=settings.roost_shards)


async def approve(app, notifier: FeedNotifier, event, **kwargs):
    """An approved, processed photo, announced to the feed right after its commit (as moderation does)."""
    row = await make_photo(app, event, **kwargs)
    await notifier.photo_added(event["id"], row, row["feed_seq"])
    return row


def stats_url(event) -> str:
    return f"/api/v1/events/{event['guest_token']}/stats"


def photos_url(event, **query) -> str:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/v1/events/{event['guest_token']}/photos" + (f"?{qs}" if qs else "")


def cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


async def published_event(app, **kwargs):
    tenant = await make_tenant(app)
    return await make_event(app, tenant["id"], **kwargs)


# -- stats ----------------------------------------------------------------------------------------


async def test_stats_body_headers_and_304(fast, notifier):
    app = fast.app
    event = await published_event(app)
    await approve(app, notifier, event, task_id=1)
    await approve(app, notifier, event, task_id=1)
    last = await approve(app, notifier, event, task_id=2)
    resp = await fast.get(stats_url(event))
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Content-Type"].startswith("application/json")
    etag = resp.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    body = await resp.json()
    assert body == {"online_guests": 0, "tasks_solved": 2, "latest_photo_at": iso_z(last["approved_at"])}

    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = await fast.get(stats_url(event), headers={"If-None-Match": header})
        assert again.status == 304, header
        assert await again.read() == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "no-store"
        # no body on the wire: neither chunked framing nor a length
        assert "Transfer-Encoding" not in again.headers and "Content-Length" not in again.headers
    other = await fast.get(stats_url(event), headers={"If-None-Match": '"something-else"'})
    assert other.status == 200 and await other.json() == body


async def test_empty_event_has_null_latest_photo_at(fast):
    event = await published_event(fast.app)
    resp = await fast.get(stats_url(event))
    assert resp.status == 200
    assert await resp.json() == {"online_guests": 0, "tasks_solved": 0, "latest_photo_at": None}


async def test_archived_event_still_answers(fast, notifier):
    event = await published_event(fast.app, status="archived")
    await approve(fast.app, notifier, event)
    resp = await fast.get(stats_url(event))
    assert resp.status == 200 and (await resp.json())["latest_photo_at"] is not None
    photos = await fast.get(photos_url(event))
    assert photos.status == 200 and len((await photos.json())["data"]) == 1


@pytest.mark.parametrize("path", ["stats", "photos"])
async def test_unknown_token_slug_and_draft_are_404_in_the_envelope(fast, path):
    app = fast.app
    draft = await published_event(app, status="draft")
    published = await published_event(app)
    for token in ("x" * 32, draft["slug"], published["slug"], "short", "bad token with spaces!"):
        resp = await fast.get(f"/api/v1/events/{token}/{path}")
        assert resp.status == 404, token
        err = (await resp.json())["error"]
        assert err["code"] == "event_not_found"
        assert set(err) == {"code", "title", "message", "meta"}
    german = await fast.get(f"/api/v1/events/{'y' * 32}/{path}", headers={"Accept-Language": "de-DE,de;q=0.9"})
    err = (await german.json())["error"]
    assert german.status == 404 and err["title"] == "Event nicht gefunden"
    assert german.headers["Content-Language"] == "de"


async def test_new_approved_photo_changes_the_etag_within_about_a_second(client, notifier):
    """The default 1 s snapshot interval: visible within about a second of the notification."""
    event = await published_event(client.app)
    await approve(client.app, notifier, event)
    first = await client.get(stats_url(event))
    etag = first.headers["ETag"]
    assert (await client.get(stats_url(event), headers={"If-None-Match": etag})).status == 304
    row = await approve(client.app, notifier, event, task_id=3)

    async def changed() -> bool:
        resp = await client.get(stats_url(event), headers={"If-None-Match": etag})
        return resp.status == 200 and (await resp.json())["tasks_solved"] == 1

    await eventually(changed, timeout=1.6)
    feed = await (await client.get(photos_url(event))).json()
    assert [p["id"] for p in feed["data"]][-1] == row["id"]


async def test_presence_counts_distinct_devices_across_polls(fast):
    event = await published_event(fast.app)
    feeds = fast.app[feeds_key]
    before = feeds.client.stats.actor_calls
    for i in range(30):
        device = f"device-presence-{i % 3:04d}"
        await fast.get(stats_url(event), headers={"X-Device-Id": device})
    # a malformed id is ignored, not counted and not an error
    assert (await fast.get(stats_url(event), headers={"X-Device-Id": "no"})).status == 200

    async def three_online() -> bool:
        return (await (await fast.get(stats_url(event))).json())["online_guests"] == 3

    await eventually(three_online)
    # 31 polls, a few flushes and refreshes: nowhere near one actor call per poll
    assert feeds.client.stats.actor_calls - before < 31


async def test_presence_changes_the_etag(fast):
    event = await published_event(fast.app)
    etag = (await fast.get(stats_url(event))).headers["ETag"]
    await fast.get(stats_url(event), headers=DEVICE)

    async def counted() -> bool:
        resp = await fast.get(stats_url(event), headers={"If-None-Match": etag})
        return resp.status == 200 and (await resp.json())["online_guests"] == 1

    await eventually(counted)


# -- photos ---------------------------------------------------------------------------------------


async def test_photos_ascending_with_cursors_and_limit(fast, notifier):
    app = fast.app
    event = await published_event(app)
    rows = [await approve(app, notifier, event) for _ in range(5)]
    await make_photo(app, event, approved=False)  # pending: never in the feed
    app_url = app[settings_key].app_url

    resp = await fast.get(photos_url(event, limit=2))
    assert resp.status == 200
    body = await resp.json()
    assert body["data"] == [photo_public(r, app_url) for r in rows[:2]]
    assert body["next_cursor"] == cursor(rows[1]["feed_seq"])
    assert body["latest_photo_at"].endswith("Z")
    assert resp.headers["Last-Modified"] == formatdate(int(rows[-1]["approved_at"].timestamp()), usegmt=True)

    nxt = await (await fast.get(photos_url(event, limit=2, since=body["next_cursor"]))).json()
    assert [p["id"] for p in nxt["data"]] == [r["id"] for r in rows[2:4]]
    tail = await (await fast.get(photos_url(event, limit=2, since=nxt["next_cursor"]))).json()
    assert [p["id"] for p in tail["data"]] == [rows[4]["id"]]
    assert "next_cursor" not in tail
    assert tail["cursor"] == cursor(rows[4]["feed_seq"])
    empty = await (await fast.get(photos_url(event, since=tail["cursor"]))).json()
    assert empty["data"] == [] and empty["cursor"] == tail["cursor"]

    # ISO 8601 since: photos approved after that moment
    moment = (rows[2]["approved_at"] - timedelta(microseconds=1)).isoformat()
    by_time = await (await fast.get(photos_url(event, since=moment.replace("+", "%2B")))).json()
    assert [p["id"] for p in by_time["data"]] == [r["id"] for r in rows[2:]]
    zulu = await fast.get(photos_url(event, since="2000-01-01T00:00:00Z"))
    assert len((await zulu.json())["data"]) == 5


async def test_photos_conditional_requests(fast, notifier):
    app = fast.app
    event = await published_event(app)
    await approve(app, notifier, event)
    resp = await fast.get(photos_url(event))
    etag, modified = resp.headers["ETag"], resp.headers["Last-Modified"]
    not_modified = await fast.get(photos_url(event), headers={"If-None-Match": etag})
    assert not_modified.status == 304 and await not_modified.read() == b""
    assert not_modified.headers["ETag"] == etag
    assert (await fast.get(photos_url(event), headers={"If-Modified-Since": modified})).status == 304
    older = formatdate(time.time() - 3600, usegmt=True)
    assert (await fast.get(photos_url(event), headers={"If-Modified-Since": older})).status == 200
    assert (await fast.get(photos_url(event), headers={"If-Modified-Since": "not a date"})).status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    both = await fast.get(photos_url(event), headers={"If-None-Match": '"x"', "If-Modified-Since": modified})
    assert both.status == 200
    # another query is another representation: the ETag of one is no 304 for the other
    assert (await fast.get(photos_url(event, limit=1), headers={"If-None-Match": etag})).status == 200

    await approve(app, notifier, event)

    async def changed() -> bool:
        again = await fast.get(photos_url(event), headers={"If-None-Match": etag})
        return again.status == 200 and len((await again.json())["data"]) == 2

    await eventually(changed)


GERMAN_TITLES = {"invalid_cursor": "Ungültiger Cursor", "validation_failed": "Validierung fehlgeschlagen"}


@pytest.mark.parametrize(
    "query, field, code",
    [
        ({"since": "not-a-cursor!"}, "since", "invalid_cursor"),
        ({"since": "2026-13-45T99:00:00Z"}, "since", "invalid_cursor"),
        ({"since": base64.urlsafe_b64encode(b"seq:abc").decode()}, "since", "invalid_cursor"),
        ({"limit": "101"}, "limit", "validation_failed"),
        ({"limit": "0"}, "limit", "validation_failed"),
        ({"limit": "ten"}, "limit", "validation_failed"),
    ],
)
async def test_bad_query_is_422_in_the_envelope(fast, query, field, code):
    event = await published_event(fast.app)
    resp = await fast.get(photos_url(event, **query))
    assert resp.status == 422
    err = (await resp.json())["error"]
    assert err["code"] == code
    assert field in err["meta"]["fields"]
    german = await fast.get(photos_url(event, **query), headers={"Accept-Language": "de"})
    assert (await german.json())["error"]["title"] == GERMAN_TITLES[code]


async def test_rejected_photo_leaves_the_feed(fast, notifier):
    app = fast.app
    event = await published_event(app)
    keep = await approve(app, notifier, event, task_id=1)
    gone = await approve(app, notifier, event, task_id=2)
    pool = app[pool_key]
    version = await pool.fetchval(
        "update events set feed_version = feed_version + 1 where id = $1 returning feed_version", event["id"]
    )
    await pool.execute("update photos set moderation = 'rejected', feed_seq = null where id = $1", gone["id"])
    await notifier.photo_removed(event["id"], gone["id"], version)

    async def removed() -> bool:
        body = await (await fast.get(photos_url(event))).json()
        stats = await (await fast.get(stats_url(event))).json()
        return [p["id"] for p in body["data"]] == [keep["id"]] and stats["tasks_solved"] == 1

    await eventually(removed)


async def test_a_missed_notification_reloads_from_postgres(fast, notifier):
    app = fast.app
    event = await published_event(app)
    await approve(app, notifier, event)
    await fast.get(stats_url(event))  # the feed is in memory now
    silent = await make_photo(app, event)  # committed, never announced
    announced = await approve(app, notifier, event)  # its version skips one: the feed reloads

    async def both() -> bool:
        body = await (await fast.get(photos_url(event))).json()
        return {silent["id"], announced["id"]} <= {p["id"] for p in body["data"]}

    await eventually(both)


async def test_killed_actor_rebuilds_the_feed_from_postgres(fast, notifier):
    app = fast.app
    event = await published_event(app)
    rows = [await approve(app, notifier, event, task_id=t) for t in (1, 2)]
    assert len((await (await fast.get(photos_url(event))).json())["data"]) == 2
    client = app[actors_key]["event_feed"]
    shard = client.shard_for(str(event["id"]))
    old_pid = (await client.shard_stats())[shard]["pid"]
    kill_shard(client, shard, restart=True)
    late = await make_photo(app, event, task_id=3)  # committed while the actor was down

    async def rebuilt() -> bool:
        try:
            body = await (await fast.get(photos_url(event))).json()
            stats = await (await fast.get(stats_url(event))).json()
        except Exception:
            return False
        return [p["id"] for p in body.get("data", [])] == [rows[0]["id"], rows[1]["id"], late["id"]] and (
            stats.get("tasks_solved") == 3
        )

    await eventually(rebuilt, timeout=30)
    assert (await client.shard_stats())[shard]["pid"] != old_pid


async def test_since_older_than_the_window_falls_back_to_one_query(fast):
    app = fast.app
    event = await published_event(app)
    n = 520  # more than the feed keeps in memory (500)
    async with app[pool_key].acquire() as conn, conn.transaction():
        await conn.execute(
            """insert into photos (event_id, tenant_id, status, moderation, web_key, thumb_key, original_key,
                                   content_type, width, height, feed_seq, approved_at)
               select $1, $2, 'ready', 'approved', $4 || '/' || g || '-ab/web.jpg',
                      $4 || '/' || g || '-ab/thumb.jpg', $4 || '/' || g || '-ab/original.jpg',
                      'image/jpeg', 64, 48, g, now() - interval '1 hour' + g * interval '1 second'
               from generate_series(1, $3) g""",
            event["id"], event["tenant_id"], n, str(event["id"]),
        )
        await conn.execute("update events set feed_version = $2, photo_count = $3 where id = $1", event["id"], n, n)
    feeds = app[feeds_key]
    recent = await (await fast.get(photos_url(event, since=cursor(n - 10)))).json()
    assert len(recent["data"]) == 10
    before = feeds.fallback_queries
    first = await (await fast.get(photos_url(event, limit=3))).json()
    assert [p["id"] for p in first["data"]] == sorted(p["id"] for p in first["data"])
    assert first["next_cursor"] == cursor(3)
    assert feeds.fallback_queries == before + 1
    await fast.get(photos_url(event, limit=3))  # the same question at the same version: kept
    assert feeds.fallback_queries == before + 1
    middle = await (await fast.get(photos_url(event, since=cursor(10), limit=2))).json()
    assert middle["next_cursor"] == cursor(12)


# -- the acceptance test: polls answered from the snapshot --------------------------------------


async def test_polls_from_the_snapshot_make_no_query_and_no_actor_call(aiohttp_client, settings, ray_session,
                                                                         notifier):
    from gateway.app import create_app

    quiet = settings.model_copy(update={
        # nothing refreshes or flushes on a timer during the measurement
        "snapshot_interval_s": 3600.0, "event_feed_presence_flush_s": 3600.0,
        "runtime_settings_poll_s": 3600.0, "job_sweep_interval_s": 3600.0,
        # every connection exists up front, so a logger on each sees every query
        "db_pool_min": 3, "db_pool_max": 3,
    })
    http = await aiohttp_client(create_app(quiet))
    app = http.app
    event = await published_event(app)
    await approve(app, notifier, event)
    queries: list[str] = []
    pool = app[pool_key]
    held = [await pool.acquire() for _ in range(3)]
    for conn in held:
        conn.add_query_logger(lambda record: queries.append(record.query))
    for conn in held:
        await pool.release(conn)

    # warm-up: the token lookup and the first snapshot (a query and an actor call, as designed)
    assert (await http.get(stats_url(event), headers=DEVICE)).status == 200
    assert (await http.get(photos_url(event))).status == 200
    assert any("guest_token" in q for q in queries), "the query logger must see the gateway's queries"
    client = app[actors_key]["event_feed"]
    shard = client.shard_for(str(event["id"]))
    calls, ops = client.stats.actor_calls, client.stats.ops
    batches = (await client.shard_stats())[shard]["batches"]
    queries.clear()

    etag = (await http.get(stats_url(event))).headers["ETag"]
    statuses = []
    for i in range(100):
        headers = {"X-Device-Id": f"device-quiet-{i:04d}"}
        if i % 2:
            headers["If-None-Match"] = etag
        statuses.append((await http.get(stats_url(event), headers=headers)).status)
        statuses.append((await http.get(photos_url(event), headers=headers)).status)
    assert set(statuses) == {200, 304}
    assert queries == []
    assert (client.stats.actor_calls, client.stats.ops) == (calls, ops)
    assert (await client.shard_stats())[shard]["batches"] == batches


async def test_notifier_without_a_shard_actor_is_a_no_op(settings, ray_session):
    lonely = FeedNotifier(namespace="roost-test-no-such-namespace", shards=2)
    await lonely.photo_removed(1, 1, 2)
    assert lonely.calls == 0


async def test_a_deleted_events_polls_turn_404_within_a_snapshot_interval(fast, notifier):
    from tests.builders import bearer
    from tests.event_builders import make_tenant_admin

    tenant = await make_tenant(fast.app)
    event = await make_event(fast.app, tenant["id"])
    _, admin = await make_tenant_admin(fast.app, tenant["id"])
    await approve(fast.app, notifier, event)
    assert (await fast.get(stats_url(event))).status == 200  # the token and the snapshot are cached
    assert (await fast.delete(f"/api/v1/tenant/events/{event['id']}", headers=bearer(admin))).status == 204

    async def gone() -> bool:
        stats, photos = await fast.get(stats_url(event)), await fast.get(photos_url(event))
        return stats.status == photos.status == 404

    # the token cache alone would keep answering for EVENT_FEED_TOKEN_TTL_S (30 s)
    await eventually(gone, timeout=3.0)
    body = await (await fast.get(stats_url(event))).json()
    assert body["error"]["code"] == "event_not_found"
