"""Browser sessions: POST /login (JSON and form), POST /logout, and the XSRF proof they rely on."""

from __future__ import annotations

import re
import uuid

import orjson
import pytest

from domain.tokens import sha256_hex
from gateway.app import create_app
from gateway.kernel.auth.sessions import TOUCH_EVERY_S
from gateway.kernel.keys import accounts_key, redis_key, settings_key
from tests.builders import DEFAULT_PASSWORD, make_user, unique_email
from tests.clock import FakeClock
from tests.web.session_helpers import forget_cookies, sign_in, signed_in_user

FORM = {"Accept": "text/html"}
BAD = "These credentials do not match our records."


def hidden_token(html: str) -> str:
    match = re.search(r'name="_token" value="([^"]+)"', html)
    assert match, "no _token field in the page"
    return match.group(1)


# -- JSON sign-in ------------------------------------------------------------------------------


async def test_json_sign_in_sets_both_cookies_and_answers_the_user(client):
    user = await make_user(client.app, name="Mai")
    resp = await client.post("/login", json={"email": user["email"].upper(), "password": DEFAULT_PASSWORD})
    assert resp.status == 200
    body = await resp.json()
    assert body["success"] is True and body["status"] == "success" and body["code"] == 200
    assert body["data"]["user"]["id"] == user["id"]
    assert body["data"]["user"]["email"] == user["email"]
    assert body["data"]["user"]["name"] == "Mai"
    assert "password" not in str(body["data"]["user"].keys())

    session, xsrf = resp.cookies["roost_session"], resp.cookies["XSRF-TOKEN"]
    assert session["httponly"] is True and session["path"] == "/" and session["samesite"] == "Lax"
    assert not xsrf["httponly"]
    assert session.value != xsrf.value

    forget_cookies(client)
    me = await client.get("/api/users/me", cookies={"roost_session": session.value})
    assert me.status == 200
    assert (await me.json())["data"]["id"] == user["id"]


@pytest.mark.parametrize("password", ["wrong-password", DEFAULT_PASSWORD.upper()])
async def test_json_wrong_password_is_401(client, password):
    user = await make_user(client.app)
    resp = await client.post("/login", json={"email": user["email"], "password": password})
    assert resp.status == 401
    body = await resp.json()
    assert body["success"] is False and body["data"] is None
    assert body["message"] == BAD and body["error"] == BAD
    assert "roost_session" not in resp.cookies


async def test_json_unknown_email_and_inactive_user_are_401(client):
    resp = await client.post("/login", json={"email": unique_email(), "password": DEFAULT_PASSWORD})
    assert resp.status == 401 and (await resp.json())["message"] == BAD

    user = await make_user(client.app)
    await client.app[accounts_key].update_user(user["id"], {"is_active": False})
    resp = await client.post("/login", json={"email": user["email"], "password": DEFAULT_PASSWORD})
    assert resp.status == 401


