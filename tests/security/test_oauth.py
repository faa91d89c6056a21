"""Issue 9, OAuth and sign-in CSRF: each test is the attack, against the local Google and GitHub
servers of tests/oauth_fakes.py and the whole app.

- pre-account takeover through the OAuth email merge (an attacker registers the victim's address
  first; the victim's later provider sign-in must not land in the attacker's account);
- login CSRF through the OAuth callback (a state from the attacker's browser opened in the
  victim's) and through `POST /login` (another site posting its own credentials);
- a GitHub access token issued to some other OAuth app signing in here.
"""

from __future__ import annotations

import pytest

from gateway.app import create_app
from gateway.kernel.keys import accounts_key, pool_key
from tests.builders import DEFAULT_PASSWORD, bearer, make_token, make_user, unique_email
from tests.oauth_fakes import (
    add_whoami,
    github_profile,
    google_profile,
    location_path,
    settings_for,
)
from tests.web.session_helpers import forget_cookies, sign_in

JSON = {"Accept": "application/json"}
UNVERIFIED = (
    "An account with this email exists but its address is not verified. Sign in with its password and "
    "link {label} from your profile, or reset its password."
)


@pytest.fixture
async def api(aiohttp_client, settings, ray_session, fake_google, fake_github):
    return await aiohttp_client(create_app(settings_for(settings, fake_google, fake_github), add_routes=add_whoami))


async def status_with(api, **request) -> int:
    """What GET /api/user answers for a credential (200 signed in, 401 not)."""
    forget_cookies(api)
    resp = await api.get("/api/user", **request)
    return resp.status


async def account_state(api, user_id: int) -> tuple[object, list[str]]:
    async with api.app[pool_key].acquire() as conn:
        verified = await conn.fetchval("select email_verified_at from users where id = $1", user_id)
        providers = await conn.fetch("select provider from user_providers where user_id = $1", user_id)
    return verified, [r["provider"] for r in providers]


async def attacker_credentials(api, user) -> dict[str, dict]:
    """What the registrant holds before the victim turns up: a PAT, a browser session and a JWT."""
    pat = await make_token(api.app, user["id"], name="attacker-pat")
    session = await sign_in(api, user["email"], user=user)
    jwt = api.app[accounts_key].issue_jwt(user)
    return {
        "pat": {"headers": bearer(pat)},
        "session": {"cookies": session.cookies},
        "jwt": {"headers": {"Authorization": f"Bearer {jwt}"}},
    }


# -- pre-account takeover ------------------------------------------------------------------------


async def test_google_sign_in_does_not_merge_into_an_unverified_account(api, fake_google):
    victim_email = unique_email("victim")
    planted = await make_user(api.app, email=victim_email)  # the attacker registered it, never verified
    held = await attacker_credentials(api, planted)

    # the real owner signs in with Google, by the browser flow and by each token exchange
    resp = await api.get("/api/auth/google/redirect", allow_redirects=False)
    fake_google.consenting = google_profile(email=victim_email)
    back = location_path(await fake_google.consent(resp.headers["Location"]))
    resp = await api.get(back, allow_redirects=False)
    assert resp.status == 409
    assert "api_token" not in resp.cookies
    body = await resp.json()
    assert body["code"] == 409 and body["message"] == UNVERIFIED.format(label="Google")

    credential = fake_google.issue_id_token(google_profile(email=victim_email))
    resp = await api.post("/api/auth/google/token", json={"credential": credential})
    assert resp.status == 409
    # 002's Google login shares the rule, in its own envelope
    credential = fake_google.issue_id_token(google_profile(email=victim_email))
    resp = await api.post("/auth/google/login", json={"token": credential})
    assert resp.status == 409
    body = await resp.json()
    assert body["status"] == 0 and body["message"] == UNVERIFIED.format(label="Google")

    # the attacker's account is as it was: unverified, no provider, its credentials its own
    assert await account_state(api, planted["id"]) == (None, [])
    async with api.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select count(*) from users where lower(email) = lower($1)", victim_email) == 1
    for how in held.values():
        assert await status_with(api, **how) == 200


async def test_github_sign_in_does_not_merge_into_an_unverified_account(api, fake_github):
    victim_email = unique_email("victim")
    planted = await make_user(api.app, email=victim_email)
    access_token = fake_github.issue_access_token(github_profile(email=victim_email))
    resp = await api.post("/api/auth/github/token", json={"access_token": access_token})
    assert resp.status == 409
    body = await resp.json()
    assert body["message"] == UNVERIFIED.format(label="GitHub")
    assert body["data"] is None
    assert await account_state(api, planted["id"]) == (None, [])

    resp = await api.get("/api/auth/github/redirect", allow_redirects=False)
    fake_github.consenting = github_profile(email=victim_email)
    back = location_path(await fake_github.consent(resp.headers["Location"]))
    resp = await api.get(back, headers=JSON)
    assert resp.status == 409
    assert await account_state(api, planted["id"]) == (None, [])


