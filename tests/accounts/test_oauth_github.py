"""003: GitHub sign-in on /api against a local server speaking GitHub's OAuth and REST protocols."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.app import create_app
from gateway.kernel.keys import pool_key
from tests.builders import bearer, make_user, unique_email
from tests.oauth_fakes import (
    WHOAMI_PATH,
    FakeGitHub,
    add_whoami,
    github_profile,
    google_profile,
    location_path,
    settings_for,
)

JSON = {"Accept": "application/json"}
CALLBACK = "http://127.0.0.1:8000/api/auth/github/callback"


@pytest.fixture
async def api(aiohttp_client, settings, ray_session, fake_google, fake_github):
    return await aiohttp_client(create_app(settings_for(settings, fake_google, fake_github), add_routes=add_whoami))


def assert_error(body: dict, status: int, message: str) -> None:
    assert body["success"] is False and body["status"] == "error"
    assert body["code"] == status
    assert body["message"] == message


async def whoami(api, **headers) -> int | None:
    resp = await api.get("/api" + WHOAMI_PATH, headers=headers)
    return (await resp.json())["user_id"]


async def start_login(api, fake: FakeGitHub, profile: dict) -> str:
    resp = await api.get("/api/auth/github/redirect", allow_redirects=False)
    assert resp.status == 302
    fake.consenting = profile
    return location_path(await fake.consent(resp.headers["Location"]))


async def test_browser_flow(api, fake_github):
    resp = await api.get("/api/auth/github/redirect", allow_redirects=False)
    assert resp.status == 302
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{fake_github.base_url}/login/oauth/authorize"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == fake_github.client_id
    assert query["redirect_uri"] == CALLBACK
    assert query["scope"] == "read:user user:email"
    assert query["state"]

    profile = github_profile(login="Octo.Cat-" + unique_email("x")[2:10])
    fake_github.consenting = profile
    back = await fake_github.consent(resp.headers["Location"])
    resp = await api.get(location_path(back), allow_redirects=False)
    assert resp.status == 302, await resp.text()
    assert resp.headers["Location"] == "http://spa.example.test/auth/complete"
    token = resp.cookies["api_token"].value
    assert resp.cookies["api_token"]["httponly"] is True
    api.session.cookie_jar.clear()

    user_id = await whoami(api, Cookie=f"api_token={token}")
    assert user_id is not None
    async with api.app[pool_key].acquire() as conn:
        user = await conn.fetchrow("select * from users where id = $1", user_id)
    primary = profile["emails"][1]["email"]
    assert user["email"] == primary  # the primary verified address, not the first verified one
    assert user["username"] == profile["user"]["login"].lower()
    assert (user["first_name"], user["last_name"]) == ("Grace", "Hopper")
    assert user["avatar"] == profile["user"]["avatar_url"]
    assert (user["provider_name"], user["provider_id"]) == ("github", str(profile["user"]["id"]))
    assert user["email_verified_at"] is not None
    assert fake_github.calls == ["authorize", "token", "user", "emails"]


async def test_callback_json(api, fake_github):
    profile = github_profile()
    resp = await api.get(await start_login(api, fake_github, profile), headers=JSON)
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "success"
    assert body["message"] == "Authenticated via Github"
    assert set(body["data"]) == {"user", "token"}
    assert body["data"]["user"]["provider_name"] == "github"
    assert await whoami(api, **bearer(body["data"]["token"])) == body["data"]["user"]["id"]


async def test_xhr_gets_json(api, fake_github):
    resp = await api.get(
        await start_login(api, fake_github, github_profile()), headers={"X-Requested-With": "XMLHttpRequest"}
    )
    assert resp.status == 200
    assert (await resp.json())["message"] == "Authenticated via Github"


async def test_reused_or_bad_state_is_400(api, fake_github):
    path = await start_login(api, fake_github, github_profile())
    assert (await api.get(path, headers=JSON)).status == 200
    resp = await api.get(path, headers=JSON)
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired OAuth state.")
    resp = await api.get("/api/auth/github/callback?code=abc", headers=JSON)
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired OAuth state.")


async def test_bad_code_at_callback_is_400(api, fake_github):
    path = await start_login(api, fake_github, github_profile())
    state = parse_qs(urlsplit(path).query)["state"][0]
    resp = await api.get(f"/api/auth/github/callback?code=wrong&state={state}", headers=JSON)
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired GitHub authorization code.")


async def test_token_exchange_with_code(api, fake_github):
    profile = github_profile()
    code = fake_github.issue_code(profile, CALLBACK)
    resp = await api.post("/api/auth/github/token", json={"code": code})
    assert resp.status == 200
    body = await resp.json()
    assert body["message"] == "Authenticated via Github"
    assert body["data"]["user"]["email"] == profile["emails"][1]["email"]

    resp = await api.post("/api/auth/github/token", json={"code": code})
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired GitHub authorization code.")


async def test_token_exchange_with_code_and_redirect_uri(api, fake_github):
    code = fake_github.issue_code(github_profile(), "https://spa.example.test/gh")
    resp = await api.post("/api/auth/github/token", json={"code": code, "redirect_uri": "https://other.test/x"})
    assert resp.status == 400
    assert_error(await resp.json(), 400, "The redirect_uri does not match the one used to obtain the code.")
    code = fake_github.issue_code(github_profile(), "https://spa.example.test/gh")
    resp = await api.post("/api/auth/github/token", json={"code": code, "redirect_uri": "https://spa.example.test/gh"})
    assert resp.status == 200


async def test_token_exchange_with_access_token(api, fake_github):
    profile = github_profile()
    access_token = fake_github.issue_access_token(profile)
    resp = await api.post("/api/auth/github/token", json={"access_token": access_token})
    assert resp.status == 200
    first = (await resp.json())["data"]["user"]
    # the same GitHub account again: the same user
    resp = await api.post("/api/auth/github/token", json={"access_token": access_token})
    assert (await resp.json())["data"]["user"]["id"] == first["id"]


async def test_invalid_access_token_is_400(api, fake_github):
    resp = await api.post("/api/auth/github/token", json={"access_token": "gho_not_a_token"})
    assert resp.status == 400
    assert_error(await resp.json(), 400, "Invalid or expired GitHub access token.")


async def test_no_verified_email_is_400(api, fake_github):
    profile = github_profile()
    for entry in profile["emails"]:
        entry["verified"] = False
    resp = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(profile)})
    assert resp.status == 400
    message = "GitHub did not share a verified email address (the user:email scope is needed)."
    assert_error(await resp.json(), 400, message)
    # a token without the user:email scope cannot list addresses at all
    no_scope = {**github_profile(), "emails": None}
    resp = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(no_scope)})
    assert resp.status == 400
    assert_error(await resp.json(), 400, message)


async def test_wrong_client_secret_is_400(aiohttp_client, settings, ray_session, fake_github):
    wrong = settings_for(settings, fake_github, github_client_secret="not-the-secret")
    api = await aiohttp_client(create_app(wrong))
    code = fake_github.issue_code(github_profile(), CALLBACK)
    resp = await api.post("/api/auth/github/token", json={"code": code})
    assert resp.status == 400
    assert_error(await resp.json(), 400, "GitHub rejected this application's OAuth credentials.")


async def test_needs_code_or_access_token(api):
    resp = await api.post("/api/auth/github/token", json={"redirect_uri": "https://x.test"})
    assert resp.status == 422
    body = await resp.json()
    assert body["errors"]["code"] == ["The code field is required when access token is not present."]
    assert body["errors"]["access_token"] == ["The access token field is required when code is not present."]


async def test_existing_email_is_linked_not_duplicated(api, fake_github):
    email = unique_email("ghlink")
    existing = await make_user(api.app, email=email, verified=True)
    profile = github_profile(email=email)
    resp = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(profile)})
    assert resp.status == 200
    assert (await resp.json())["data"]["user"]["id"] == existing["id"]
    async with api.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select count(*) from users where lower(email) = lower($1)", email) == 1
        links = await conn.fetch("select provider, provider_user_id from user_providers where user_id = $1",
                                 existing["id"])
    assert [(r["provider"], r["provider_user_id"]) for r in links] == [("github", str(profile["user"]["id"]))]


async def test_email_of_an_account_linked_to_another_github_is_409(api, fake_github):
    email = unique_email("ghtwo")
    first = github_profile(email=email)
    resp = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(first)})
    assert resp.status == 200
    second = github_profile(email=email)  # another GitHub account claiming the same address
    resp = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(second)})
    assert resp.status == 409
    assert_error(await resp.json(), 409, "The account with this email is linked to a different GitHub account.")


async def test_taken_login_gets_a_unique_username(api, fake_github):
    taken = await make_user(api.app)
    profile = github_profile(login=taken["username"].upper())
    resp = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(profile)})
    username = (await resp.json())["data"]["user"]["username"]
    assert username != taken["username"] and username.startswith(taken["username"][:20])


async def test_no_name_uses_login(api, fake_github):
    profile = github_profile(name=None)
    resp = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(profile)})
    user = (await resp.json())["data"]["user"]
    assert user["first_name"] == user["username"] == profile["user"]["login"].lower()
    assert user["name"] == user["username"]


async def test_link_github_next_to_google_and_unlink_one(api, fake_github, fake_google):
    # signed up with Google, then links GitHub
    signup = await api.post(
        "/api/auth/google/token", json={"credential": fake_google.issue_id_token(google_profile())}
    )
    body = await signup.json()
    user_id, auth = body["data"]["user"]["id"], bearer(body["data"]["token"])

    resp = await api.get("/api/auth/link/github/redirect", headers=auth, allow_redirects=False)
    assert resp.status == 302
    assert parse_qs(urlsplit(resp.headers["Location"]).query)["redirect_uri"] == [
        "http://127.0.0.1:8000/api/auth/link/github/callback"
    ]
    profile = github_profile()
    fake_github.consenting = profile
    back = location_path(await fake_github.consent(resp.headers["Location"]))
    resp = await api.get(back, headers=auth)
    assert resp.status == 200
    body = await resp.json()
    assert body["message"] == "Provider linked"
    assert sorted(body["data"]["providers"]) == ["github", "google"]
    assert body["data"]["user"]["provider_name"] == "github"

    # linking the same GitHub account again is harmless
    resp = await api.get("/api/auth/link/github/redirect", headers=auth, allow_redirects=False)
    back = location_path(await fake_github.consent(resp.headers["Location"]))
    assert (await api.get(back, headers=auth)).status == 200

    # a different GitHub account while one is linked
    resp = await api.get("/api/auth/link/github/redirect", headers=auth, allow_redirects=False)
    fake_github.consenting = github_profile()
    back = location_path(await fake_github.consent(resp.headers["Location"]))
    resp = await api.get(back, headers=auth)
    assert resp.status == 409
    assert_error(await resp.json(), 409, "A different GitHub account is already linked; unlink it first.")

    resp = await api.post("/api/auth/unlink", json={"provider": "github"}, headers=auth)
    assert resp.status == 200
    body = await resp.json()
    assert body["data"]["providers"] == ["google"]
    # the account now names its remaining provider
    assert body["data"]["user"]["provider_name"] == "google"

    # the unlinked GitHub account no longer reaches this user: it makes its own
    resp = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(profile)})
    assert (await resp.json())["data"]["user"]["id"] != user_id


async def test_link_via_api_token_cookie(api, fake_github, fake_google):
    """The browser returns from GitHub without a Bearer header; the api_token cookie signs it in."""
    resp = await api.get("/api/auth/google/redirect", allow_redirects=False)
    fake_google.consenting = google_profile()
    path = location_path(await fake_google.consent(resp.headers["Location"]))
    resp = await api.get(path, allow_redirects=False)
    cookie = {"Cookie": f"api_token={resp.cookies['api_token'].value}"}
    api.session.cookie_jar.clear()

    resp = await api.get("/api/auth/link/github/redirect", headers=cookie, allow_redirects=False)
    fake_github.consenting = github_profile()
    back = location_path(await fake_github.consent(resp.headers["Location"]))
    resp = await api.get(back, headers=cookie)
    assert resp.status == 200
    assert sorted((await resp.json())["data"]["providers"]) == ["github", "google"]


async def test_github_not_configured(aiohttp_client, settings, ray_session, fake_github):
    bare = settings_for(settings, fake_github, github_client_id=None)
    api = await aiohttp_client(create_app(bare))
    for call in (
        api.get("/api/auth/github/redirect", allow_redirects=False),
        api.post("/api/auth/github/token", json={"access_token": "x"}),
    ):
        resp = await call
        assert resp.status == 503
        assert_error(await resp.json(), 503, "GitHub OAuth is not configured.")
