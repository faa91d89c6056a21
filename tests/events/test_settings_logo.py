"""001 tenant settings, continued: the logo (re-encoded, EXIF stripped, served publicly, replaced
and removed, hostile files refused), and what guests and uploads see of the settings (branding,
the lowered photo limit, the shorter gallery window)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import FormData
from PIL import Image

from domain import tenant_settings as rules
from gateway.kernel.keys import settings_key
from tests.builders import bearer
from tests.event_builders import assert_error, make_event, make_photo
from tests.events import photo_fixtures as fx
from tests.events.settings_builders import (
    LOGO,
    SETTINGS,
    data_of,
    local_path,
    patch_settings,
    tenant_admin,
    upload_logo,
)

# ---- the logo ----


async def test_a_logo_is_stored_reencoded_without_exif_and_served_to_anyone(client):
    _, token = await tenant_admin(client)
    data = await data_of(await upload_logo(client, token, fx.jpeg_with_exif(80, 40)))
    url = data["theme"]["logo_url"]
    app_url = client.app[settings_key].app_url.rstrip("/")
    assert url.startswith(f"{app_url}/storage/logos/") and url.endswith(".jpg")
    served = await client.get(local_path(url))  # no credentials: guests' pages show it
    assert served.status == 200 and served.headers["X-Content-Type-Options"] == "nosniff"
    body = await served.read()
    with Image.open(io.BytesIO(body)) as im:
        assert im.format == "JPEG"
        assert im.size == (40, 80)  # the orientation tag was applied to the pixels
        assert len(im.getexif()) == 0 and "exif" not in im.info
    assert b"RoostCam" not in body


async def test_a_large_logo_is_scaled_down(client):
    _, token = await tenant_admin(client)
    data = await data_of(await upload_logo(client, token, fx.png(1200, 300), name="logo.png"))
    served = await client.get(local_path(data["theme"]["logo_url"]))
    with Image.open(io.BytesIO(await served.read())) as im:
        assert im.size == (rules.LOGO_LONGEST_SIDE, 128)


async def test_a_new_logo_replaces_and_removes_the_old_file(client):
    _, token = await tenant_admin(client)
    first = (await data_of(await upload_logo(client, token, fx.jpeg())))["theme"]["logo_url"]
    second = (await data_of(await upload_logo(client, token, fx.webp(), name="logo.webp")))["theme"]["logo_url"]
    assert first != second
    assert (await client.get(local_path(first))).status == 404
    assert (await client.get(local_path(second))).status == 200


async def test_deleting_the_logo_clears_it_and_its_file(client):
    _, token = await tenant_admin(client)
    url = (await data_of(await upload_logo(client, token, fx.jpeg())))["theme"]["logo_url"]
    data = await data_of(await client.delete(LOGO, headers=bearer(token)))
    assert data["theme"]["logo_url"] is None
    assert (await client.get(local_path(url))).status == 404
    again = await data_of(await client.delete(LOGO, headers=bearer(token)))  # idempotent
    assert again["theme"]["logo_url"] is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (fx.not_an_image(), "not_an_image"),
        (fx.fake_jpeg_magic(), "malformed"),
        (fx.jpeg_zip_polyglot(), "trailing_data"),
        (fx.jpeg_comment_html(), "embedded_file"),
        (fx.gif(), "not_an_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not_an_image"),
    ],
)
async def test_a_logo_that_is_not_a_clean_image_is_422(client, payload, reason):
    _, token = await tenant_admin(client)
    error = await assert_error(await upload_logo(client, token, payload), 422, "invalid_image")
    assert error["meta"]["reason"] == reason
    data = await data_of(await client.get(SETTINGS, headers=bearer(token)))
    assert data["theme"]["logo_url"] is None


async def test_a_pixel_bomb_logo_is_refused(client):
    _, token = await tenant_admin(client)
    await assert_error(await upload_logo(client, token, fx.png_bomb(), name="bomb.png"), 422, "image_too_large_pixels")


async def test_an_oversize_logo_is_413(client):
    _, token = await tenant_admin(client)
    big = b"\xff\xd8\xff\xe0" + b"\0" * rules.MAX_LOGO_BYTES
    error = await assert_error(await upload_logo(client, token, big), 413, "payload_too_large")
    assert error["meta"]["max_bytes"] == rules.MAX_LOGO_BYTES


async def test_a_logo_upload_needs_the_file_field(client):
    _, token = await tenant_admin(client)
    await assert_error(await upload_logo(client, token, fx.jpeg(), field="logo"), 422, "validation_failed")
    form = FormData()
    form.add_field("file", "not a file")
    resp = await client.post(LOGO, data=form, headers=bearer(token))
    error = await assert_error(resp, 422, "validation_failed")
    assert "file" in error["meta"]["fields"]
    resp = await client.post(LOGO, json={"file": "x"}, headers=bearer(token))
    await assert_error(resp, 422, "validation_failed")
    await assert_error(await upload_logo(client, token, b""), 422, "validation_failed")


# ---- what guests and uploads see ----


async def test_the_guest_event_and_gallery_show_the_updated_branding(client):
    tenant, token = await tenant_admin(client)
    event = await make_event(client.app, tenant["id"])
    await data_of(
        await patch_settings(
            client,
            token,
            {
                "theme": {"primary_color": "#0F0", "secondary_color": "#101010", "text_color": "#222"},
                "legal": {"imprint_url": "https://example.com/imprint", "privacy_url": "https://example.com/privacy"},
            },
        )
    )
    logo = (await data_of(await upload_logo(client, token, fx.jpeg())))["theme"]["logo_url"]
    expected_legal = {
        "imprint_url": "https://example.com/imprint",
        "privacy_url": "https://example.com/privacy",
        "terms_url": None,
    }
    for path in (f"/api/v1/events/{event['guest_token']}", f"/api/v1/gallery/{event['guest_token']}"):
        branding = (await data_of(await client.get(path)))["branding"]
        assert branding["primary_color"] == "#00ff00" and branding["secondary_color"] == "#101010", path
        assert branding["text_color"] == "#222222" and branding["accent_color"] is None, path
        assert branding["logo_url"] == logo, path
        assert branding["legal"] == expected_legal, path


async def test_guests_see_the_defaults_without_settings(client):
    tenant, _ = await tenant_admin(client, theme={"anything": 1})
    event = await make_event(client.app, tenant["id"])
    branding = (await data_of(await client.get(f"/api/v1/events/{event['guest_token']}")))["branding"]
    assert branding["primary_color"] == "#E11D48" and branding["logo_url"] is None
    assert branding["legal"] == {"imprint_url": None, "privacy_url": None, "terms_url": None}


async def test_a_lowered_photo_limit_is_enforced_on_upload(client):
    tenant, token = await tenant_admin(client, photo_limit=100)
    event = await make_event(client.app, tenant["id"])
    await make_photo(client.app, event)
    assert (await fx.ask_upload(client, event, headers=fx.device())).status == 201
    await data_of(await patch_settings(client, token, {"limits": {"photo_limit": 1}}))
    resp = await fx.ask_upload(client, event, headers=fx.device())
    error = await assert_error(resp, 403, "photo_limit_exceeded")
    assert error["meta"]["limit"] == 1 and error["meta"]["used"] == 1
    guest = await data_of(await client.get(f"/api/v1/events/{event['guest_token']}"))
    assert guest["limits"] == {"photo_limit": 1, "photos_remaining": 0}


async def test_a_received_upload_cannot_become_a_photo_past_the_lowered_limit(client):
    tenant, token = await tenant_admin(client, photo_limit=100)
    event = await make_event(client.app, tenant["id"])
    headers = fx.device()
    upload_id = await fx.guest_upload(client, event, headers=headers)
    await make_photo(client.app, event)
    await data_of(await patch_settings(client, token, {"limits": {"photo_limit": 1}}))
    resp = await client.post(f"/api/v1/events/{event['guest_token']}/photos", json={"upload_id": upload_id},
                             headers=headers)
    await assert_error(resp, 403, "photo_limit_exceeded")


async def test_a_shorter_gallery_window_closes_the_gallery(client):
    tenant, token = await tenant_admin(client, gallery_days=30)
    ends = datetime.now(UTC) - timedelta(days=5)
    event = await make_event(client.app, tenant["id"], ends_at=ends)
    photo = await make_photo(client.app, event)
    media = f"/storage/events/{photo['web_key']}"
    assert (await client.get(f"/api/v1/gallery/{event['guest_token']}")).status == 200
    assert (await client.get(media)).status == 200
    data = await data_of(await patch_settings(client, token, {"limits": {"gallery_days": 3}}))
    assert data["limits"]["effective"]["gallery_days"] == 3
    await assert_error(await client.get(f"/api/v1/gallery/{event['guest_token']}"), 410, "gallery_expired")
    tenant_view = await data_of(await client.get(f"/api/v1/tenant/events/{event['id']}", headers=bearer(token)))
    assert tenant_view["gallery_expires_at"] == (ends + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_re_approving_a_rejected_photo_counts_against_the_lowered_limit(client):
    tenant, token = await tenant_admin(client, photo_limit=100)
    event = await make_event(client.app, tenant["id"])
    await make_photo(client.app, event)
    second = await make_photo(client.app, event)
    reject = await client.post(f"/api/v1/tenant/photos/{second['id']}/reject", headers=bearer(token))
    assert reject.status == 200, await reject.text()  # its slot is given back: one of one used
    await data_of(await patch_settings(client, token, {"limits": {"photo_limit": 1}}))
    approve = await client.post(f"/api/v1/tenant/photos/{second['id']}/approve", headers=bearer(token))
    error = await assert_error(approve, 403, "photo_limit_exceeded")
    assert error["meta"]["limit"] == 1
