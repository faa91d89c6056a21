"""002: POST /auth/google/login with the reference's {token} and the document's {code, redirect_uri},
against a local server speaking Google's OAuth protocol."""

from __future__ import annotations

import pytest

from gateway.app import create_app
from gateway.kernel.keys import pool_key
from tests.builders import make_user, unique_email
from tests.oauth_fakes import WHOAMI_PATH, add_whoami, google_profile, settings_for

REDIRECT = "http://localhost:3000/auth/callback"


@pytest.fixture
async def root(aiohttp_client, settings, ray_session, fake_google):
    return await aiohttp_client(create_app(settings_for(settings, fake_google), add_routes=add_whoami))


def assert_error(body: dict, message: str) -> None:
    assert body["status"] == 0
    assert body["data"] is None
    assert body["message"] == message
    assert "details" in body and "detail" in body


async def jwt_user(root, token: str) -> int | None:
    resp = await root.get(WHOAMI_PATH, headers={"Authorization": f"Bearer {token}"})
    body = await resp.json()
    assert body["via"] in ("jwt", None)
    return body["user_id"]


async def test_login_with_id_token(root, fake_google):
    profile = google_profile()
    resp = await root.post("/auth/google/login", json={"token": fake_google.issue_id_token(profile)})
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == 1
    assert body["message"] == "Google login successful"
    data = body["data"]
    assert set(data) == {"access_token", "token_type", "user"}
    assert data["token_type"] == "bearer"
    assert data["access_token"].startswith("eyJ")
    user = data["user"]
    assert set(user) == {"id", "email", "name", "picture"}
    assert isinstance(user["id"], str)
    assert user["email"] == profile["email"]
    assert user["name"] == "Ada King Lovelace"
    assert user["picture"] == profile["picture"]
    assert await jwt_user(root, data["access_token"]) == int(user["id"])
    async with root.app[pool_key].acquire() as conn:
        row = await conn.fetchrow("select * from users where id = $1", int(user["id"]))
        linked = await conn.fetchval("select user_id from user_providers where provider = 'google' and "
                                     "provider_user_id = $1", profile["sub"])
    assert row["provider_name"] == "google" and row["email_verified_at"] is not None
    assert linked == row["id"]


async def test_login_with_code_and_redirect_uri(root, fake_google):
    profile = google_profile()
    code = fake_google.issue_code(profile, REDIRECT)
    resp = await root.post("/auth/google/login", json={"code": code, "redirect_uri": REDIRECT})
    assert resp.status == 200
    body = await resp.json()
    assert body["message"] == "Google login successful"
    assert body["data"]["user"]["email"] == profile["email"]
    assert await jwt_user(root, body["data"]["access_token"]) == int(body["data"]["user"]["id"])


async def test_same_google_account_same_user_across_forms(root, fake_google):
    profile = google_profile()
    first = await root.post("/auth/google/login", json={"token": fake_google.issue_id_token(profile)})
    code = fake_google.issue_code(profile, REDIRECT)
    second = await root.post("/auth/google/login", json={"code": code, "redirect_uri": REDIRECT})
    assert (await first.json())["data"]["user"]["id"] == (await second.json())["data"]["user"]["id"]


async def test_existing_account_with_the_email_signs_in(root, fake_google):
    email = unique_email("pcg")
    existing = await make_user(root.app, email=email, name="Jane Existing", verified=True)
    resp = await root.post(
        "/auth/google/login", json={"token": fake_google.issue_id_token(google_profile(email=email))}
    )
    assert resp.status == 200
    user = (await resp.json())["data"]["user"]
    assert user["id"] == str(existing["id"])
    assert user["name"] == "Jane Existing"


async def test_neither_token_nor_code_is_422(root):
    for payload in ({}, {"redirect_uri": REDIRECT}, {"token": "", "code": " "}):
        resp = await root.post("/auth/google/login", json=payload)
        assert resp.status == 422
        body = await resp.json()
        assert_error(body, "Either token or code is required")
        assert {tuple(d["loc"]) for d in body["detail"]} == {("body", "token"), ("body", "code")}


@pytest.mark.parametrize("case", ["unknown", "other_audience"])
async def test_bad_token_is_401(root, fake_google, case):
    token = (
        "eyJbogus.token.value"
        if case == "unknown"
        else fake_google.issue_id_token(google_profile(), aud="other.apps.googleusercontent.com")
    )
    resp = await root.post("/auth/google/login", json={"token": token})
    assert resp.status == 401
    body = await resp.json()
    assert_error(body, "Invalid Google token")
    assert body["detail"] == "Invalid Google token"


async def test_unverified_google_email_is_400(root, fake_google):
    token = fake_google.issue_id_token(google_profile(email_verified=False))
    resp = await root.post("/auth/google/login", json={"token": token})
    assert resp.status == 400
    assert_error(await resp.json(), "Your Google email address is not verified.")


async def test_bad_code_is_400(root, fake_google):
    resp = await root.post("/auth/google/login", json={"code": "4/0AdQt8qh7rMz9XYZ", "redirect_uri": REDIRECT})
    assert resp.status == 400
    assert_error(await resp.json(), "Invalid or expired Google authorization code.")
    # a real code, but for another redirect_uri
    code = fake_google.issue_code(google_profile(), REDIRECT)
    resp = await root.post("/auth/google/login", json={"code": code, "redirect_uri": "http://elsewhere.test/cb"})
    assert resp.status == 400


async def test_not_configured_is_503(aiohttp_client, settings, ray_session, fake_google):
    root = await aiohttp_client(create_app(settings_for(settings, fake_google, google_client_secret=None)))
    resp = await root.post("/auth/google/login", json={"token": "eyJx.y.z"})
    assert resp.status == 503
    assert_error(await resp.json(), "Google OAuth is not configured.")


async def test_google_login_is_throttled(aiohttp_client, settings, ray_session, fake_google):
    root = await aiohttp_client(create_app(settings_for(settings, fake_google, throttle_auth_per_minute=2)))
    statuses = [(await root.post("/auth/google/login", json={})).status for _ in range(3)]
    assert statuses[-1] == 429
    resp = await root.post("/auth/google/login", json={})
    assert resp.status == 429
    assert "Retry-After" in resp.headers
    assert (await resp.json())["status"] == 0
