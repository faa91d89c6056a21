"""003: Google sign-in on /api against a local server speaking Google's OAuth protocol."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from domain.errors import BadRequest
from domain.oauth import GoogleOAuth
from gateway.app import create_app
from gateway.kernel.keys import accounts_key, pool_key
from tests.builders import DEFAULT_PASSWORD, bearer, make_token, make_user, sha256_hex, unique_email
from tests.oauth_fakes import (
    WHOAMI_PATH,
    FakeGoogle,
    add_whoami,
    google_profile,
    location_path,
    settings_for,
)

JSON = {"Accept": "application/json"}
USER_KEYS = {
    "id", "username", "first_name", "last_name", "name", "email", "avatar", "email_verified_at",
    "provider_name", "is_premium", "created_at", "updated_at",
}


@pytest.fixture
async def api(aiohttp_client, settings, ray_session, fake_google, fake_github):
    return await aiohttp_client(create_app(settings_for(settings, fake_google, fake_github), add_routes=add_whoami))


def assert_success(body: dict, message: str) -> None:
    assert body["success"] is True and body["status"] == "success"
    assert body["code"] == 200
    assert body["message"] == message


def assert_error(body: dict, status: int, message: str | None = None) -> None:
    assert body["success"] is False and body["status"] == "error"
    assert body["code"] == status
    if message is not None:
        assert body["message"] == message


async def whoami(api, **headers) -> int | None:
    resp = await api.get("/api" + WHOAMI_PATH, headers=headers)
    assert resp.status == 200
    return (await resp.json())["user_id"]


async def start_login(api, fake: FakeGoogle, profile: dict) -> str:
    """Redirect → consent at the fake → the callback path Google sends the browser back to."""
    resp = await api.get("/api/auth/google/redirect", allow_redirects=False)
    assert resp.status == 302
    fake.consenting = profile
    return location_path(await fake.consent(resp.headers["Location"]))


async def provider_rows(api, user_id: int) -> list[dict]:
    async with api.app[pool_key].acquire() as conn:
        rows = await conn.fetch("select * from user_providers where user_id = $1 order by provider", user_id)
    return [dict(r) for r in rows]


async def test_browser_flow_creates_user_sets_cookie_and_redirects(api, fake_google):
    resp = await api.get("/api/auth/google/redirect", allow_redirects=False)
    assert resp.status == 302
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{fake_google.base_url}/o/oauth2/v2/auth"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == fake_google.client_id
    assert query["redirect_uri"] == "http://127.0.0.1:8000/api/auth/google/callback"
    assert query["response_type"] == "code"
    assert query["scope"] == "openid email profile"
    assert len(query["state"]) >= 32

    profile = google_profile()
    fake_google.consenting = profile
    back = await fake_google.consent(resp.headers["Location"])
    assert back.startswith(query["redirect_uri"] + "?")
    resp = await api.get(location_path(back), allow_redirects=False)
    assert resp.status == 302, await resp.text()
    assert resp.headers["Location"] == "http://spa.example.test/auth/complete"
    cookie = resp.cookies["api_token"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # only in production
    assert cookie["path"] == "/"
    token = cookie.value
    assert "|" in token
    api.session.cookie_jar.clear()

    user_id = await whoami(api, Cookie=f"api_token={token}")
    assert user_id is not None
    async with api.app[pool_key].acquire() as conn:
        user = await conn.fetchrow("select * from users where id = $1", user_id)
        kind = await conn.fetchval(
            "select kind from personal_access_tokens where id = $1", int(token.split("|")[0])
        )
        groups = await conn.fetchval("select count(*) from groups where creator_id = $1 and is_personal", user_id)
    assert user["email"] == profile["email"]
    assert user["username"] == profile["email"].split("@")[0]
    assert (user["first_name"], user["last_name"]) == ("Ada", "King Lovelace")
    assert user["name"] == "Ada King Lovelace"
    assert user["avatar"] == profile["picture"]
    assert user["email_verified_at"] is not None
    assert user["password_hash"] is None
    assert (user["provider_name"], user["provider_id"], user["source"]) == ("google", profile["sub"], "google")
    assert kind == "oauth"
    assert groups == 1
    rows = await provider_rows(api, user_id)
    assert [(r["provider"], r["provider_user_id"], r["email"]) for r in rows] == [
        ("google", profile["sub"], profile["email"])
    ]


async def test_callback_answers_json_when_asked(api, fake_google):
    profile = google_profile()
    path = await start_login(api, fake_google, profile)
    resp = await api.get(path, headers=JSON, allow_redirects=False)
    assert resp.status == 200
    assert "api_token" not in resp.cookies
    body = await resp.json()
    assert_success(body, "Authenticated via Google")
    assert set(body["data"]) == {"user", "token"}
    user = body["data"]["user"]
    assert set(user) == USER_KEYS
    assert user["email"] == profile["email"]
    assert user["provider_name"] == "google"
    assert user["avatar"] == profile["picture"]
    assert await whoami(api, **bearer(body["data"]["token"])) == user["id"]


async def test_state_is_single_use_and_must_exist(api, fake_google):
    path = await start_login(api, fake_google, google_profile())
    first = await api.get(path, headers=JSON)
    assert first.status == 200
    again = await api.get(path, headers=JSON)
    assert again.status == 400
    assert_error(await again.json(), 400, "Invalid or expired OAuth state.")

    code = fake_google.issue_code(google_profile(), "http://127.0.0.1:8000/api/auth/google/callback")
    for query in (f"?code={code}", f"?code={code}&state=made-up", f"?code={code}&state=" + "x" * 500):
        resp = await api.get("/api/auth/google/callback" + query, headers=JSON)
        assert resp.status == 400
        assert_error(await resp.json(), 400, "Invalid or expired OAuth state.")


async def test_state_of_another_provider_is_refused(api, fake_google):
    resp = await api.get("/api/auth/github/redirect", allow_redirects=False)
    state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
    code = fake_google.issue_code(google_profile(), "http://127.0.0.1:8000/api/auth/google/callback")
    resp = await api.get(f"/api/auth/google/callback?code={code}&state={state}", headers=JSON)
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired OAuth state.")


async def test_callback_with_a_code_google_did_not_issue_is_400(api, fake_google):
    path = await start_login(api, fake_google, google_profile())
    state = parse_qs(urlsplit(path).query)["state"][0]
    resp = await api.get(f"/api/auth/google/callback?code=not-a-code&state={state}", headers=JSON)
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired Google authorization code.")


async def test_callback_without_code_or_with_provider_error_is_400(api, fake_google):
    for query, message in (
        ("error=access_denied", "Google sign-in was not completed (access_denied)."),
        ("", "The authorization code is missing."),
    ):
        resp = await api.get("/api/auth/google/redirect", allow_redirects=False)
        state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
        resp = await api.get(f"/api/auth/google/callback?state={state}&{query}", headers=JSON)
        assert resp.status == 400
        assert_error(await resp.json(), 400, message)


async def test_token_exchange_with_code(api, fake_google):
    profile = google_profile()
    code = fake_google.issue_code(profile, "postmessage")
    resp = await api.post("/api/auth/google/token", json={"code": code, "redirect_uri": "postmessage"})
    assert resp.status == 200
    body = await resp.json()
    assert_success(body, "Authenticated via Google")
    assert body["data"]["user"]["email"] == profile["email"]
    assert await whoami(api, **bearer(body["data"]["token"])) == body["data"]["user"]["id"]
    assert "X-RateLimit-Limit" in resp.headers

    # a code works once
    resp = await api.post("/api/auth/google/token", json={"code": code, "redirect_uri": "postmessage"})
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired Google authorization code.")


async def test_token_exchange_redirect_uri_must_match(api, fake_google):
    code = fake_google.issue_code(google_profile(), "https://spa.example.test/cb")
    # without redirect_uri the configured callback is sent, which is not what the code was made for
    resp = await api.post("/api/auth/google/token", json={"code": code})
    assert resp.status == 400
    assert_error(await resp.json(), 400, "The redirect_uri does not match the one used to obtain the code.")


async def test_token_exchange_with_credential(api, fake_google):
    profile = google_profile()
    credential = fake_google.issue_id_token(profile)
    resp = await api.post("/api/auth/google/token", json={"credential": credential})
    assert resp.status == 200
    body = await resp.json()
    assert_success(body, "Authenticated via Google")
    assert body["data"]["user"]["email"] == profile["email"]
    assert body["data"]["user"]["first_name"] == "Ada"


@pytest.mark.parametrize(
    "case, message",
    [
        ("unknown", "Invalid or expired Google credential."),
        ("expired", "Invalid or expired Google credential."),
        ("other_audience", "The Google credential was not issued for this application."),
        ("unverified", "Your Google email address is not verified."),
    ],
)
async def test_token_exchange_with_a_bad_credential_is_400(api, fake_google, case, message):
    profile = google_profile()
    credential = {
        "unknown": lambda: "eyJnot.a.token",
        "expired": lambda: fake_google.issue_id_token(profile, exp=1),
        "other_audience": lambda: fake_google.issue_id_token(profile, aud="someone-else.apps.googleusercontent.com"),
        "unverified": lambda: fake_google.issue_id_token({**profile, "email_verified": False}),
    }[case]()
    resp = await api.post("/api/auth/google/token", json={"credential": credential})
    assert resp.status == 400
    assert_error(await resp.json(), 400, message)
    async with api.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select count(*) from users where email = $1", profile["email"]) == 0


async def test_unverified_email_from_userinfo_is_refused(api, fake_google):
    code = fake_google.issue_code(google_profile(email_verified=False), "postmessage")
    resp = await api.post("/api/auth/google/token", json={"code": code, "redirect_uri": "postmessage"})
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Your Google email address is not verified.")


async def test_token_exchange_needs_code_or_credential(api):
    for payload in ({}, {"code": "", "credential": "  "}, {"redirect_uri": "postmessage"}):
        resp = await api.post("/api/auth/google/token", json=payload)
        assert resp.status == 422
        body = await resp.json()
        assert_error(body, 422, "The given data was invalid.")
        assert body["errors"]["code"] == ["The code field is required when credential is not present."]
        assert body["errors"]["credential"] == ["The credential field is required when code is not present."]
    resp = await api.post("/api/auth/google/token", json={"code": 5})
    assert resp.status == 422
    assert (await resp.json())["errors"]["code"] == ["The code must be a string."]


async def test_existing_verified_email_gets_the_provider_attached(api, fake_google):
    email = unique_email("linkme")
    existing = await make_user(api.app, email=email, avatar=None, verified=True)
    code = fake_google.issue_code(google_profile(email=email.upper()), "postmessage")
    resp = await api.post("/api/auth/google/token", json={"code": code, "redirect_uri": "postmessage"})
    assert resp.status == 200
    user = (await resp.json())["data"]["user"]
    assert user["id"] == existing["id"]
    assert user["username"] == existing["username"]
    assert user["provider_name"] == "google"
    assert user["email_verified_at"] is not None
    async with api.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select count(*) from users where lower(email) = lower($1)", email) == 1
    assert [r["provider"] for r in await provider_rows(api, existing["id"])] == ["google"]
    # the password still signs in too
    assert await api.app[accounts_key].authenticate(email, sha256_hex(DEFAULT_PASSWORD)) is not None


async def test_existing_unverified_email_is_409_and_untouched(api, fake_google):
    email = unique_email("unverified")
    existing = await make_user(api.app, email=email)
    assert existing["email_verified_at"] is None
    code = fake_google.issue_code(google_profile(email=email), "postmessage")
    resp = await api.post("/api/auth/google/token", json={"code": code, "redirect_uri": "postmessage"})
    assert resp.status == 409
    assert_error(
        await resp.json(),
        409,
        "An account with this email exists but its address is not verified. Sign in with its password and "
        "link Google from your profile, or reset its password.",
    )
    assert await provider_rows(api, existing["id"]) == []
    async with api.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select email_verified_at from users where id = $1", existing["id"]) is None


async def test_existing_avatar_is_kept(api, fake_google):
    existing = await make_user(api.app, avatar="https://cdn.example.test/me.png", verified=True)
    code = fake_google.issue_code(google_profile(email=existing["email"]), "postmessage")
    resp = await api.post("/api/auth/google/token", json={"code": code, "redirect_uri": "postmessage"})
    assert (await resp.json())["data"]["user"]["avatar"] == "https://cdn.example.test/me.png"


async def test_same_google_account_returns_the_same_user(api, fake_google):
    profile = google_profile()
    first = await api.post("/api/auth/google/token", json={"credential": fake_google.issue_id_token(profile)})
    first_id = (await first.json())["data"]["user"]["id"]
    # even after the Google account's address changed
    moved = {**profile, "email": unique_email("moved")}
    path = await start_login(api, fake_google, moved)
    again = await api.get(path, headers=JSON)
    assert again.status == 200
    body = await again.json()
    assert body["data"]["user"]["id"] == first_id
    assert body["data"]["user"]["email"] == profile["email"]
    assert body["data"]["token"] != (await first.json())["data"]["token"]


async def test_usernames_are_made_unique(api, fake_google):
    taken = await make_user(api.app)
    email = f"{taken['username']}@gmail.test"
    code = fake_google.issue_code(google_profile(email=email, name=None, given_name=None, family_name=None),
                                  "postmessage")
    resp = await api.post("/api/auth/google/token", json={"code": code, "redirect_uri": "postmessage"})
    assert resp.status == 200
    user = (await resp.json())["data"]["user"]
    assert user["username"] != taken["username"]
    assert user["username"].startswith(taken["username"][:20])
    # no name from Google: the username stands in
    assert user["first_name"] == user["username"]
    assert user["last_name"] is None


async def test_a_deactivated_account_is_refused(api, fake_google):
    existing = await make_user(api.app)
    await api.app[accounts_key].update_user(existing["id"], {"is_active": False})
    code = fake_google.issue_code(google_profile(email=existing["email"]), "postmessage")
    resp = await api.post("/api/auth/google/token", json={"code": code, "redirect_uri": "postmessage"})
    assert resp.status == 403
    assert_error(await resp.json(), 403, "This account has been deactivated.")
    assert await provider_rows(api, existing["id"]) == []


async def test_link_and_unlink(api, fake_google):
    owner = await make_user(api.app)
    auth = bearer(await make_token(api.app, owner["id"]))

    resp = await api.get("/api/auth/link/google/redirect", headers=auth, allow_redirects=False)
    assert resp.status == 302
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/api/auth/link/google/callback"]
    profile = google_profile()  # a different address than the account's
    fake_google.consenting = profile
    back = location_path(await fake_google.consent(resp.headers["Location"]))
    resp = await api.get(back, headers=auth)
    assert resp.status == 200
    body = await resp.json()
    assert_success(body, "Provider linked")
    assert body["data"]["provider"] == "google"
    assert body["data"]["providers"] == ["google"]
    assert body["data"]["user"]["id"] == owner["id"]
    assert body["data"]["user"]["provider_name"] == "google"
    assert body["data"]["user"]["email"] == owner["email"]

    # the linked Google account now signs in to this user
    signed = await api.post("/api/auth/google/token", json={"credential": fake_google.issue_id_token(profile)})
    assert (await signed.json())["data"]["user"]["id"] == owner["id"]

    resp = await api.post("/api/auth/unlink", json={"provider": "google"}, headers=auth)
    assert resp.status == 200
    body = await resp.json()
    assert_success(body, "Provider unlinked")
    assert body["data"]["providers"] == []
    assert body["data"]["user"]["provider_name"] is None
    assert await provider_rows(api, owner["id"]) == []

    resp = await api.post("/api/auth/unlink", json={"provider": "google"}, headers=auth)
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Provider not linked")


async def test_unlink_validation_and_auth(api):
    owner = await make_user(api.app)
    auth = bearer(await make_token(api.app, owner["id"]))
    for payload, message in (
        ({"provider": "facebook"}, "The selected provider is invalid."),
        ({}, "The provider field is required."),
    ):
        resp = await api.post("/api/auth/unlink", json=payload, headers=auth)
        assert resp.status == 422
        assert (await resp.json())["errors"]["provider"] == [message]
    resp = await api.post("/api/auth/unlink", json={"provider": "google"})
    assert resp.status == 401
    assert_error(await resp.json(), 401, "Unauthenticated.")


async def test_link_needs_a_signed_in_user(api):
    for path in ("/api/auth/link/google/redirect", "/api/auth/link/google/callback?code=x&state=y"):
        resp = await api.get(path, allow_redirects=False)
        assert resp.status == 401
        assert_error(await resp.json(), 401, "Unauthenticated.")


async def test_linking_a_google_account_of_another_user_is_409(api, fake_google):
    profile = google_profile()
    other = await api.post("/api/auth/google/token", json={"credential": fake_google.issue_id_token(profile)})
    other_id = (await other.json())["data"]["user"]["id"]

    owner = await make_user(api.app)
    auth = bearer(await make_token(api.app, owner["id"]))
    resp = await api.get("/api/auth/link/google/redirect", headers=auth, allow_redirects=False)
    fake_google.consenting = profile
    back = location_path(await fake_google.consent(resp.headers["Location"]))
    resp = await api.get(back, headers=auth)
    assert resp.status == 409
    assert_error(await resp.json(), 409, "This Google account is already linked to another user.")
    assert [r["user_id"] for r in await provider_rows(api, other_id)] == [other_id]
    assert await provider_rows(api, owner["id"]) == []


async def test_link_state_belongs_to_the_user_who_started_it(api, fake_google):
    starter = await make_user(api.app)
    victim = await make_user(api.app)
    resp = await api.get(
        "/api/auth/link/google/redirect", headers=bearer(await make_token(api.app, starter["id"])),
        allow_redirects=False,
    )
    fake_google.consenting = google_profile()
    back = location_path(await fake_google.consent(resp.headers["Location"]))
    resp = await api.get(back, headers=bearer(await make_token(api.app, victim["id"])))
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired OAuth state.")
    assert await provider_rows(api, victim["id"]) == []
    assert await provider_rows(api, starter["id"]) == []


async def test_login_state_does_not_link(api, fake_google):
    owner = await make_user(api.app)
    auth = bearer(await make_token(api.app, owner["id"]))
    path = await start_login(api, fake_google, google_profile())
    resp = await api.get(path.replace("/api/auth/google/callback", "/api/auth/link/google/callback"), headers=auth)
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired OAuth state.")


async def test_unknown_provider_is_404(api):
    owner = await make_user(api.app)
    auth = bearer(await make_token(api.app, owner["id"]))
    for path in (
        "/api/auth/facebook/redirect",
        "/api/auth/facebook/callback?code=x&state=y",
        "/api/auth/link/facebook/redirect",
        "/api/auth/link/facebook/callback",
    ):
        resp = await api.get(path, headers=auth, allow_redirects=False)
        assert resp.status == 404
        assert_error(await resp.json(), 404, "Route not found.")
    resp = await api.post("/api/auth/facebook/token", json={"code": "x"})
    assert resp.status == 404


async def test_not_configured_is_503(aiohttp_client, settings, ray_session, fake_google):
    bare = settings_for(settings, fake_google, google_client_id=None, google_client_secret=None)
    api = await aiohttp_client(create_app(bare))
    owner = await make_user(api.app)
    auth = bearer(await make_token(api.app, owner["id"]))
    calls = (
        api.get("/api/auth/google/redirect", allow_redirects=False),
        api.get("/api/auth/google/callback?code=x&state=y"),
        api.post("/api/auth/google/token", json={"code": "x"}),
        api.post("/api/auth/google/token", json={"credential": "eyJx.y.z"}),
        api.get("/api/auth/link/google/redirect", headers=auth, allow_redirects=False),
    )
    for call in calls:
        resp = await call
        assert resp.status == 503
        assert_error(await resp.json(), 503, "Google OAuth is not configured.")
    assert fake_google.calls == []


async def test_google_unreachable_is_400(aiohttp_client, settings, ray_session, fake_google):
    # a port nothing listens on: the fake's own, after it has stopped
    pointed = settings_for(settings, fake_google)
    await fake_google.close()
    api = await aiohttp_client(create_app(pointed))
    resp = await api.post("/api/auth/google/token", json={"credential": "eyJx.y.z"})
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Google could not complete the sign-in; try again.")


async def test_provider_calls_time_out(aiohttp_server):
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/tokeninfo", slow)
    server = await aiohttp_server(app, host="127.0.0.1")
    client = GoogleOAuth(
        client_id="id.apps.googleusercontent.com",
        client_secret="secret",
        redirect_uri="http://127.0.0.1/cb",
        authorize_url=str(server.make_url("/auth")),
        token_url=str(server.make_url("/token")),
        userinfo_url=str(server.make_url("/userinfo")),
        tokeninfo_url=str(server.make_url("/tokeninfo")),
        timeout=aiohttp.ClientTimeout(total=0.2),
    )
    started = time.monotonic()
    with pytest.raises(BadRequest) as err:
        await client.profile_from_id_token("eyJx.y.z")
    assert err.value.code == "oauth_provider_error"
    assert time.monotonic() - started < 1.5


async def test_token_exchange_is_throttled(aiohttp_client, settings, ray_session, fake_google):
    tight = settings_for(settings, fake_google, throttle_auth_per_minute=2)
    api = await aiohttp_client(create_app(tight))
    # The per-IP window is shared with the rest of the session; within three tries it is full.
    statuses = [(await api.post("/api/auth/google/token", json={})).status for _ in range(3)]
    assert statuses[-1] == 429
    resp = await api.post("/api/auth/google/token", json={})
    assert resp.status == 429
    assert "Retry-After" in resp.headers
    assert_error(await resp.json(), 429, "Too Many Attempts.")