async def test_json_sign_in_validation(client):
    resp = await client.post("/login", json={})
    assert resp.status == 422
    body = await resp.json()
    assert body["errors"] == {
        "email": ["The email field is required."],
        "password": ["The password field is required."],
    }
    resp = await client.post("/login", json={"email": "a@b.test", "password": "x" * 2000})
    assert resp.status == 422 and "password" in (await resp.json())["errors"]
    resp = await client.post("/login", json=["not", "an", "object"])
    assert resp.status == 422
    resp = await client.post("/login", data=b"{", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    resp = await client.post("/login", data=b"email=x", headers={"Content-Type": "text/plain"})
    assert resp.status == 415


async def test_form_post_asking_for_json_gets_json(client):
    user = await make_user(client.app)
    resp = await client.post(
        "/login",
        data={"email": user["email"], "password": DEFAULT_PASSWORD},
        headers={"Accept": "application/json"},
        allow_redirects=False,
    )
    assert resp.status == 200
    assert (await resp.json())["data"]["user"]["id"] == user["id"]


async def test_sign_in_replaces_the_previous_session(client):
    signed = await signed_in_user(client)
    resp = await client.post(
        "/login",
        json={"email": signed.user["email"], "password": DEFAULT_PASSWORD},
        cookies=signed.cookies,
        headers=signed.headers,
    )
    assert resp.status == 200
    new_session = resp.cookies["roost_session"].value
    assert new_session != signed.session_id
    forget_cookies(client)
    assert (await client.get("/api/users/me", cookies={"roost_session": signed.session_id})).status == 401
    assert (await client.get("/api/users/me", cookies={"roost_session": new_session})).status == 200


async def test_sign_in_is_throttled(aiohttp_client, settings, ray_session):
    # Counts of its own (other tests sign in from 127.0.0.1 too), in one fixed window of a fake clock.
    isolated = settings.model_copy(update={"throttle_auth_per_minute": 2, "redis_prefix": f"t-{uuid.uuid4().hex[:8]}"})
    limited = await aiohttp_client(create_app(isolated, clock=FakeClock()))
    email = unique_email()
    for _ in range(2):
        resp = await limited.post("/login", json={"email": email, "password": "nope"})
        assert resp.status == 401
    resp = await limited.post("/login", json={"email": email, "password": "nope"})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    body = await resp.json()
    assert body["success"] is False and body["code"] == 429
    # a browser form gets the sign-in page with the message, still a 429
    resp = await limited.post("/login", data={"email": email, "password": "nope"}, headers=FORM)
    assert resp.status == 429 and resp.content_type == "text/html"
    assert "Retry-After" in resp.headers


# -- the HTML form ---------------------------------------------------------------------------------


async def test_login_page_is_a_plain_form(client):
    resp = await client.get("/login?next=/developer%3Ftab%3D1")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    assert '<form method="post" action="/login">' in html
    assert 'name="email"' in html and 'name="password"' in html
    assert 'name="next" value="/developer?tab=1"' in html
    assert "http://" not in html and "https://" not in html  # no external assets
    csp = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<style nonce="{nonce}">' in html
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["Cache-Control"] == "no-store"


async def test_form_sign_in_redirects_to_next(client):
    user = await make_user(client.app)
    form = {"email": user["email"], "password": DEFAULT_PASSWORD}
    resp = await client.post("/login", data=form, headers=FORM, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/developer"
    assert resp.cookies["roost_session"]["httponly"] is True

    # signed in now: another sign-in from this browser is a session request and needs the proof
    xsrf = resp.cookies["XSRF-TOKEN"].value
    resp = await client.post("/login", data=form, headers=FORM, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post(
        "/login", data={**form, "next": "/api/users/me", "_token": xsrf}, headers=FORM, allow_redirects=False
    )
    assert resp.status == 302 and resp.headers["Location"] == "/api/users/me"
    forget_cookies(client)
    resp = await client.post("/login?next=/developer%3Fx%3D1", data=form, headers=FORM, allow_redirects=False)
    assert resp.headers["Location"] == "/developer?x=1"


@pytest.mark.parametrize(
    "next_url",
    ["//evil.test/x", "https://evil.test/", "/\\evil.test", "javascript:alert(1)", "developer", "/dev\nx", "/é"],
)
async def test_form_sign_in_never_redirects_off_site(client, next_url):
    user = await make_user(client.app)
    form = {"email": user["email"], "password": DEFAULT_PASSWORD, "next": next_url}
    resp = await client.post("/login", data=form, headers=FORM, allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == "/developer"


async def test_form_wrong_password_re_renders_the_page(client):
    email = f"<b>{unique_email()}"
    resp = await client.post(
        "/login", data={"email": email, "password": "nope", "next": "/developer"}, headers=FORM, allow_redirects=False
    )
    assert resp.status == 401 and resp.content_type == "text/html"
    html = await resp.text()
    assert BAD in html
    assert "&lt;b&gt;" in html and "<b>" not in html  # the typed email comes back, escaped
    assert "roost_session" not in resp.cookies

    resp = await client.post("/login", data={"email": "", "password": ""}, headers=FORM)
    assert resp.status == 422
    assert "The email field is required." in await resp.text()


async def test_login_page_sends_a_signed_in_person_on(client):
    signed = await signed_in_user(client)
    resp = await client.get("/login?next=/api/users/me", cookies=signed.cookies, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/api/users/me"


# -- XSRF --------------------------------------------------------------------------------------------


async def test_state_changing_session_requests_need_the_xsrf_proof(client):
    signed = await signed_in_user(client)
    body = {"name": "cli"}
    missing = await client.post("/api/user/api-tokens", json=body, cookies=signed.cookies)
    assert missing.status == 403
    assert (await missing.json())["message"] == "CSRF token mismatch."
    wrong = await client.post("/api/user/api-tokens", json=body, cookies=signed.cookies, headers={"X-XSRF-TOKEN": "x"})
    assert wrong.status == 403
    # not ASCII once URL-decoded: still just a mismatch, never a server error
    odd = await client.post(
        "/api/user/api-tokens", json=body, cookies=signed.cookies, headers={"X-XSRF-TOKEN": "%C3%A9"}
    )
    assert odd.status == 403
    ok = await client.post("/api/user/api-tokens", json=body, cookies=signed.cookies, headers=signed.headers)
    assert ok.status == 201
    # reads need no proof
    assert (await client.get("/api/user/api-tokens", cookies=signed.cookies)).status == 200


async def test_form_token_field_is_an_xsrf_proof(client):
    signed = await signed_in_user(client)
    wrong = await client.post("/logout", data={"_token": "nope"}, cookies=signed.cookies, headers=FORM)
    assert wrong.status == 403
    assert (await wrong.json())["message"] == "CSRF token mismatch."
    # the field is only read from form bodies, not JSON
    as_json = await client.post("/logout", json={"_token": signed.xsrf}, cookies=signed.cookies)
    assert as_json.status == 403
    assert (await client.get("/api/users/me", cookies=signed.cookies)).status == 200

    ok = await client.post(
        "/logout", data={"_token": signed.xsrf}, cookies=signed.cookies, headers=FORM, allow_redirects=False
    )
    assert ok.status == 302 and ok.headers["Location"] == "/login"
    forget_cookies(client)
    assert (await client.get("/api/users/me", cookies=signed.cookies)).status == 401


async def test_form_token_works_with_multipart_and_the_handler_still_reads_the_body(client):
    signed = await signed_in_user(client)
    from aiohttp import FormData

    form = FormData()
    form.add_field("_token", signed.xsrf)
    form.add_field("name", "from-a-form")
    resp = await client.post(
        "/api/user/api-tokens", data=form, cookies=signed.cookies, headers={"Accept": "application/json"}
    )
    assert resp.status == 201
    assert (await resp.json())["data"]["token"]["name"] == "from-a-form"


# -- logout ------------------------------------------------------------------------------------------


async def test_json_logout_ends_the_session(client):
    signed = await signed_in_user(client)
    resp = await client.post("/logout", cookies=signed.cookies, headers=signed.headers)
    assert resp.status == 200
    body = await resp.json()
    assert body["success"] is True and body["message"] == "Logged out"
    cleared = resp.cookies["roost_session"]
    assert cleared.value == "" and cleared["max-age"] == "0"
    assert resp.cookies["XSRF-TOKEN"].value == ""
    forget_cookies(client)
    me = await client.get("/api/users/me", cookies=signed.cookies)
    assert me.status == 401
    assert (await me.json())["message"] == "Unauthenticated."


async def test_logout_without_the_proof_keeps_the_session(client):
    signed = await signed_in_user(client)
    resp = await client.post("/logout", cookies=signed.cookies)
    assert resp.status == 403
    assert (await client.get("/api/users/me", cookies=signed.cookies)).status == 200


async def test_logout_without_a_session_is_harmless(client):
    forget_cookies(client)
    resp = await client.post("/logout")
    assert resp.status == 200
    resp = await client.post("/logout", data={"x": "1"}, headers=FORM, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/login"


async def test_full_html_flow(client):
    """A browser with a cookie jar: sign-in page, form post, developer page, sign-out form."""
    user = await make_user(client.app)
    forget_cookies(client)
    page = await client.get("/login?next=/developer")
    assert page.status == 200
    resp = await client.post(
        "/login", data={"email": user["email"], "password": DEFAULT_PASSWORD, "next": "/developer"}, headers=FORM
    )
    # followed the 302 with the jar's cookies
    assert resp.status == 200 and str(resp.url).endswith("/developer")
    html = await resp.text()
    token = hidden_token(html)
    out = await client.post("/logout", data={"_token": token}, headers=FORM)
    assert str(out.url).endswith("/login") and out.status == 200
    again = await client.get("/developer", allow_redirects=False)
    assert again.status == 302 and again.headers["Location"] == "/login?next=/developer"


async def test_the_session_helper_returns_working_credentials(client):
    signed = await sign_in(client, (await make_user(client.app, password="Another-pass-1"))["email"], "Another-pass-1")
    assert (await client.get("/api/users/me", cookies=signed.cookies)).status == 200
    assert signed.headers == {"X-XSRF-TOKEN": signed.xsrf}


async def test_signing_a_user_out_everywhere_reads_only_their_session_index(client):
    """destroy_all_for_user goes through the user's own index (no SCAN over every session): the
    user's other sessions end, the kept one and other users' sessions stay, and the index
    follows single sign-outs too."""
    from gateway.kernel.auth.sessions import _user_key
    from gateway.kernel.keys import redis_key, sessions_key, settings_key

    store = client.app[sessions_key]
    redis = client.app[redis_key]
    mine = await signed_in_user(client)
    other_browser = await sign_in(client, mine.user["email"])
    third_browser = await sign_in(client, mine.user["email"])
    theirs = await signed_in_user(client)
    index = _user_key(client.app[settings_key].redis_prefix, mine.user["id"])
    assert await redis.scard(index) == 3
    assert 0 < await redis.ttl(index) <= 2 * 60 * 60

    await store.destroy(third_browser.session_id)
    assert await redis.scard(index) == 2
    assert await store.destroy_all_for_user(mine.user["id"], keep_session_id=mine.session_id) == 1

    assert await store.load(other_browser.session_id) is None
    assert await store.load(mine.session_id) is not None
    assert await store.load(theirs.session_id) is not None
    assert await redis.scard(index) == 1


async def test_a_session_in_use_is_touched_once_a_minute_at_most(aiohttp_client, settings, ray_session):
    clock = FakeClock()
    app = await aiohttp_client(create_app(settings, clock=clock))
    signed = await signed_in_user(app)
    forget_cookies(app)
    redis, prefix = app.app[redis_key], app.app[settings_key].redis_prefix
    key = f"{prefix}:session:{sha256_hex(signed.session_id)}"

    async def touched_at() -> float:
        return orjson.loads(await redis.get(key))["t"]

    assert await touched_at() == clock.time()
    signed_in_at = clock.time()
    clock.advance(TOUCH_EVERY_S)
    assert (await app.get("/api/users/me", cookies=signed.cookies)).status == 200
    assert await touched_at() == signed_in_at  # not yet: at most once a minute
    clock.advance(1)
    assert (await app.get("/api/users/me", cookies=signed.cookies)).status == 200
    assert await touched_at() == signed_in_at + TOUCH_EVERY_S + 1


async def test_a_form_that_cannot_be_parsed_is_no_xsrf_proof(client):
    # a part header aiohttp refuses (a control character in the field name) proves nothing: 403, not a 500
    signed = await signed_in_user(client)
    body = b'--x\r\nContent-Disposition: form-data; name="\x0b"\r\n\r\n1\r\n--x--\r\n'
    headers = {"Content-Type": "multipart/form-data; boundary=x"}
    resp = await client.post("/api/user/api-tokens", data=body, cookies=signed.cookies, headers=headers)
    assert resp.status == 403
    assert (await resp.json())["message"] == "CSRF token mismatch."
