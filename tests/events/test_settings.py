"""001 tenant settings (/api/v1/tenant/settings): theme, limits within the package's and legal
links; validation, who may call and scoping. The logo and what guests and uploads see of the
settings: tests/events/test_settings_logo.py. Every answer is checked against 001's OpenAPI
document by the client (tests/contract_validation.py)."""

from __future__ import annotations

import asyncio

import pytest

from domain import tenant_settings as rules
from domain.tenant_abilities import SETTINGS_WRITE, TENANT_ABILITIES, TENANT_READ
from tests.builders import bearer, make_token, make_user
from tests.event_builders import assert_error, make_event, make_package, make_tenant_admin
from tests.events import photo_fixtures as fx
from tests.events.settings_builders import LOGO, SETTINGS, data_of, logo_form, patch_settings, tenant_admin, upload_logo

# ---- the rules, without HTTP ----


@pytest.mark.parametrize(
    ("given", "stored"),
    [("#ABC", "#aabbcc"), ("#abcdef", "#abcdef"), ("#A1B2C3", "#a1b2c3"), ("#000", "#000000")],
)
def test_hex_colours_are_normalised(given, stored):
    assert rules.normalized_hex(given) == stored


@pytest.mark.parametrize(
    "bad", ["abc", "#abcd", "#ggg", "#12345", "#1234567", "red", "#", " #abc", "#abc ", '#abc"><x>', "＃abc", "#ａｂｃ"]
)
def test_bad_hex_colours_are_refused(bad):
    with pytest.raises(ValueError):
        rules.normalized_hex(bad)


def test_https_urls_are_kept_with_scheme_and_host_lowercased():
    assert rules.checked_https_url("HTTPS://Example.COM/Imprint?x=1#top") == "https://example.com/Imprint?x=1#top"
    assert rules.checked_https_url("https://example.com:8443/p") == "https://example.com:8443/p"
    assert rules.checked_https_url("https://xn--exmple-cua.com/a%20b?q=[1]&r=(2)") == (
        "https://xn--exmple-cua.com/a%20b?q=[1]&r=(2)"
    )


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
        'https://example.com/"><script>alert(1)</script>',
        "https://example.com/'onmouseover='alert(1)",
        "https://example.com/<b>",
        "https://example.com/{x}",
        "https://example.com/%zz",
        "https://example.com/%2",
        "https://example.com%40evil.example/",
        "https://example.com./",
    ],
)
def test_unsafe_legal_urls_are_refused(bad):
    with pytest.raises(ValueError):
        rules.checked_https_url(bad)


# ---- reading and writing ----


