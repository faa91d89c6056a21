"""001 public gallery: snapshot and branding, the gallery window (410), cursor pages that stay
stable while photos arrive, and the original's download."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from domain import events as rules
from domain.media_store import event_media_store
from gateway.kernel.keys import pool_key, settings_key
from tests.event_builders import assert_error, jpeg_bytes, make_event, make_package, make_photo, make_tenant

DE = {"Accept-Language": "de"}



async def _event(client, *, gallery_days: int = 30, **fields: Any):
    package = await make_package(client.app, gallery_days=gallery_days)
    tenant = await make_tenant(client.app, package=package["slug"], theme={"primary_color": "#123456"})
    return await make_event(client.app, tenant["id"], **fields)


# ---- the expiry rule ----


def test_expiry_counts_from_the_end_or_else_the_publish_time():
    ends, published = datetime(2026, 6, 2, 2, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    assert rules.gallery_expires_at(ends, published, 7) == datetime(2026, 6, 9, 2, tzinfo=UTC)
    assert rules.gallery_expires_at(None, published, 7) == datetime(2026, 5, 8, tzinfo=UTC)
    assert rules.gallery_expires_at(None, None, 7) is None


def test_expiry_boundary_is_inclusive():
    expiry = datetime(2026, 6, 9, 2, tzinfo=UTC)
    assert not rules.gallery_expired(expiry - timedelta(microseconds=1), expiry - timedelta(seconds=1))
    assert not rules.gallery_expired(expiry, expiry)
    assert rules.gallery_expired(expiry, expiry + timedelta(microseconds=1))
    assert not rules.gallery_expired(None, expiry)


# ---- GET /gallery/{token} ----


async def test_gallery_shows_snapshot_branding_and_expiry(client):
    ends = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    event = await _event(client, gallery_days=7, ends_at=ends, description="Thanks for coming")
    resp = await client.get(f"/api/v1/gallery/{event['guest_token']}")
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert data["event"]["id"] == event["id"] and data["event"]["description"] == "Thanks for coming"
    assert "slug" not in data["event"] and "guest_token" not in data["event"]
    assert data["branding"]["primary_color"] == "#123456" and "logo_url" in data["branding"]
    assert data["expires_at"] == (ends + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_gallery_window_boundary_over_http(client):
    now = datetime.now(UTC)
    open_event = await _event(client, gallery_days=7, ends_at=now - timedelta(days=7) + timedelta(minutes=1))
    closed = await _event(client, gallery_days=7, ends_at=now - timedelta(days=7) - timedelta(minutes=1))
    assert (await client.get(f"/api/v1/gallery/{open_event['guest_token']}")).status == 200
    err = await assert_error(await client.get(f"/api/v1/gallery/{closed['guest_token']}"), 410, "gallery_expired")
    assert err["meta"]["expired_at"].endswith("Z") and err["message"] == "This gallery is no longer available."
    resp = await client.get(f"/api/v1/gallery/{closed['guest_token']}", headers=DE)
    err = await assert_error(resp, 410, "gallery_expired")
    assert err["title"] == "Galerie abgelaufen"


async def test_gallery_without_end_counts_from_publishing(client):
    event = await _event(client, gallery_days=3)
    await client.app[pool_key].execute(
        "update events set published_at = now() - interval '4 days' where id = $1", event["id"]
    )
    await assert_error(await client.get(f"/api/v1/gallery/{event['guest_token']}"), 410, "gallery_expired")


async def test_expired_gallery_refuses_photos_and_download(client):
    event = await _event(client, gallery_days=1, ends_at=datetime.now(UTC) - timedelta(days=2))
    photo = await make_photo(client.app, event)
    token = event["guest_token"]
    await assert_error(await client.get(f"/api/v1/gallery/{token}/photos"), 410, "gallery_expired")
    resp = await client.get(f"/api/v1/gallery/{token}/photos/{photo['id']}/download")
    await assert_error(resp, 410, "gallery_expired")


async def test_gallery_is_token_only(client):
    event = await _event(client, slug="garden-party")
    draft = await make_event(client.app, event["tenant_id"], status="draft")
    for token in ("garden-party", str(event["id"]), str(draft["id"]), "unknown-token"):
        for suffix in ("", "/photos", "/photos/1/download"):
            await assert_error(await client.get(f"/api/v1/gallery/{token}{suffix}"), 404, "event_not_found")


async def test_archived_event_keeps_its_gallery(client):
    event = await _event(client, status="archived")
    assert (await client.get(f"/api/v1/gallery/{event['guest_token']}")).status == 200


# ---- GET /gallery/{token}/photos ----


async def _walk(client, token: str, limit: int, between=None) -> list[dict[str, Any]]:
    """Every page from the top; `between()` runs after each page (new photos arriving)."""
    seen: list[dict[str, Any]] = []
    params = {"limit": str(limit)}
    while True:
        resp = await client.get(f"/api/v1/gallery/{token}/photos", params=params)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert set(body) == {"data", "next_cursor"}
        seen.extend(body["data"])
        if between is not None:
            await between()
        if body["next_cursor"] is None:
            return seen
        params = {"limit": str(limit), "cursor": body["next_cursor"]}


async def test_photos_are_approved_ready_only_newest_first(client):
    event = await _event(client)
    approved = [await make_photo(client.app, event) for _ in range(5)]
    await make_photo(client.app, event, approved=False)
    await make_photo(client.app, event, status="pending", approved=True)
    rejected = await make_photo(client.app, event)
    await client.app[pool_key].execute("update photos set moderation = 'rejected' where id = $1", rejected["id"])
    other = await _event(client)
    await make_photo(client.app, other)
    photos = await _walk(client, event["guest_token"], 2)
    assert [p["id"] for p in photos] == [p["id"] for p in reversed(approved)]
    first = photos[0]
    assert first["url"].startswith("http") and "/storage/events/" in first["url"] and first["thumbnail_url"]
    assert "original_url" not in first and "moderation" not in first and "device_id" not in first


async def test_page_shape_and_last_page_cursor(client):
    event = await _event(client)
    for _ in range(3):
        await make_photo(client.app, event)
    token = event["guest_token"]
    body = await (await client.get(f"/api/v1/gallery/{token}/photos", params={"limit": "3"})).json()
    assert len(body["data"]) == 3 and body["next_cursor"] is None
    body = await (await client.get(f"/api/v1/gallery/{token}/photos", params={"limit": "2"})).json()
    assert len(body["data"]) == 2 and isinstance(body["next_cursor"], str)
    empty = await _event(client)
    body = await (await client.get(f"/api/v1/gallery/{empty['guest_token']}/photos")).json()
    assert body == {"data": [], "next_cursor": None}


async def test_limit_outside_1_to_100_is_422(client):
    event = await _event(client)
    for limit in ("0", "101", "abc", "-1", "1.5"):
        resp = await client.get(f"/api/v1/gallery/{event['guest_token']}/photos", params={"limit": limit})
        assert "limit" in (await assert_error(resp, 422, "validation_failed"))["meta"]["fields"]
    resp = await client.get(f"/api/v1/gallery/{event['guest_token']}/photos", params={"limit": "100"})
    assert resp.status == 200


async def test_forged_edited_or_foreign_cursors_are_422(client):
    event, other = await _event(client), await _event(client)
    for _ in range(3):
        await make_photo(client.app, event)
        await make_photo(client.app, other)
    token = event["guest_token"]
    body = await (await client.get(f"/api/v1/gallery/{token}/photos", params={"limit": "1"})).json()
    cursor = body["next_cursor"]
    seq, _, sig = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(".")
    edited = base64.urlsafe_b64encode(f"{int(seq) - 1}.{sig}".encode()).decode().rstrip("=")
    other_resp = await client.get(f"/api/v1/gallery/{other['guest_token']}/photos", params={"limit": "1"})
    other_body = await other_resp.json()
    for bad in (edited, "bm9wZQ", "!!!", "x" * 300, base64.urlsafe_b64encode(b"5").decode(), other_body["next_cursor"]):
        resp = await client.get(f"/api/v1/gallery/{token}/photos", params={"cursor": bad})
        err = await assert_error(resp, 422, "invalid_cursor")
        assert "cursor" in err["meta"]["fields"]
    resp = await client.get(f"/api/v1/gallery/{token}/photos", params={"cursor": "bm9wZQ"}, headers=DE)
    assert (await assert_error(resp, 422, "invalid_cursor"))["title"] == "Ungültiger Cursor"
    assert (await client.get(f"/api/v1/gallery/{token}/photos", params={"cursor": cursor})).status == 200


async def test_pages_stay_stable_while_photos_arrive(client):
    """Photos approved between pages never appear in later pages, and none of the photos that
    existed at the start is skipped or shown twice."""
    event = await _event(client)
    initial = {(await make_photo(client.app, event))["id"] for _ in range(10)}

    async def two_more() -> None:
        await make_photo(client.app, event)
        await make_photo(client.app, event)

    seen = await _walk(client, event["guest_token"], 3, between=two_more)
    ids = [p["id"] for p in seen]
    assert len(ids) == len(set(ids))
    assert set(ids) == initial


async def test_pages_stay_stable_under_concurrent_inserts(client):
    """The same, with inserts racing the walk instead of interleaving with it."""
    event = await _event(client)
    initial = {(await make_photo(client.app, event))["id"] for _ in range(12)}

    async def insert_many() -> None:
        for _ in range(12):
            await make_photo(client.app, event)
            await asyncio.sleep(0)

    seen, _ = await asyncio.gather(_walk(client, event["guest_token"], 2), insert_many())
    ids = [p["id"] for p in seen]
    assert len(ids) == len(set(ids))
    assert initial <= set(ids)
    rows = await client.app[pool_key].fetch("select id, feed_seq from photos where id = any($1::bigint[])", ids)
    seq_of = {r["id"]: r["feed_seq"] for r in rows}
    seqs = [seq_of[i] for i in ids]
    assert seqs == sorted(seqs, reverse=True)


# ---- download ----


async def test_download_streams_the_original(client):
    event = await _event(client)
    data = jpeg_bytes(320, 240, (10, 200, 30))
    photo = await make_photo(client.app, event, data=data)
    resp = await client.get(
        f"/api/v1/gallery/{event['guest_token']}/photos/{photo['id']}/download", headers={"X-Request-ID": "dl-1"}
    )
    assert resp.status == 200
    assert resp.headers["X-Request-ID"] == "dl-1"  # streamed, yet carries the request id (issue 16, point 9)
    assert resp.headers["Content-Type"] == "image/jpeg"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="photo-{photo["id"]}.jpg"'
    assert await resp.read() == data
    head = await client.head(f"/api/v1/gallery/{event['guest_token']}/photos/{photo['id']}/download")
    assert head.status == 200 and head.headers["Content-Length"] == str(len(data))
    assert head.headers["Content-Disposition"] == resp.headers["Content-Disposition"]


async def test_download_404s_photo_not_found(client):
    event, other = await _event(client), await _event(client)
    pending = await make_photo(client.app, event, approved=False)
    foreign = await make_photo(client.app, other)
    gone = await make_photo(client.app, event)
    await event_media_store(client.app[settings_key].media_dir).delete(gone["original_key"])
    token = event["guest_token"]
    for photo_id in (pending["id"], foreign["id"], gone["id"], "abc", "0", "9" * 30):
        resp = await client.get(f"/api/v1/gallery/{token}/photos/{photo_id}/download")
        await assert_error(resp, 404, "photo_not_found")
    resp = await client.get(f"/api/v1/gallery/{token}/photos/{gone['id']}/download", headers=DE)
    assert (await assert_error(resp, 404, "photo_not_found"))["title"] == "Foto nicht gefunden"
