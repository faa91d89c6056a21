"""Issue 9, media and leaks, each test written as the attack: event photos that guests must not
see any more (rejected, pending, expired, originals), version banners, a public /metrics, account
enumeration on verify/send and tenant login, avatar metadata, plaintext one-time links in the log
mailer's outbox, and the multipart XSRF token."""

from __future__ import annotations

import asyncio
import io
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import FormData
from PIL import Image

from domain import media_access
from domain.errors import NotFound
from domain.media_access import check_tenant_link, tenant_token
from gateway.kernel.keys import jobs_key, media_visibility_key, pool_key
from tests.accounts.account_helpers import auth, register
from tests.builders import DEFAULT_PASSWORD, bearer, make_user, sha256_hex, unique_email
from tests.event_builders import make_event, make_package, make_photo, make_tenant, make_tenant_admin
from tests.events import photo_fixtures as fx
from tests.smtp_inbox import free_port
from tests.web.session_helpers import signed_in_user

JSON_ACCEPT = {"Accept": "application/json"}


def _storage(key: str) -> str:
    return f"/storage/events/{key}"


def _path(url: str) -> str:
    return urlsplit(url).path


async def _tenant_event(client, *, gallery_days: int = 30, **fields):
    package = await make_package(client.app, gallery_days=gallery_days)
    tenant = await make_tenant(client.app, package=package["slug"])
    _, token = await make_tenant_admin(client.app, tenant["id"])
    return await make_event(client.app, tenant["id"], **fields), token