async def test_a_new_tenant_reads_its_packages_limits_and_no_choices(client):
    _, token = await tenant_admin(client, photo_limit=200, gallery_days=60, theme={"primary_color": "#112233"})
    data = await data_of(await client.get(SETTINGS, headers=bearer(token)))
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
    tenant, token = await tenant_admin(client, photo_limit=200, gallery_days=60)
    data = await data_of(
        await patch_settings(
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

    data = await data_of(await patch_settings(client, token, {"legal": {"privacy_url": "https://example.com/privacy"}}))
    assert data["legal"] == {
        "imprint_url": "https://example.com/imprint",
        "privacy_url": "https://example.com/privacy",
        "terms_url": None,
    }
    assert data["theme"]["primary_color"] == "#aabbcc" and data["limits"]["photo_limit"] == 50
    stored = await pool.fetchval("select theme from tenants where id = $1", tenant["id"])
    assert stored["primary_color"] == "#aabbcc"


async def test_null_clears_a_value(client):
    _, token = await tenant_admin(client)
    await data_of(await patch_settings(client, token, {"limits": {"gallery_days": 7}, "legal": {"terms_url": "https://a.example/t"}}))
    data = await data_of(
        await patch_settings(client, token, {"theme": {"primary_color": None}, "limits": {"gallery_days": None},
                                     "legal": {"terms_url": None}})
    )
    assert data["theme"]["primary_color"] is None
    assert data["limits"]["gallery_days"] is None and data["limits"]["effective"]["gallery_days"] == 30
    assert data["legal"]["terms_url"] is None


async def test_put_replaces_everything_it_is_given_and_clears_the_rest(client):
    _, token = await tenant_admin(client)
    first = {"theme": {"accent_color": "#010203"}, "limits": {"photo_limit": 10},
             "legal": {"imprint_url": "https://a.example/i"}}
    await data_of(await patch_settings(client, token, first))
    resp = await client.put(SETTINGS, json={"theme": {"primary_color": "#fff"}}, headers=bearer(token))
    data = await data_of(resp)
    assert data["theme"]["primary_color"] == "#ffffff"
    assert data["theme"]["accent_color"] is None and data["theme"]["secondary_color"] is None
    assert data["limits"]["photo_limit"] is None and data["legal"]["imprint_url"] is None


async def test_an_empty_patch_changes_nothing(client):
    _, token = await tenant_admin(client)
    before = await data_of(await client.get(SETTINGS, headers=bearer(token)))
    after = await data_of(await patch_settings(client, token, {}))
    assert after["theme"] == before["theme"] and after["limits"] == before["limits"]


async def test_concurrent_patches_of_different_keys_all_land(client):
    _, token = await tenant_admin(client, photo_limit=100, gallery_days=30)
    bodies = [{"theme": {name: f"#{i:06x}"}} for i, name in enumerate(rules.THEME_COLORS, start=1)]
    bodies += [{"legal": {name: f"https://example.com/{name}"}} for name in rules.LEGAL_LINKS]
    bodies += [{"limits": {"photo_limit": 42}}, {"limits": {"gallery_days": 7}}]
    answers = await asyncio.gather(*(patch_settings(client, token, body) for body in bodies))
    assert [a.status for a in answers] == [200] * len(bodies)
    data = await data_of(await client.get(SETTINGS, headers=bearer(token)))
    assert [data["theme"][name] for name in rules.THEME_COLORS] == [f"#{i:06x}" for i in range(1, 6)]
    assert data["legal"] == {name: f"https://example.com/{name}" for name in rules.LEGAL_LINKS}
    assert (data["limits"]["photo_limit"], data["limits"]["gallery_days"]) == (42, 7)


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
    _, token = await tenant_admin(client)
    before = await data_of(await client.get(SETTINGS, headers=bearer(token)))
    error = await assert_error(await patch_settings(client, token, body), 422, "validation_failed")
    assert field in error["meta"]["fields"], error
    after = await data_of(await client.get(SETTINGS, headers=bearer(token)))
    assert after == before


async def test_a_body_that_is_not_an_object_is_422(client):
    _, token = await tenant_admin(client)
    resp = await client.patch(SETTINGS, json=["theme"], headers=bearer(token))
    await assert_error(resp, 422, "validation_failed")


async def test_a_nul_in_a_value_is_refused(client):
    _, token = await tenant_admin(client)
    resp = await patch_settings(client, token, {"legal": {"imprint_url": "https://example.com/\u0000"}})
    assert resp.status == 422


@pytest.mark.parametrize(("name", "bound"), [("photo_limit", 100), ("gallery_days", 30)])
async def test_a_limit_above_the_package_is_422_naming_the_bound(client, name, bound):
    _, token = await tenant_admin(client, photo_limit=100, gallery_days=30)
    error = await assert_error(
        await patch_settings(client, token, {"limits": {name: bound + 1}, "legal": {"imprint_url": "https://a.example/i"}}),
        422,
        "limit_above_package",
    )
    assert error["meta"]["field"] == name and error["meta"]["package_limit"] == bound
    assert error["meta"]["value"] == bound + 1 and f"limits.{name}" in error["meta"]["fields"]
    data = await data_of(await client.get(SETTINGS, headers=bearer(token)))
    assert data["limits"][name] is None and data["legal"]["imprint_url"] is None  # nothing half-written
    assert (await patch_settings(client, token, {"limits": {name: bound}})).status == 200  # the bound itself is allowed


async def test_the_limit_message_is_localized(client):
    _, token = await tenant_admin(client, photo_limit=100)
    resp = await client.patch(SETTINGS, json={"limits": {"photo_limit": 101}},
                              headers=bearer(token) | {"Accept-Language": "de"})
    error = await assert_error(resp, 422, "limit_above_package")
    assert "100" in error["message"] and resp.headers["Content-Language"] == "de"


async def test_a_package_downgrade_below_the_choice_wins(client, pool):
    tenant, token = await tenant_admin(client, photo_limit=100)
    await data_of(await patch_settings(client, token, {"limits": {"photo_limit": 80}}))
    smaller = await make_package(client.app, photo_limit=20)
    await pool.execute("update tenants set package_id = $2 where id = $1", tenant["id"], smaller["id"])
    data = await data_of(await client.get(SETTINGS, headers=bearer(token)))
    assert data["limits"]["photo_limit"] == 80 and data["limits"]["effective"]["photo_limit"] == 20
    event = await make_event(client.app, tenant["id"])
    guest = await data_of(await client.get(f"/api/v1/events/{event['guest_token']}"))
    assert guest["limits"]["photo_limit"] == 20


# ---- who may call ----


async def test_without_a_token_it_is_401(client):
    await assert_error(await client.get(SETTINGS), 401, "unauthenticated")
    await assert_error(await client.patch(SETTINGS, json={}), 401, "unauthenticated")
    await assert_error(await client.post(LOGO, data=logo_form(fx.jpeg())), 401, "unauthenticated")
    await assert_error(await client.delete(LOGO), 401, "unauthenticated")


async def test_a_guest_token_is_no_credential(client):
    tenant, _ = await tenant_admin(client)
    event = await make_event(client.app, tenant["id"])
    headers = bearer(event["guest_token"]) | fx.device()
    await assert_error(await client.get(SETTINGS, headers=headers), 401, "unauthenticated")
    await assert_error(await client.patch(SETTINGS, json={}, headers=headers), 401, "unauthenticated")


async def test_an_accounts_token_of_a_non_admin_is_403(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])  # a 003 personal access token, every ability
    await assert_error(await client.get(SETTINGS, headers=bearer(token)), 403, "not_a_tenant_admin")
    await assert_error(await patch_settings(client, token, {}), 403, "not_a_tenant_admin")


async def test_writes_need_settings_write_and_reads_tenant_read(client):
    tenant, _ = await tenant_admin(client)
    read_only = tuple(a for a in TENANT_ABILITIES if a != SETTINGS_WRITE)
    _, reader = await make_tenant_admin(client.app, tenant["id"], abilities=read_only)
    _, writer_only = await make_tenant_admin(client.app, tenant["id"], abilities=(SETTINGS_WRITE,))
    assert (await client.get(SETTINGS, headers=bearer(reader))).status == 200
    black = {"theme": {"primary_color": "#000"}}
    await assert_error(await patch_settings(client, reader, black), 403, "missing_ability")
    await assert_error(await client.put(SETTINGS, json={}, headers=bearer(reader)), 403, "missing_ability")
    await assert_error(await upload_logo(client, reader, fx.jpeg()), 403, "missing_ability")
    await assert_error(await client.delete(LOGO, headers=bearer(reader)), 403, "missing_ability")
    await assert_error(await client.get(SETTINGS, headers=bearer(writer_only)), 403, "missing_ability")
    assert (await patch_settings(client, writer_only, {"theme": {"primary_color": "#000"}})).status == 200


async def test_login_grants_settings_write():
    assert SETTINGS_WRITE in TENANT_ABILITIES and TENANT_READ in TENANT_ABILITIES


async def test_each_tenant_reads_and_writes_its_own(client):
    _, token_a = await tenant_admin(client)
    _, token_b = await tenant_admin(client)
    grey = {"theme": {"primary_color": "#aaaaaa"}, "limits": {"photo_limit": 5}}
    await data_of(await patch_settings(client, token_a, grey))
    await data_of(await patch_settings(client, token_b, {"theme": {"primary_color": "#bbbbbb"}}))
    a = await data_of(await client.get(SETTINGS, headers=bearer(token_a)))
    b = await data_of(await client.get(SETTINGS, headers=bearer(token_b)))
    assert a["theme"]["primary_color"] == "#aaaaaa" and a["limits"]["photo_limit"] == 5
    assert b["theme"]["primary_color"] == "#bbbbbb" and b["limits"]["photo_limit"] is None


async def test_super_admins_read_any_tenants_settings(client):
    tenant, token = await tenant_admin(client)
    await data_of(await patch_settings(client, token, {"theme": {"primary_color": "#0a0b0c"}}))
    admin = await make_user(client.app, admin=True)
    admin_token = await make_token(client.app, admin["id"])
    data = await data_of(await client.get(f"/api/v1/tenants/{tenant['id']}/settings", headers=bearer(admin_token)))
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
    _, token = await tenant_admin(client)
    resp = await client.get(SETTINGS, headers=bearer(token))
    assert resp.status == 200 and "X-Rate-Limit-Remaining" in resp.headers
    assert (await patch_settings(client, token, {})).status == 200
    await assert_error(await patch_settings(client, token, {}), 429, "rate_limited")