@pytest.mark.parametrize("route", ["google-callback", "github-token", "petcare-google"])
async def test_a_merge_into_a_verified_account_signs_everything_else_out(api, fake_google, fake_github, route):
    email = unique_email("owner")
    owner = await make_user(api.app, email=email, verified=True)
    held = await attacker_credentials(api, owner)
    for how in held.values():
        assert await status_with(api, **how) == 200

    if route == "google-callback":
        resp = await api.get("/api/auth/google/redirect", allow_redirects=False)
        fake_google.consenting = google_profile(email=email)
        back = location_path(await fake_google.consent(resp.headers["Location"]))
        resp = await api.get(back, headers=JSON)
        assert resp.status == 200
        new = {"headers": bearer((await resp.json())["data"]["token"])}
    elif route == "github-token":
        access_token = fake_github.issue_access_token(github_profile(email=email))
        resp = await api.post("/api/auth/github/token", json={"access_token": access_token})
        assert resp.status == 200
        new = {"headers": bearer((await resp.json())["data"]["token"])}
    else:
        credential = fake_google.issue_id_token(google_profile(email=email))
        resp = await api.post("/auth/google/login", json={"token": credential})
        assert resp.status == 200
        new = {"headers": {"Authorization": f"Bearer {(await resp.json())['data']['access_token']}"}}

    for name, how in held.items():
        assert await status_with(api, **how) == 401, name
    # the sign-in's own credential works, on the same account
    assert await status_with(api, **new) == 200
    resp = await api.get("/api/user", **new)
    assert (await resp.json())["data"]["id"] == owner["id"]
    verified, providers = await account_state(api, owner["id"])
    assert verified is not None and len(providers) == 1


async def test_signing_in_again_through_the_link_signs_nobody_out(api, fake_github):
    """Only the merge revokes: later sign-ins through the established link leave other devices be."""
    profile = github_profile()
    first = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(profile)})
    first_token = (await first.json())["data"]["token"]
    again = await api.post("/api/auth/github/token", json={"access_token": fake_github.issue_access_token(profile)})
    assert again.status == 200
    assert await status_with(api, headers=bearer(first_token)) == 200


# -- login CSRF through the OAuth callback -------------------------------------------------------


async def attacker_callback(api, fake, provider: str, profile) -> str:
    """The attacker starts a sign-in in their own browser and stops at the callback URL."""
    resp = await api.get(f"/api/auth/{provider}/redirect", allow_redirects=False)
    assert resp.status == 302
    fake.consenting = profile
    path = location_path(await fake.consent(resp.headers["Location"]))
    forget_cookies(api)  # the attacker's browser is gone; what follows is the victim's
    return path


@pytest.mark.parametrize("provider", ["google", "github"])
async def test_a_callback_opened_in_another_browser_signs_nobody_in(api, fake_google, fake_github, provider):
    fake = fake_google if provider == "google" else fake_github
    attacker = google_profile() if provider == "google" else github_profile()
    path = await attacker_callback(api, fake, provider, attacker)
    calls_before = list(fake.calls)

    # the victim's browser, holding no binding cookie
    resp = await api.get(path, allow_redirects=False)
    assert resp.status == 403
    assert "api_token" not in resp.cookies
    body = await resp.json()
    assert body["code"] == 403
    assert body["message"] == (
        "This sign-in was started in another browser (or its cookie expired). Start the sign-in again."
    )
    # the code was never exchanged, and the state is spent
    assert fake.calls == calls_before
    resp = await api.get(path, headers=JSON)
    assert resp.status == 400

    # a victim mid-way through a sign-in of their own holds a binding, but not the attacker's
    path = await attacker_callback(api, fake, provider, attacker)
    await api.get(f"/api/auth/{provider}/redirect", allow_redirects=False)
    resp = await api.get(path, allow_redirects=False)
    assert resp.status == 403
    assert "api_token" not in resp.cookies
    # so is a forged cookie
    path = await attacker_callback(api, fake, provider, attacker)
    resp = await api.get(path, allow_redirects=False, cookies={"oauth_state_binding": "x" * 43})
    assert resp.status == 403

    async with api.app[pool_key].acquire() as conn:
        email = attacker["email"] if provider == "google" else attacker["emails"][1]["email"]
        assert await conn.fetchval("select count(*) from users where email = $1", email) == 0


async def test_the_browser_that_started_the_sign_in_finishes_it(api, fake_google):
    resp = await api.get("/api/auth/google/redirect", allow_redirects=False)
    binding = resp.cookies["oauth_state_binding"]
    assert binding["httponly"] is True
    assert binding["samesite"] == "Lax"
    assert binding["path"] == "/api/auth/google/"
    assert int(binding["max-age"]) == 600
    fake_google.consenting = google_profile()
    back = location_path(await fake_google.consent(resp.headers["Location"]))
    resp = await api.get(back, allow_redirects=False)
    assert resp.status == 302
    assert resp.cookies["api_token"].value