class SteppedClock:
    """The visibility cache's clock, moved by hand (another gateway's decision shows after the TTL)."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


# -- event media --------------------------------------------------------------------------------


async def test_a_rejected_photo_is_no_longer_served_to_guests(client):
    event, token = await _tenant_event(client, moderation="manual")
    photo = await make_photo(client.app, event)
    served = await client.get(_storage(photo["web_key"]))
    assert served.status == 200
    # a guest's CDN may not keep it for a day: short, and revalidated
    assert served.headers["Cache-Control"] == "public, max-age=60, must-revalidate"

    resp = await client.post(f"/api/v1/tenant/photos/{photo['id']}/reject", headers=bearer(token))
    assert resp.status == 200
    for key in (photo["web_key"], photo["thumb_key"]):
        assert (await client.get(_storage(key))).status == 404


async def test_a_rejection_on_another_gateway_shows_within_the_cache_ttl(client):
    event, _ = await _tenant_event(client)
    photo = await make_photo(client.app, event)
    cache = client.app[media_visibility_key]
    clock = cache.clock = SteppedClock()
    assert (await client.get(_storage(photo["thumb_key"]))).status == 200
    await client.app[pool_key].execute("update photos set moderation = 'rejected' where id = $1", photo["id"])
    clock.now += media_access.VISIBILITY_TTL_S + 0.1
    assert (await client.get(_storage(photo["thumb_key"]))).status == 404


async def test_pending_failed_and_unprocessed_photos_are_not_served(client):
    event, _ = await _tenant_event(client, moderation="manual")
    waiting = await make_photo(client.app, event, approved=False)
    processing = await make_photo(client.app, event, approved=True, status="pending")
    failed = await make_photo(client.app, event, approved=False, status="failed")
    for photo in (waiting, processing, failed):
        for key in (photo["web_key"], photo["thumb_key"]):
            assert (await client.get(_storage(key))).status == 404, (photo["id"], key)


async def test_originals_and_raw_uploads_are_never_served_from_storage(client):
    event, _ = await _tenant_event(client)
    photo = await make_photo(client.app, event)
    assert (await client.get(_storage(photo["web_key"]))).status == 200
    assert (await client.get(_storage(photo["original_key"]))).status == 404
    base = photo["web_key"].rsplit("/", 1)[0]
    for guess in (f"{base}/original.jpg", f"{base}/../{base}/original.jpg", f"{event['id']}/uploads/x",
                  f"{base}/web.jpg/", f"{base}/WEB.JPG", "avatars/../events/" + photo["web_key"]):
        assert (await client.get(_storage(guess))).status == 404, guess


async def test_an_expired_gallery_stops_serving_its_photos(client):
    event, _ = await _tenant_event(client, gallery_days=1, ends_at=datetime.now(UTC) - timedelta(days=2))
    photo = await make_photo(client.app, event)
    resp = await client.get(_storage(photo["web_key"]))
    assert resp.status == 410


async def test_a_deleted_event_serves_nothing(client):
    event, token = await _tenant_event(client)
    photo = await make_photo(client.app, event)
    assert (await client.get(_storage(photo["web_key"]))).status == 200
    assert (await client.delete(f"/api/v1/tenant/events/{event['id']}", headers=bearer(token))).status == 204
    assert (await client.get(_storage(photo["web_key"]))).status == 404


async def test_tenants_still_see_pending_and_rejected_photos_through_their_links(client):
    event, token = await _tenant_event(client, moderation="manual")
    waiting = await make_photo(client.app, event, approved=False)
    rejected = await make_photo(client.app, event)
    await client.post(f"/api/v1/tenant/photos/{rejected['id']}/reject", headers=bearer(token))
    resp = await client.get(f"/api/v1/tenant/events/{event['id']}/photos", headers=bearer(token))
    assert resp.status == 200
    listed = {p["id"]: p for p in (await resp.json())["data"]}
    for photo in (waiting, rejected):
        for field in ("url", "thumbnail_url", "original_url"):
            link = listed[photo["id"]][field]
            assert "/storage/" not in link
            got = await client.get(_path(link))  # no bearer: the link itself is the credential
            assert got.status == 200, (field, await got.text())
            assert got.headers["Cache-Control"].startswith("private, max-age=")
    # a link edited to name another key, or with a forged signature, is refused
    link = _path(listed[waiting["id"]]["url"])
    assert (await client.get(link.replace("/web.jpg", "/original.jpg"))).status == 404
    token_part = link.split("/")[5]
    forged = link.replace(token_part, token_part[:-1] + ("0" if token_part[-1] != "0" else "1"))
    assert (await client.get(forged)).status == 404


def test_tenant_links_expire():
    key = "1/2-0123456789abcdef/original.jpg"
    now = 1_700_000_000.0
    token = tenant_token("k" * 32, key, now)
    assert check_tenant_link("k" * 32, token, key, now + media_access.TENANT_LINK_TTL_S) > now
    past_the_last_step = now + media_access.TENANT_LINK_TTL_S + media_access.TENANT_LINK_STEP_S + 1
    with pytest.raises(NotFound):
        check_tenant_link("k" * 32, token, key, past_the_last_step)
    with pytest.raises(NotFound):
        check_tenant_link("another-key" * 3, token, key, now)


# -- version banner and /metrics ------------------------------------------------------------------


async def test_no_versions_in_the_server_header(client):
    for path in ("/api/ping", "/no-such-route", "/metrics"):
        resp = await client.get(path)
        assert resp.headers["Server"] == "roost", path
    # aiohttp's own answer to a broken request never reaches our middleware
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    await writer.drain()
    head = (await reader.read(4096)).decode("latin-1")
    writer.close()
    assert " 400 " in head.split("\r\n", 1)[0] and "\r\nServer: roost\r\n" in head and "aiohttp" not in head


async def _app_client(aiohttp_client, settings, **update):
    from gateway.app import create_app

    return await aiohttp_client(create_app(settings.model_copy(update=update)))


async def test_metrics_are_not_public_in_production(aiohttp_client, settings, ray_session):
    client = await _app_client(aiohttp_client, settings, app_env="production")
    assert (await client.get("/api/ping")).status == 200
    assert (await client.get("/metrics")).status == 404


async def test_metrics_need_the_bearer_token_when_one_is_set(aiohttp_client, settings, ray_session):
    client = await _app_client(aiohttp_client, settings, app_env="production", metrics_token="scrape-" + "s" * 32)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer scrape-" + "s" * 31},
                    {"Authorization": "Basic " + "s" * 32}, {"Authorization": "Bearer ²|x"}):
        assert (await client.get("/metrics", headers=headers)).status == 404, headers
    resp = await client.get("/metrics", headers={"Authorization": "Bearer scrape-" + "s" * 32})
    assert resp.status == 200 and "http_requests_total" in await resp.text()


async def test_metrics_port_serves_them_apart_from_the_public_port(aiohttp_client, settings, ray_session):
    port = free_port()
    client = await _app_client(aiohttp_client, settings, metrics_port=port, metrics_token="t" * 24)
    assert (await client.get("/metrics", headers={"Authorization": "Bearer " + "t" * 24})).status == 404
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
            assert resp.status == 404
        scraper = {"Authorization": "Bearer " + "t" * 24}
        async with session.get(f"http://127.0.0.1:{port}/metrics", headers=scraper) as resp:
            assert resp.status == 200 and "process_cpu_seconds_total" in await resp.text()
        async with session.get(f"http://127.0.0.1:{port}/api/ping") as resp:
            assert resp.status == 404  # only /metrics lives there


# -- account enumeration ----------------------------------------------------------------------------


async def test_verify_send_does_not_tell_which_addresses_have_accounts(client):
    unverified = await make_user(client.app)
    verified = await make_user(client.app, verified=True)
    answers = []
    for email in (unique_email("nobody"), unverified["email"], verified["email"]):
        resp = await client.post("/api/auth/verify/send", json={"email": email}, headers={"Accept": "application/json"})
        body = await resp.json()
        answers.append((resp.status, body["message"], body["data"], body["success"]))
    assert answers == [(200, "Verification email sent", None, True)] * 3
    async with client.app[pool_key].acquire() as conn:
        mailed = await conn.fetch(
            "select payload->>'to' as to from jobs where kind = 'mail.send' and payload->>'to' = any($1::text[])",
            [unverified["email"], verified["email"]],
        )
    assert [r["to"] for r in mailed] == [unverified["email"]]  # mail only where there is something to verify


async def test_tenant_login_does_not_confirm_a_guessed_password(client):
    not_admin = await make_user(client.app)
    errors = []
    for email, password in ((not_admin["email"], DEFAULT_PASSWORD), (not_admin["email"], "wrong"),
                            (unique_email("nobody"), DEFAULT_PASSWORD)):
        resp = await client.post("/api/v1/tenant-auth/login", json={"email": email, "password": password})
        errors.append((resp.status, await resp.json()))
    assert errors[0] == errors[1] == errors[2]
    assert errors[0][0] == 401 and errors[0][1]["error"]["code"] == "invalid_credentials"


# -- avatars ------------------------------------------------------------------------------------------


async def test_an_avatar_is_stored_without_its_exif_and_gps(client, settings):
    reg = await register(client)
    form = FormData()
    form.add_field("avatar", fx.jpeg_with_exif(80, 40), filename="me.jpg", content_type="image/jpeg")
    resp = await client.post("/api/user/avatar", headers=auth(reg["token"]), data=form)
    assert resp.status == 200, await resp.text()
    stored = await (await client.get(_path((await resp.json())["data"]["avatar_url"]))).read()
    im = Image.open(io.BytesIO(stored))
    assert len(im.getexif()) == 0 and b"RoostCam" not in stored and b"Exif" not in stored
    assert im.size == (40, 80)  # the orientation tag was applied to the pixels, then dropped


# -- XSRF token in a multipart form -----------------------------------------------------------------------


async def test_a_browser_session_uploads_an_avatar_with_the_token_in_the_form(client):
    browser = await signed_in_user(client)
    form = FormData()
    form.add_field("_token", browser.xsrf)
    form.add_field("avatar", fx.png(), filename="me.png", content_type="image/png")
    resp = await client.post("/api/user/avatar", cookies=browser.cookies, data=form, headers=JSON_ACCEPT)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["data"]["avatar_url"].endswith(".jpg")
    # and without the token it is still refused
    form = FormData()
    form.add_field("avatar", fx.png(), filename="me.png", content_type="image/png")
    resp = await client.post("/api/user/avatar", cookies=browser.cookies, data=form, headers=JSON_ACCEPT)
    assert resp.status == 403


# -- the log mailer's outbox ------------------------------------------------------------------------------


async def test_the_log_outbox_holds_no_working_reset_link(client):
    user = await make_user(client.app)
    assert (await client.post("/api/auth/password/forgot", json={"email": user["email"]})).status == 200
    async with client.app[pool_key].acquire() as conn:
        job_id = await conn.fetchval(
            "select id from jobs where kind = 'mail.send' and payload->>'to' = $1 order by id desc limit 1",
            user["email"],
        )
    assert (await client.app[jobs_key].wait(job_id, 30)).status == "finished"
    async with client.app[pool_key].acquire() as conn:
        text = await conn.fetchval("select body_text from mail_outbox where to_address = $1", user["email"])
    # what someone reading the table (or a backup of it) would try
    [token] = re.findall(r"token=([^&\s]+)", text)
    new = sha256_hex("Stolen-Account-42")
    resp = await client.post("/api/auth/password/reset", json={
        "email": user["email"], "token": token, "password_hash": new, "password_hash_confirmation": new})
    assert resp.status == 422
