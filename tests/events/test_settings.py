"""001 tenant settings (/api/v1/tenant/settings): theme, limits within the package's, the logo and
legal links; validation, who may call, scoping, and what guests and uploads see of them. Every
answer is checked against 001's OpenAPI document by the client (tests/contract_validation.py)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from aiohttp import FormData
from PIL import Image

from domain import tenant_settings as rules
from domain.tenant_abilities import SETTINGS_WRITE, TENANT_ABILITIES, TENANT_READ
from gateway.kernel.keys import settings_key
from tests.builders import bearer, make_token, make_user
from tests.event_builders import (
    assert_error,
    make_event,
    make_package,
    make_photo,
    make_tenant,
    make_tenant_admin,
)
from tests.events import photo_fixtures as fx

SETTINGS = "/api/v1/tenant/settings"
LOGO = SETTINGS + "/logo"


async def _admin(client, *, photo_limit: int = 100, gallery_days: int = 30, **kwargs):
    package = await make_package(client.app, photo_limit=photo_limit, gallery_days=gallery_days)
    tenant = await make_tenant(client.app, package=package["slug"], **kwargs)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    return tenant, token


async def _patch(client, token, body):
    return await client.patch(SETTINGS, json=body, headers=bearer(token))


async def _data(resp, status: int = 200):
    assert resp.status == status, await resp.text()
    return (await resp.json())["data"]


def _logo_form(data: bytes, *, name: str = "logo.jpg", field: str = "file") -> FormData:
    form = FormData()
    form.add_field(field, data, filename=name, content_type="application/octet-stream")
    return form


async def _upload_logo(client, token, data: bytes, **kwargs):
    return await client.post(LOGO, data=_logo_form(data, **kwargs), headers=bearer(token))


def _local(url: str) -> str:
    return urlsplit(url).path


# ---- the rules, without HTTP ----


@pytest.mark.parametrize(
    ("given", "stored"),
    [("#ABC", "#aabbcc"), ("#abcdef", "#abcdef"), ("#A1B2C3", "#a1b2c3"), ("#000", "#000000")],
)
def test_hex_colours_are_normalised(given, stored):
    assert rules.normalized_hex(given) == stored


@pytest.mark.parametrize("bad", ["abc", "#abcd", "#ggg", "#12345", "#1234567", "red", "#", " #abc", "#abc "])
def test_bad_hex_colours_are_refused(bad):
    with pytest.raises(ValueError):
        rules.normalized_hex(bad)


def test_https_urls_are_kept_with_scheme_and_host_lowercased():
    assert rules.checked_https_url("HTTPS://Example.COM/Imprint?x=1#top") == "https://example.com/Imprint?x=1#top"
    assert rules.checked_https_url("https://example.com:8443/p") == "https://example.com:8443/p"


@pytest.mark.parametrize(
    "bad",
    [
        "http://example.com/imprint",
        "javascript:alert(1)",
        "JavaScript://example.com/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/imprint",
        "imprint.html",
        "//example.com/imprint",
        "https:example.com",
        "https://",
        "https://user:pass@example.com/",
        "https://example.com@evil.example/",
        "https://example.com\\@evil.example/",
        "https://exa mple.com/",
        "https://example.com/\x00",
        "https://example.com/\n",
        "https://exämple.com/",
        "https://localhost/",
        "https://-bad-.example/",
        "https://example.com:99999/",
        "https://[::1/",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_unsafe_legal_urls_are_refused(bad):
    with pytest.raises(ValueError):
        rules.checked_https_url(bad)


# ---- reading and writing ----


async def test_a_new_tenant_reads_its_packages_limits_and_no_choices(client):
    _, token = await _admin(client, photo_limit=200, gallery_days=60, theme={"primary_color": "#112233"})
    data = await _data(await client.get(SETTINGS, headers=bearer(token)))
    assert data["theme"] == {
        "primary_color": "#112233",
        "secondary_color": None,
        "accent_color": None,
        "background_color": None,
        "text_color": None,
        "logo_url": None,
    }
    assert data["limits"] == {
        "photo_limit": None,
        "gallery_days": None,
        "package": {"photo_limit": 200, "gallery_days": 60, "event_limit": None},
        "effective": {"photo_limit": 200, "gallery_days": 60},
    }
    assert data["legal"] == {"imprint_url": None, "privacy_url": None, "terms_url": None}


async def test_patch_changes_only_what_is_sent(client, pool):
    tenant, token = await _admin(client, photo_limit=200, gallery_days=60)
    data = await _data(
        await _patch(
            client,
            token,
            {
                "theme": {"primary_color": "#ABC", "accent_color": "#F59E0B"},
                "limits": {"photo_limit": 50},
                "legal": {"imprint_url": "https://example.com/imprint"},
            },
        )
    )
    assert data["theme"]["primary_color"] == "#aabbcc" and data["theme"]["accent_color"] == "#f59e0b"
    assert data["theme"]["secondary_color"] == "#ddeeff"  # the builder's, untouched
    assert data["limits"]["photo_limit"] == 50
    assert data["limits"]["effective"] == {"photo_limit": 50, "gallery_days": 60}
    assert data["legal"]["imprint_url"] == "https://example.com/imprint"
    assert data["updated_at"].endswith("Z")

    data = await _data(await _patch(client, token, {"legal": {"privacy_url": "https://example.com/privacy"}}))
    assert data["legal"] == {
        "imprint_url": "https://example.com/imprint",
        "privacy_url": "https://example.com/privacy",
        "terms_url": None,
    }
    assert data["theme"]["primary_color"] == "#aabbcc" and data["limits"]["photo_limit"] == 50
    stored = await pool.fetchval("select theme from tenants where id = $1", tenant["id"])
    assert stored["primary_color"] == "#aabbcc"


async def test_null_clears_a_value(client):
    _, token = await _admin(client)
    await _data(await _patch(client, token, {"limits": {"gallery_days": 7}, "legal": {"terms_url": "https://a.example/t"}}))
    data = await _data(
        await _patch(client, token, {"theme": {"primary_color": None}, "limits": {"gallery_days": None},
                                     "legal": {"terms_url": None}})
    )
    assert data["theme"]["primary_color"] is None
    assert data["limits"]["gallery_days"] is None and data["limits"]["effective"]["gallery_days"] == 30
    assert data["legal"]["terms_url"] is None


async def test_put_replaces_everything_it_is_given_and_clears_the_rest(client):
    _, token = await _admin(client)
    await _data(await _patch(client, token, {"theme": {"accent_color": "#010203"}, "limits": {"photo_limit": 10},
                                             "legal": {"imprint_url": "https://a.example/i"}}))
    resp = await client.put(SETTINGS, json={"theme": {"primary_color": "#fff"}}, headers=bearer(token))
    data = await _data(resp)
    assert data["theme"]["primary_color"] == "#ffffff"
    assert data["theme"]["accent_color"] is None and data["theme"]["secondary_color"] is None
    assert data["limits"]["photo_limit"] is None and data["legal"]["imprint_url"] is None


async def test_an_empty_patch_changes_nothing(client):
    _, token = await _admin(client)
    before = await _data(await client.get(SETTINGS, headers=bearer(token)))
    after = await _data(await _patch(client, token, {}))
    assert after["theme"] == before["theme"] and after["limits"] == before["limits"]


# ---- validation ----


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"theme": {"primary_color": "red"}}, "theme.primary_color"),
        ({"theme": {"primary_color": "#12345"}}, "theme.primary_color"),
        ({"theme": {"text_color": 123}}, "theme.text_color"),
        ({"theme": {"font": "Comic Sans"}}, "theme.font"),
        ({"theme": {"logo_url": "https://evil.example/logo.png"}}, "theme.logo_url"),
        ({"colours": {}}, "colours"),
        ({"limits": {"uploads": 3}}, "limits.uploads"),
        ({"limits": {"photo_limit": 0}}, "limits.photo_limit"),
        ({"limits": {"photo_limit": "10"}}, "limits.photo_limit"),
        ({"limits": {"gallery_days": 1.5}}, "limits.gallery_days"),
        ({"legal": {"imprint_url": "http://example.com/imprint"}}, "legal.imprint_url"),
        ({"legal": {"privacy_url": "javascript:alert(document.cookie)"}}, "legal.privacy_url"),
        ({"legal": {"terms_url": "/terms"}}, "legal.terms_url"),
        ({"legal": {"terms_url": "https://example.com@evil.example/"}}, "legal.terms_url"),
        ({"legal": {"terms_url": "https://example.com/" + "x" * 2100}}, "legal.terms_url"),
        ({"legal": {"cookies_url": "https://example.com/cookies"}}, "legal.cookies_url"),
        ({"theme": None}, "theme"),
    ],
)
async def test_invalid_settings_are_422_and_change_nothing(client, body, field):
    _, token = await _admin(client)
    before = await _data(await client.get(SETTINGS, headers=bearer(token)))
    error = await assert_error(await _patch(client, token, body), 422, "validation_failed")
    assert field in error["meta"]["fields"], error
    after = await _data(await client.get(SETTINGS, headers=bearer(token)))
    assert after == before


async def test_a_body_that_is_not_an_object_is_422(client):
    _, token = await _admin(client)
    resp = await client.patch(SETTINGS, json=["theme"], headers=bearer(token))
    await assert_error(resp, 422, "validation_failed")


async def test_a_nul_in_a_value_is_refused(client):
    _, token = await _admin(client)
    resp = await _patch(client, token, {"legal": {"imprint_url": "https://example.com/\u0000"}})
    assert resp.status == 422


@pytest.mark.parametrize(("name", "bound"), [("photo_limit", 100), ("gallery_days", 30)])
async def test_a_limit_above_the_package_is_422_naming_the_bound(client, name, bound):
    _, token = await _admin(client, photo_limit=100, gallery_days=30)
    error = await assert_error(
        await _patch(client, token, {"limits": {name: bound + 1}, "legal": {"imprint_url": "https://a.example/i"}}),
        422,
        "limit_above_package",
    )
    assert error["meta"]["field"] == name and error["meta"]["package_limit"] == bound
    assert error["meta"]["value"] == bound + 1 and f"limits.{name}" in error["meta"]["fields"]
    data = await _data(await client.get(SETTINGS, headers=bearer(token)))
    assert data["limits"][name] is None and data["legal"]["imprint_url"] is None  # nothing half-written
    assert (await _patch(client, token, {"limits": {name: bound}})).status == 200  # the bound itself is allowed


async def test_the_limit_message_is_localized(client):
    _, token = await _admin(client, photo_limit=100)
    resp = await client.patch(SETTINGS, json={"limits": {"photo_limit": 101}},
                              headers=bearer(token) | {"Accept-Language": "de"})
    error = await assert_error(resp, 422, "limit_above_package")
    assert "100" in error["message"] and resp.headers["Content-Language"] == "de"


async def test_a_package_downgrade_below_the_choice_wins(client, pool):
    tenant, token = await _admin(client, photo_limit=100)
    await _data(await _patch(client, token, {"limits": {"photo_limit": 80}}))
    smaller = await make_package(client.app, photo_limit=20)
    await pool.execute("update tenants set package_id = $2 where id = $1", tenant["id"], smaller["id"])
    data = await _data(await client.get(SETTINGS, headers=bearer(token)))
    assert data["limits"]["photo_limit"] == 80 and data["limits"]["effective"]["photo_limit"] == 20
    event = await make_event(client.app, tenant["id"])
    guest = await _data(await client.get(f"/api/v1/events/{event['guest_token']}"))
    assert guest["limits"]["photo_limit"] == 20


# ---- who may call ----


async def test_without_a_token_it_is_401(client):
    await assert_error(await client.get(SETTINGS), 401, "unauthenticated")
    await assert_error(await client.patch(SETTINGS, json={}), 401, "unauthenticated")
    await assert_error(await client.post(LOGO, data=_logo_form(fx.jpeg())), 401, "unauthenticated")
    await assert_error(await client.delete(LOGO), 401, "unauthenticated")


async def test_a_guest_token_is_no_credential(client):
    tenant, _ = await _admin(client)
    event = await make_event(client.app, tenant["id"])
    headers = bearer(event["guest_token"]) | fx.device()
    await assert_error(await client.get(SETTINGS, headers=headers), 401, "unauthenticated")
    await assert_error(await client.patch(SETTINGS, json={}, headers=headers), 401, "unauthenticated")


async def test_an_accounts_token_of_a_non_admin_is_403(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])  # a 003 personal access token, every ability
    await assert_error(await client.get(SETTINGS, headers=bearer(token)), 403, "not_a_tenant_admin")
    await assert_error(await _patch(client, token, {}), 403, "not_a_tenant_admin")


async def test_writes_need_settings_write_and_reads_tenant_read(client):
    tenant, _ = await _admin(client)
    read_only = tuple(a for a in TENANT_ABILITIES if a != SETTINGS_WRITE)
    _, reader = await make_tenant_admin(client.app, tenant["id"], abilities=read_only)
    _, writer_only = await make_tenant_admin(client.app, tenant["id"], abilities=(SETTINGS_WRITE,))
    assert (await client.get(SETTINGS, headers=bearer(reader))).status == 200
    await assert_error(await _patch(client, reader, {"theme": {"primary_color": "#000"}}), 403, "missing_ability")
    await assert_error(await client.put(SETTINGS, json={}, headers=bearer(reader)), 403, "missing_ability")
    await assert_error(await _upload_logo(client, reader, fx.jpeg()), 403, "missing_ability")
    await assert_error(await client.delete(LOGO, headers=bearer(reader)), 403, "missing_ability")
    await assert_error(await client.get(SETTINGS, headers=bearer(writer_only)), 403, "missing_ability")
    assert (await _patch(client, writer_only, {"theme": {"primary_color": "#000"}})).status == 200


async def test_login_grants_settings_write():
    assert SETTINGS_WRITE in TENANT_ABILITIES and TENANT_READ in TENANT_ABILITIES


async def test_each_tenant_reads_and_writes_its_own(client):
    _, token_a = await _admin(client)
    _, token_b = await _admin(client)
    await _data(await _patch(client, token_a, {"theme": {"primary_color": "#aaaaaa"}, "limits": {"photo_limit": 5}}))
    await _data(await _patch(client, token_b, {"theme": {"primary_color": "#bbbbbb"}}))
    a = await _data(await client.get(SETTINGS, headers=bearer(token_a)))
    b = await _data(await client.get(SETTINGS, headers=bearer(token_b)))
    assert a["theme"]["primary_color"] == "#aaaaaa" and a["limits"]["photo_limit"] == 5
    assert b["theme"]["primary_color"] == "#bbbbbb" and b["limits"]["photo_limit"] is None


async def test_super_admins_read_any_tenants_settings(client):
    tenant, token = await _admin(client)
    await _data(await _patch(client, token, {"theme": {"primary_color": "#0a0b0c"}}))
    admin = await make_user(client.app, admin=True)
    admin_token = await make_token(client.app, admin["id"])
    data = await _data(await client.get(f"/api/v1/tenants/{tenant['id']}/settings", headers=bearer(admin_token)))
    assert data["theme"]["primary_color"] == "#0a0b0c"
    await assert_error(
        await client.get(f"/api/v1/tenants/{tenant['id']}/settings", headers=bearer(token)), 403, "missing_ability"
    )
    plain = await make_token(client.app, (await make_user(client.app))["id"])
    await assert_error(
        await client.get(f"/api/v1/tenants/{tenant['id']}/settings", headers=bearer(plain)), 403, "super_admin_required"
    )
    await assert_error(
        await client.get("/api/v1/tenants/999999999999/settings", headers=bearer(admin_token)), 404, "not_found"
    )


async def test_settings_routes_count_against_the_tenant_budget(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    client = await aiohttp_client(create_app(settings.model_copy(update={"event_tenant_api_per_minute": 2})))
    _, token = await _admin(client)
    resp = await client.get(SETTINGS, headers=bearer(token))
    assert resp.status == 200 and "X-Rate-Limit-Remaining" in resp.headers
    assert (await _patch(client, token, {})).status == 200
    await assert_error(await _patch(client, token, {}), 429, "rate_limited")


# ---- the logo ----


async def test_a_logo_is_stored_reencoded_without_exif_and_served_to_anyone(client):
    _, token = await _admin(client)
    data = await _data(await _upload_logo(client, token, fx.jpeg_with_exif(80, 40)))
    url = data["theme"]["logo_url"]
    app_url = client.app[settings_key].app_url.rstrip("/")
    assert url.startswith(f"{app_url}/storage/logos/") and url.endswith(".jpg")
    served = await client.get(_local(url))  # no credentials: guests' pages show it
    assert served.status == 200 and served.headers["X-Content-Type-Options"] == "nosniff"
    body = await served.read()
    with Image.open(io.BytesIO(body)) as im:
        assert im.format == "JPEG"
        assert im.size == (40, 80)  # the orientation tag was applied to the pixels
        assert len(im.getexif()) == 0 and "exif" not in im.info
    assert b"RoostCam" not in body


async def test_a_large_logo_is_scaled_down(client):
    _, token = await _admin(client)
    data = await _data(await _upload_logo(client, token, fx.png(1200, 300), name="logo.png"))
    served = await client.get(_local(data["theme"]["logo_url"]))
    with Image.open(io.BytesIO(await served.read())) as im:
        assert im.size == (rules.LOGO_LONGEST_SIDE, 128)


async def test_a_new_logo_replaces_and_removes_the_old_file(client):
    _, token = await _admin(client)
    first = (await _data(await _upload_logo(client, token, fx.jpeg())))["theme"]["logo_url"]
    second = (await _data(await _upload_logo(client, token, fx.webp(), name="logo.webp")))["theme"]["logo_url"]
    assert first != second
    assert (await client.get(_local(first))).status == 404
    assert (await client.get(_local(second))).status == 200


async def test_deleting_the_logo_clears_it_and_its_file(client):
    _, token = await _admin(client)
    url = (await _data(await _upload_logo(client, token, fx.jpeg())))["theme"]["logo_url"]
    data = await _data(await client.delete(LOGO, headers=bearer(token)))
    assert data["theme"]["logo_url"] is None
    assert (await client.get(_local(url))).status == 404
    again = await _data(await client.delete(LOGO, headers=bearer(token)))  # idempotent
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
    _, token = await _admin(client)
    error = await assert_error(await _upload_logo(client, token, payload), 422, "invalid_image")
    assert error["meta"]["reason"] == reason
    data = await _data(await client.get(SETTINGS, headers=bearer(token)))
    assert data["theme"]["logo_url"] is None


async def test_a_pixel_bomb_logo_is_refused(client):
    _, token = await _admin(client)
    await assert_error(await _upload_logo(client, token, fx.png_bomb(), name="bomb.png"), 422, "image_too_large_pixels")


async def test_an_oversize_logo_is_413(client):
    _, token = await _admin(client)
    big = b"\xff\xd8\xff\xe0" + b"\0" * rules.MAX_LOGO_BYTES
    error = await assert_error(await _upload_logo(client, token, big), 413, "payload_too_large")
    assert error["meta"]["max_bytes"] == rules.MAX_LOGO_BYTES


async def test_a_logo_upload_needs_the_file_field(client):
    _, token = await _admin(client)
    await assert_error(await _upload_logo(client, token, fx.jpeg(), field="logo"), 422, "validation_failed")
    form = FormData()
    form.add_field("file", "not a file")
    resp = await client.post(LOGO, data=form, headers=bearer(token))
    error = await assert_error(resp, 422, "validation_failed")
    assert "file" in error["meta"]["fields"]
    resp = await client.post(LOGO, json={"file": "x"}, headers=bearer(token))
    await assert_error(resp, 422, "validation_failed")
    await assert_error(await _upload_logo(client, token, b""), 422, "validation_failed")


# ---- what guests and uploads see ----


async def test_the_guest_event_and_gallery_show_the_updated_branding(client):
    tenant, token = await _admin(client)
    event = await make_event(client.app, tenant["id"])
    await _data(
        await _patch(
            client,
            token,
            {
                "theme": {"primary_color": "#0F0", "secondary_color": "#101010", "text_color": "#222"},
                "legal": {"imprint_url": "https://example.com/imprint", "privacy_url": "https://example.com/privacy"},
            },
        )
    )
    logo = (await _data(await _upload_logo(client, token, fx.jpeg())))["theme"]["logo_url"]
    expected_legal = {
        "imprint_url": "https://example.com/imprint",
        "privacy_url": "https://example.com/privacy",
        "terms_url": None,
    }
    for path in (f"/api/v1/events/{event['guest_token']}", f"/api/v1/gallery/{event['guest_token']}"):
        branding = (await _data(await client.get(path)))["branding"]
        assert branding["primary_color"] == "#00ff00" and branding["secondary_color"] == "#101010", path
        assert branding["text_color"] == "#222222" and branding["accent_color"] is None, path
        assert branding["logo_url"] == logo, path
        assert branding["legal"] == expected_legal, path


async def test_guests_see_the_defaults_without_settings(client):
    tenant, _ = await _admin(client, theme={"anything": 1})
    event = await make_event(client.app, tenant["id"])
    branding = (await _data(await client.get(f"/api/v1/events/{event['guest_token']}")))["branding"]
    assert branding["primary_color"] == "#E11D48" and branding["logo_url"] is None
    assert branding["legal"] == {"imprint_url": None, "privacy_url": None, "terms_url": None}


async def test_a_lowered_photo_limit_is_enforced_on_upload(client):
    tenant, token = await _admin(client, photo_limit=100)
    event = await make_event(client.app, tenant["id"])
    await make_photo(client.app, event)
    assert (await fx.ask_upload(client, event, headers=fx.device())).status == 201
    await _data(await _patch(client, token, {"limits": {"photo_limit": 1}}))
    resp = await fx.ask_upload(client, event, headers=fx.device())
    error = await assert_error(resp, 403, "photo_limit_exceeded")
    assert error["meta"]["limit"] == 1 and error["meta"]["used"] == 1
    guest = await _data(await client.get(f"/api/v1/events/{event['guest_token']}"))
    assert guest["limits"] == {"photo_limit": 1, "photos_remaining": 0}


async def test_a_received_upload_cannot_become_a_photo_past_the_lowered_limit(client):
    tenant, token = await _admin(client, photo_limit=100)
    event = await make_event(client.app, tenant["id"])
    headers = fx.device()
    upload_id = await fx.guest_upload(client, event, headers=headers)
    await make_photo(client.app, event)
    await _data(await _patch(client, token, {"limits": {"photo_limit": 1}}))
    resp = await client.post(f"/api/v1/events/{event['guest_token']}/photos", json={"upload_id": upload_id},
                             headers=headers)
    await assert_error(resp, 403, "photo_limit_exceeded")


async def test_a_shorter_gallery_window_closes_the_gallery(client):
    tenant, token = await _admin(client, gallery_days=30)
    ends = datetime.now(UTC) - timedelta(days=5)
    event = await make_event(client.app, tenant["id"], ends_at=ends)
    photo = await make_photo(client.app, event)
    media = f"/storage/events/{photo['web_key']}"
    assert (await client.get(f"/api/v1/gallery/{event['guest_token']}")).status == 200
    assert (await client.get(media)).status == 200
    data = await _data(await _patch(client, token, {"limits": {"gallery_days": 3}}))
    assert data["limits"]["effective"]["gallery_days"] == 3
    await assert_error(await client.get(f"/api/v1/gallery/{event['guest_token']}"), 410, "gallery_expired")
    tenant_view = await _data(await client.get(f"/api/v1/tenant/events/{event['id']}", headers=bearer(token)))
    assert tenant_view["gallery_expires_at"] == (ends + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
