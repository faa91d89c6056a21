"""Signed uploads: asking for an upload URL (guests, tenant admins), the PUT of the bytes, URL
tampering and expiry, hostile images, and the per-device and per-tenant rate limits."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from domain.tenant_abilities import PHOTOS_READ
from domain.upload_signing import UploadSigner
from gateway.kernel.keys import pool_key, settings_key
from tests.builders import bearer
from tests.event_builders import make_event, make_package, make_photo, make_tenant, make_tenant_admin
from tests.events import photo_fixtures as fx
from tests.events.photo_fixtures import (
    ask_upload,
    assert_envelope,
    device,
    local,
    media_store,
    put_bytes,
    stored_files,
)


async def _event(client, **fields):
    tenant = await make_tenant(client.app)
    return await make_event(client.app, tenant["id"], **fields)


async def _upload_row(client, upload_id: str):
    return await client.app[pool_key].fetchrow("select * from photo_uploads where id = $1", upload_id)


# -- asking for an upload URL ---------------------------------------------------------------------


async def test_a_guest_gets_a_signed_upload_url(client):
    event = await _event(client)
    headers = device("guest-device-0001")
    resp = await ask_upload(client, event, headers=headers, content_type="image/jpeg", size=12345)
    assert resp.status == 201
    data = (await resp.json())["data"]
    app_url = client.app[settings_key].app_url.rstrip("/")
    url = urlsplit(data["upload_url"])
    assert data["upload_url"].startswith(f"{app_url}/api/v1/uploads/{data['upload_id']}?")
    query = parse_qs(url.query)
    assert set(query) == {"expires", "signature"} and len(query["signature"][0]) == 64
    assert data["expires_at"].endswith("Z") and data["method"] == "PUT"
    assert data["headers"] == {"Content-Type": "image/jpeg"} and data["max_bytes"] == 12345
    row = await _upload_row(client, data["upload_id"])
    assert (row["event_id"], row["device_id"], row["declared_size"], row["received_at"]) == (
        event["id"], "guest-device-0001", 12345, None
    )
    assert int(row["expires_at"].timestamp()) == int(query["expires"][0])
    # both spellings of the budget: the document's x-rate-limit-* and Laravel's X-RateLimit-*
    assert resp.headers["X-Rate-Limit-Limit"] == resp.headers["X-RateLimit-Limit"]
    assert int(resp.headers["X-Rate-Limit-Remaining"]) >= 0


async def test_guests_reach_events_by_token_only(client):
    event = await _event(client)
    draft = await _event(client, status="draft")
    for path in (
        f"/api/v1/events/{event['slug']}/photos/upload-url",
        "/api/v1/events/not-a-token/photos/upload-url",
        f"/api/v1/events/{event['id']}/photos/upload-url",
        f"/api/v1/events/{draft['slug']}/photos/upload-url",
    ):
        resp = await client.post(path, json={"content_type": "image/jpeg", "size": 10}, headers=device())
        assert resp.status == 404, path
        assert_envelope(await resp.json(), "event_not_found")


async def test_archived_events_take_no_uploads(client):
    event = await _event(client, status="archived")
    resp = await ask_upload(client, event, headers={**device(), "Accept-Language": "de-DE,de;q=0.9"})
    assert resp.status == 409
    error = assert_envelope(await resp.json(), "event_not_open")
    assert error["message"] == "Diese Veranstaltung nimmt keine Fotos mehr an."
    assert resp.headers["Content-Language"] == "de"


async def test_a_device_id_is_required(client):
    event = await _event(client)
    resp = await ask_upload(client, event, headers={})
    assert resp.status == 400
    assert_envelope(await resp.json(), "device_id_required")
    resp = await ask_upload(client, event, headers={"X-Device-Id": "bad id!"})
    assert resp.status == 400
    assert_envelope(await resp.json(), "device_id_invalid")


@pytest.mark.parametrize(
    "body,fields",
    [
        ({}, {"content_type", "size"}),
        ({"content_type": "image/jpeg", "size": "12"}, {"size"}),
        ({"content_type": "image/jpeg", "size": 0}, {"size"}),
        ({"content_type": "", "size": 10}, {"content_type"}),
    ],
)
async def test_upload_url_validation(client, body, fields):
    event = await _event(client)
    resp = await client.post(f"/api/v1/events/{event['guest_token']}/photos/upload-url", json=body, headers=device())
    assert resp.status == 422
    error = assert_envelope(await resp.json(), "validation_failed")
    assert set(error["meta"]["fields"]) == fields


async def test_only_jpeg_png_and_webp_may_be_uploaded(client):
    event = await _event(client)
    for content_type in ("image/jpeg", "image/png", "image/webp", "image/jpg", "IMAGE/PNG; charset=binary"):
        assert (await ask_upload(client, event, headers=device(), content_type=content_type)).status == 201
    resp = await ask_upload(client, event, headers={**device(), "Accept-Language": "de"}, content_type="image/gif")
    assert resp.status == 422
    error = assert_envelope(await resp.json(), "unsupported_photo_type")
    assert "content_type" in error["meta"]["fields"]
    assert error["meta"]["allowed"] == ["image/jpeg", "image/png", "image/webp"]
    assert "JPEG, PNG oder WebP" in error["message"]


async def test_a_huge_declared_size_is_refused_before_anything_is_stored(client):
    event = await _event(client)
    max_bytes = client.app[settings_key].event_photo_max_bytes
    resp = await ask_upload(client, event, headers=device(), size=max_bytes + 1)
    assert resp.status == 413
    error = assert_envelope(await resp.json(), "photo_too_large")
    assert error["meta"]["max_bytes"] == max_bytes and str(max_bytes) in error["message"]
    count = await client.app[pool_key].fetchval("select count(*) from photo_uploads where event_id = $1", event["id"])
    assert count == 0
    assert (await ask_upload(client, event, headers=device(), size=2**40)).status == 413


async def test_a_full_event_refuses_upload_urls(client):
    package = await make_package(client.app, photo_limit=1)
    tenant = await make_tenant(client.app, package=package["slug"])
    event = await make_event(client.app, tenant["id"])
    await make_photo(client.app, event)
    resp = await ask_upload(client, event, headers=device())
    assert resp.status == 403
    error = assert_envelope(await resp.json(), "photo_limit_exceeded")
    assert error["meta"] == {"limit": 1, "used": 1, "remaining": 0}
    assert error["title"] == "Upload Limit Reached"


# -- the PUT ----------------------------------------------------------------------------------------


async def test_put_stores_the_bytes_once(client):
    event = await _event(client)
    data = fx.jpeg(120, 90)
    resp = await ask_upload(client, event, headers=device(), size=len(data))
    upload = (await resp.json())["data"]
    put = await put_bytes(client, upload["upload_url"], data)
    assert put.status == 200
    assert (await put.json())["data"] == {
        "upload_id": upload["upload_id"], "size": len(data), "content_type": "image/jpeg", "width": 120, "height": 90
    }
    row = await _upload_row(client, upload["upload_id"])
    assert row["received_at"] is not None and row["received_size"] == len(data)
    assert await media_store(client).read(row["media_key"]) == data
    assert row["media_key"].startswith(f"{event['id']}/uploads/")

    again = await put_bytes(client, upload["upload_url"], fx.jpeg(10, 10))
    assert again.status == 409
    assert_envelope(await again.json(), "upload_already_received")
    assert await media_store(client).read(row["media_key"]) == data
    assert stored_files(client, event["id"]) == [row["media_key"].split("/", 1)[1]]


async def _fresh_upload(client, event, size: int = 5000) -> dict:
    resp = await ask_upload(client, event, headers=device(), size=size)
    assert resp.status == 201
    return (await resp.json())["data"]


async def test_tampered_upload_urls_are_refused(client):
    event = await _event(client)
    one, other = await _fresh_upload(client, event), await _fresh_upload(client, event)
    path, query = local(one["upload_url"]).split("?")
    params = parse_qs(query)
    expires, signature = params["expires"][0], params["signature"][0]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    other_path = local(other["upload_url"]).split("?")[0]
    attempts = [
        f"{path}?expires={expires}&signature={flipped}",  # signature changed
        f"{other_path}?expires={expires}&signature={signature}",  # another upload's id
        f"{path}?expires={int(expires) + 3600}&signature={signature}",  # expiry pushed back
        f"{path}?expires={expires}",  # no signature
        path,  # nothing
    ]
    for url in attempts:
        resp = await client.put(url, data=fx.jpeg(), headers={"Content-Type": "image/jpeg", "Accept-Language": "de"})
        assert resp.status == 403, url
        error = assert_envelope(await resp.json(), "invalid_signature")
        assert error["message"] == "Der Upload-Link ist ungültig."
    assert stored_files(client, event["id"]) == []
    assert (await _upload_row(client, one["upload_id"]))["received_at"] is None


async def test_an_expired_upload_url_is_refused(client):
    event = await _event(client)
    upload = await _fresh_upload(client, event)
    signer = UploadSigner(client.app[settings_key].app_key)
    past = signer.expiry(-5)  # a genuine signature, five seconds stale
    resp = await client.put(f"/api/v1/uploads/{upload['upload_id']}?{signer.query(upload['upload_id'], past)}",
                            data=fx.jpeg(), headers={"Content-Type": "image/jpeg"})
    assert resp.status == 403
    assert_envelope(await resp.json(), "upload_expired")
    assert stored_files(client, event["id"]) == []


async def test_an_upload_expires_after_its_ttl(aiohttp_client, settings, ray_session):
    from gateway.app import create_app
    from tests.clock import FakeClock

    clock = FakeClock()
    short = await aiohttp_client(create_app(settings.model_copy(update={"event_upload_url_ttl_s": 1}), clock=clock))
    event = await _event(short)
    upload = await _fresh_upload(short, event)
    clock.advance(2)
    resp = await put_bytes(short, upload["upload_url"], fx.jpeg())
    assert resp.status == 403
    assert_envelope(await resp.json(), "upload_expired")


async def test_the_content_type_must_be_the_declared_one(client):
    event = await _event(client)
    upload = await _fresh_upload(client, event)
    resp = await put_bytes(client, upload["upload_url"], fx.png(), "image/png")
    assert resp.status == 415
    error = assert_envelope(await resp.json(), "content_type_mismatch")
    assert error["meta"]["expected"] == "image/jpeg"


async def test_more_bytes_than_declared_are_refused_and_nothing_is_kept(client):
    event = await _event(client)
    data = fx.jpeg(300, 300)
    upload = await _fresh_upload(client, event, size=len(data) - 1)
    resp = await put_bytes(client, upload["upload_url"], data)  # Content-Length says too much
    assert resp.status == 413
    assert_envelope(await resp.json(), "photo_too_large")

    async def chunked():  # no Content-Length: the stream itself goes over
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    resp = await client.put(local(upload["upload_url"]), data=chunked(), headers={"Content-Type": "image/jpeg"})
    assert resp.status == 413
    assert stored_files(client, event["id"]) == []
    # the upload is still open for a PUT that keeps its word
    ok = await put_bytes(client, upload["upload_url"], fx.jpeg(20, 20))
    assert ok.status == 200


@pytest.mark.parametrize(
    "builder,content_type,code",
    [
        (fx.not_an_image, "image/jpeg", "invalid_image"),
        (fx.fake_jpeg_magic, "image/jpeg", "invalid_image"),
        (fx.png, "image/jpeg", "invalid_image"),  # magic bytes of another type
        (fx.png_bomb, "image/png", "image_too_large_pixels"),
        (fx.jpeg_zip_polyglot, "image/jpeg", "invalid_image"),
        (fx.jpeg_html_polyglot, "image/jpeg", "invalid_image"),
        (fx.jpeg_comment_html, "image/jpeg", "invalid_image"),
        (fx.png_trailing_zip, "image/png", "invalid_image"),
        (fx.webp_trailing_html, "image/webp", "invalid_image"),
        (lambda: b"", "image/jpeg", "invalid_image"),
    ],
)
async def test_hostile_files_are_refused_and_nothing_is_stored(client, builder, content_type, code):
    event = await _event(client)
    data = builder()
    resp = await ask_upload(client, event, headers=device(), content_type=content_type, size=max(len(data), 1))
    upload = (await resp.json())["data"]
    put = await put_bytes(client, upload["upload_url"], data, content_type)
    assert put.status == 422
    assert_envelope(await put.json(), code)
    assert stored_files(client, event["id"]) == []
    assert (await _upload_row(client, upload["upload_id"]))["received_at"] is None


async def test_the_bomb_error_is_localized(client):
    event = await _event(client)
    data = fx.jpeg_bomb_header(8000, 6000)
    resp = await ask_upload(client, event, headers=device(), size=len(data))
    put = await put_bytes(client, (await resp.json())["data"]["upload_url"], data, **{"Accept-Language": "de"})
    assert put.status == 422
    error = assert_envelope(await put.json(), "image_too_large_pixels")
    assert error["meta"] == {"max_pixels": 24_000_000, "width": 8000, "height": 6000}
    assert error["message"] == "Das Bild hat zu viele Pixel (höchstens 24000000)."


# -- rate limits ----------------------------------------------------------------------------------


async def test_uploads_are_rate_limited_per_device_and_per_tenant(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    limited = settings.model_copy(
        update={"event_uploads_per_device_per_minute": 2, "event_uploads_per_tenant_per_minute": 4}
    )
    client = await aiohttp_client(create_app(limited))
    event = await _event(client)
    guest = device()
    for remaining in (1, 0):
        resp = await ask_upload(client, event, headers=guest)
        assert resp.status == 201
        assert resp.headers["X-RateLimit-Remaining"] == resp.headers["X-Rate-Limit-Remaining"] == str(remaining)
    resp = await ask_upload(client, event, headers={**guest, "Accept-Language": "de"})
    assert resp.status == 429
    error = assert_envelope(await resp.json(), "rate_limited")
    assert error["meta"]["scope"] == "device" and error["meta"]["limit"] == 2
    assert error["message"].startswith("Zu viele Anfragen")
    for name in ("X-RateLimit-Limit", "X-Rate-Limit-Limit"):
        assert resp.headers[name] == "2"
    assert resp.headers["X-Rate-Limit-Remaining"] == "0" and int(resp.headers["Retry-After"]) >= 1

    # the tenant's budget (4) is shared by all its devices: 2 used above (a refused request is
    # not counted against the tenant), 2 left
    for _ in range(2):
        assert (await ask_upload(client, event, headers=device())).status == 201
    resp = await ask_upload(client, event, headers=device())
    assert resp.status == 429
    error = assert_envelope(await resp.json(), "rate_limited")
    assert error["meta"]["scope"] == "tenant" and resp.headers["X-Rate-Limit-Limit"] == "4"
    # another tenant is unaffected
    assert (await ask_upload(client, await _event(client), headers=device())).status == 201


# -- tenant admins --------------------------------------------------------------------------------


async def test_a_tenant_admin_gets_upload_urls_for_own_events_only(client):
    tenant, other = await make_tenant(client.app), await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    draft = await make_event(client.app, tenant["id"], status="draft")
    foreign = await make_event(client.app, other["id"])
    body = {"content_type": "image/png", "size": 2000}

    resp = await client.post(f"/api/v1/tenant/events/{draft['id']}/photos/upload-url", json=body, headers=bearer(token))
    assert resp.status == 201  # admins may add photos before publishing
    upload = (await resp.json())["data"]
    row = await _upload_row(client, upload["upload_id"])
    assert row["user_id"] is not None and row["device_id"] is None and row["tenant_id"] == tenant["id"]
    assert (await put_bytes(client, upload["upload_url"], fx.png(), "image/png")).status == 200

    for path in (
        f"/api/v1/tenant/events/{foreign['id']}/photos/upload-url",
        "/api/v1/tenant/events/abc/photos/upload-url",
        "/api/v1/tenant/events/999999999/photos/upload-url",
    ):
        resp = await client.post(path, json=body, headers=bearer(token))
        assert resp.status == 404, path
        assert_envelope(await resp.json(), "not_found")

    resp = await client.post(f"/api/v1/tenant/events/{draft['id']}/photos/upload-url", json=body)
    assert resp.status == 401
    assert_envelope(await resp.json(), "unauthenticated")
    _, reader = await make_tenant_admin(client.app, tenant["id"], abilities=(PHOTOS_READ,))
    resp = await client.post(
        f"/api/v1/tenant/events/{draft['id']}/photos/upload-url", json=body, headers=bearer(reader)
    )
    assert resp.status == 403
    assert_envelope(await resp.json(), "missing_ability")
    resp = await client.post(
        f"/api/v1/tenant/events/{draft['id']}/photos/upload-url", json={"size": 5}, headers=bearer(token)
    )
    assert resp.status == 422
    assert set(assert_envelope(await resp.json(), "validation_failed")["meta"]["fields"]) == {"content_type"}