async def test_two_sign_ins_in_two_tabs_both_finish(api, fake_google):
    first = await api.get("/api/auth/google/redirect", allow_redirects=False)
    second = await api.get("/api/auth/google/redirect", allow_redirects=False)
    assert first.cookies["oauth_state_binding"].value == second.cookies["oauth_state_binding"].value
    fake_google.consenting = google_profile()
    paths = [location_path(await fake_google.consent(r.headers["Location"])) for r in (first, second)]
    for path in paths:
        assert (await api.get(path, headers=JSON)).status == 200


# -- tokens issued to other OAuth apps -------------------------------------------------------------


async def test_a_github_token_of_another_oauth_app_is_refused(api, fake_github):
    victim = github_profile()
    # a site the victim once signed in to with GitHub holds this token, issued to its own app
    foreign = fake_github.issue_access_token(victim, client_id="Iv1.someone-elses-app")
    resp = await api.post("/api/auth/github/token", json={"access_token": foreign})
    assert resp.status == 400
    body = await resp.json()
    assert body["message"] == "Invalid or expired GitHub access token."
    assert "check_token" in fake_github.calls and "user" not in fake_github.calls
    async with api.app[pool_key].acquire() as conn:
        assert await conn.fetchval(
            "select count(*) from user_providers where provider = 'github' and provider_user_id = $1",
            str(victim["user"]["id"]),
        ) == 0

    ours = fake_github.issue_access_token(victim)
    resp = await api.post("/api/auth/github/token", json={"access_token": ours})
    assert resp.status == 200
    assert (await resp.json())["data"]["user"]["email"] == victim["emails"][1]["email"]


async def test_a_google_credential_for_another_client_is_refused(api, fake_google):
    """Google's side of the same check: an ID token's audience must be our client id (it is)."""
    credential = fake_google.issue_id_token(google_profile(), aud="other-site.apps.googleusercontent.com")
    resp = await api.post("/api/auth/google/token", json={"credential": credential})
    assert resp.status == 400
    assert (await resp.json())["message"] == "The Google credential was not issued for this application."
    resp = await api.post("/auth/google/login", json={"token": credential})
    assert resp.status == 401


# -- login CSRF through POST /login ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Sec-Fetch-Site": "cross-site"},
        # a look-alike that only starts with our host
        {"Origin": "http://127.0.0.1.evil.example"},
    ],
)
@pytest.mark.parametrize("form", [True, False])
async def test_a_cross_site_sign_in_is_403_and_makes_no_session(client, headers, form):
    attacker = await make_user(client.app)
    forget_cookies(client)
    creds = {"email": attacker["email"], "password": DEFAULT_PASSWORD}
    if form:
        resp = await client.post(
            "/login", data=creds, headers={"Accept": "text/html", **headers}, allow_redirects=False
        )
        assert resp.content_type == "text/html"
        assert "Sign-in requests from other sites are refused." in await resp.text()
    else:
        resp = await client.post("/login", json=creds, headers=headers)
        body = await resp.json()
        assert body["message"] == (
            "Sign-in requests from other sites are refused. Open the sign-in page here and try again."
        )
    assert resp.status == 403
    assert "roost_session" not in resp.cookies
    assert "XSRF-TOKEN" not in resp.cookies


async def test_a_same_origin_sign_in_works(client):
    user = await make_user(client.app)
    creds = {"email": user["email"], "password": DEFAULT_PASSWORD}
    own = str(client.make_url("")).rstrip("/")
    for headers in (
        {"Origin": own, "Sec-Fetch-Site": "same-origin"},
        {"Referer": own + "/login?next=/developer"},
        # APP_URL's origin, whatever Host the request came in on (an ingress may rewrite it)
        {"Origin": "http://127.0.0.1:8000", "Host": "roost.internal:8080"},
        {},  # an API client or script: no browser headers at all
    ):
        forget_cookies(client)
        resp = await client.post("/login", data=creds, headers={"Accept": "text/html", **headers},
                                 allow_redirects=False)
        assert resp.status == 302, headers
        assert resp.cookies["roost_session"].value


async def test_a_state_from_the_link_flow_is_still_bound_to_its_user(api, fake_google):
    """The link flow is bound to the signed-in user, not a cookie: a Bearer client keeps working."""
    owner = await make_user(api.app)
    auth = bearer(await make_token(api.app, owner["id"]))
    resp = await api.get("/api/auth/link/google/redirect", headers=auth, allow_redirects=False)
    assert "oauth_state_binding" not in resp.cookies
    fake_google.consenting = google_profile()
    back = location_path(await fake_google.consent(resp.headers["Location"]))
    forget_cookies(api)
    resp = await api.get(back, headers=auth)
    assert resp.status == 200
