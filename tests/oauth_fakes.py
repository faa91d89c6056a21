"""Small local servers that speak Google's and GitHub's OAuth protocols, for tests.

Each runs on 127.0.0.1 and checks what the real provider checks: the client id and secret, that
an authorization code was issued to this client for this redirect_uri and is used once, Bearer
access tokens on the profile endpoints, and (GitHub) a User-Agent. `settings()` gives the Settings
overrides that point Roost at it. A test plays the person at the consent page by setting
`consenting` before following the authorize URL, or mints codes and tokens directly.

The fixtures `fake_google` and `fake_github` reach every test through tests/conftest.py's
`pytest_plugins`: take them as arguments, never import them.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


class _FakeProvider:
    client_id: str
    client_secret: str

    def __init__(self) -> None:
        self.server: TestServer | None = None
        # code -> (redirect_uri, profile); a code works once
        self.codes: dict[str, tuple[str, Any]] = {}
        self.access_tokens: dict[str, Any] = {}
        # whoever is "signed in to the provider" when the browser reaches the consent page
        self.consenting: Any = None
        self.calls: list[str] = []

    @property
    def base_url(self) -> str:
        assert self.server is not None, "the fake provider is not running"
        return str(self.server.make_url("")).rstrip("/")

    def app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> None:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def issue_code(self, profile: Any, redirect_uri: str) -> str:
        code = "code-" + secrets.token_urlsafe(12)
        self.codes[code] = (redirect_uri, profile)
        return code

    def issue_access_token(self, profile: Any) -> str:
        token = "at-" + secrets.token_urlsafe(16)
        self.access_tokens[token] = profile
        return token

    def _bearer(self, request: web.Request) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        return self.access_tokens.get(token.strip())

    async def _consent(self, request: web.Request) -> web.Response:
        """The authorize endpoint: the consenting person agrees at once; back to redirect_uri."""
        self.calls.append("authorize")
        q = request.query
        if q.get("client_id") != self.client_id or not q.get("redirect_uri") or q.get("response_type") != "code":
            return web.Response(status=400, text="invalid authorize request")
        if self.consenting is None:
            return web.Response(status=400, text="nobody is signed in at the fake provider")
        code = self.issue_code(self.consenting, q["redirect_uri"])
        target = URL(q["redirect_uri"]).update_query({"code": code, "state": q.get("state", "")})
        raise web.HTTPFound(str(target))

    async def consent(self, authorize_url: str) -> str:
        """Follows `authorize_url` as a browser would; returns where the provider sends it back."""
        async with aiohttp.ClientSession() as http:
            async with http.get(authorize_url, allow_redirects=False) as resp:
                assert resp.status == 302, await resp.text()
                return resp.headers["Location"]


class FakeGoogle(_FakeProvider):
    def __init__(self) -> None:
        super().__init__()
        self.client_id = f"{uuid.uuid4().hex[:12]}.apps.googleusercontent.com"
        self.client_secret = "google-secret-" + secrets.token_hex(8)
        self.id_tokens: dict[str, dict[str, Any]] = {}

    def settings(self) -> dict[str, Any]:
        return {
            "google_client_id": self.client_id,
            "google_client_secret": self.client_secret,
            "google_oauth_authorize_url": f"{self.base_url}/o/oauth2/v2/auth",
            "google_oauth_token_url": f"{self.base_url}/token",
            "google_oauth_userinfo_url": f"{self.base_url}/v1/userinfo",
            "google_tokeninfo_url": f"{self.base_url}/tokeninfo",
        }

    def issue_id_token(self, profile: dict[str, Any], *, aud: str | None = None, exp: float | None = None) -> str:
        """A Google Identity Services credential for `profile` (opaque here; tokeninfo resolves it)."""
        token = "eyJ" + secrets.token_urlsafe(24) + "." + secrets.token_urlsafe(16) + "." + secrets.token_urlsafe(16)
        claims = {
            "iss": "https://accounts.google.com",
            "azp": aud or self.client_id,
            "aud": aud or self.client_id,
            "sub": profile["sub"],
            "email": profile["email"],
            # tokeninfo renders booleans and numbers as strings
            "email_verified": "true" if profile.get("email_verified", True) else "false",
            "name": profile.get("name"),
            "picture": profile.get("picture"),
            "given_name": profile.get("given_name"),
            "family_name": profile.get("family_name"),
            "iat": str(int(time.time())),
            "exp": str(int(exp if exp is not None else time.time() + 3600)),
            "alg": "RS256",
            "typ": "JWT",
        }
        self.id_tokens[token] = {k: v for k, v in claims.items() if v is not None}
        return token

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/o/oauth2/v2/auth", self._consent)
        app.router.add_post("/token", self._token)
        app.router.add_get("/v1/userinfo", self._userinfo)
        app.router.add_get("/tokeninfo", self._tokeninfo)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        self.calls.append("token")
        form = await request.post()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return _json({"error": "invalid_client", "error_description": "Unauthorized"}, 401)
        if form.get("grant_type") != "authorization_code":
            return _json({"error": "unsupported_grant_type"}, 400)
        issued = self.codes.pop(str(form.get("code", "")), None)
        if issued is None:
            return _json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        redirect_uri, profile = issued
        if form.get("redirect_uri") != redirect_uri:
            return _json({"error": "redirect_uri_mismatch", "error_description": "Bad Request"}, 400)
        return _json(
            {
                "access_token": self.issue_access_token(profile),
                "expires_in": 3599,
                "scope": "openid https://www.googleapis.com/auth/userinfo.email "
                "https://www.googleapis.com/auth/userinfo.profile",
                "token_type": "Bearer",
                "id_token": self.issue_id_token(profile),
            }
        )

    async def _userinfo(self, request: web.Request) -> web.Response:
        self.calls.append("userinfo")
        profile = self._bearer(request)
        if profile is None:
            return _json({"error": "invalid_request", "error_description": "Invalid Credentials"}, 401)
        return _json({k: v for k, v in profile.items() if v is not None})

    async def _tokeninfo(self, request: web.Request) -> web.Response:
        self.calls.append("tokeninfo")
        claims = self.id_tokens.get(request.query.get("id_token", ""))
        if claims is None or int(claims["exp"]) < time.time():
            return _json({"error": "invalid_token", "error_description": "Invalid Value"}, 400)
        return _json(claims)


class FakeGitHub(_FakeProvider):
    # GitHub Enterprise style: the REST API under a path, so URL joining is exercised
    API_PATH = "/api/v3"

    def __init__(self) -> None:
        super().__init__()
        self.client_id = "Iv1." + secrets.token_hex(8)
        self.client_secret = secrets.token_hex(20)
        # access token -> the client id of the OAuth app GitHub issued it to
        self.token_clients: dict[str, str] = {}

    def issue_access_token(self, profile: Any, *, client_id: str | None = None) -> str:
        """A token for `profile`, issued to our app unless `client_id` names another OAuth app
        (the REST API serves it all the same; only check-token tells the apps apart)."""
        token = super().issue_access_token(profile)
        self.token_clients[token] = client_id or self.client_id
        return token

    def settings(self) -> dict[str, Any]:
        return {
            "github_client_id": self.client_id,
            "github_client_secret": self.client_secret,
            "github_oauth_authorize_url": f"{self.base_url}/login/oauth/authorize",
            "github_oauth_token_url": f"{self.base_url}/login/oauth/access_token",
            "github_api_url": f"{self.base_url}{self.API_PATH}",
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/login/oauth/authorize", self._consent)
        app.router.add_post("/login/oauth/access_token", self._token)
        app.router.add_get(f"{self.API_PATH}/user", self._user)
        app.router.add_get(f"{self.API_PATH}/user/emails", self._emails)
        app.router.add_post(self.API_PATH + "/applications/{client_id}/token", self._check_token)
        return app

    def _basic_auth(self, request: web.Request) -> tuple[str, str] | None:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password

    async def _check_token(self, request: web.Request) -> web.Response:
        """Check a token: basic auth as the app named in the path; 200 with the authorization for a
        live token issued to that app, 404 for every other token (and for wrong app credentials,
        which GitHub does not tell apart), 422 without an access_token."""
        self.calls.append("check_token")
        client_id = request.match_info["client_id"]
        not_found = _json({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404)
        if self._basic_auth(request) != (self.client_id, self.client_secret) or client_id != self.client_id:
            return not_found
        try:
            body = await request.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            return _json({"message": "Validation Failed", "errors": [{"field": "access_token"}]}, 422)
        profile = self.access_tokens.get(token)
        if profile is None or self.token_clients.get(token) != client_id:
            return not_found
        return _json(
            {
                "id": secrets.randbelow(10**8),
                "scopes": ["read:user", "user:email"],
                "token": token,
                "token_last_eight": token[-8:],
                "app": {"client_id": client_id, "name": "Roost", "url": "https://roost.example.test"},
                "user": profile["user"],
                "expires_at": None,
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        self.calls.append("token")
        form = dict(await request.post()) if request.content_type != "application/json" else await request.json()
        # GitHub reports every failure here as a 200 with an `error`
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            body = {
                "error": "incorrect_client_credentials",
                "error_description": "The client_id and/or client_secret passed are incorrect.",
            }
        elif (issued := self.codes.pop(str(form.get("code", "")), None)) is None:
            body = {"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}
        elif form.get("redirect_uri") and form.get("redirect_uri") != issued[0]:
            body = {"error": "redirect_uri_mismatch", "error_description": "The redirect_uri MUST match."}
        else:
            token = self.issue_access_token(issued[1])
            body = {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}
        if "application/json" not in request.headers.get("Accept", ""):
            # what GitHub does without the Accept header: a form-encoded body
            return web.Response(text=str(URL.build(query=body))[1:], content_type="application/x-www-form-urlencoded")
        return _json(body)

    def _api_guard(self, request: web.Request) -> web.Response | dict[str, Any]:
        if not request.headers.get("User-Agent"):
            message = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header"
            return _json({"message": message}, 403)
        profile = self._bearer(request)
        if profile is None:
            return _json({"message": "Bad credentials", "status": "401"}, 401)
        return profile

    async def _user(self, request: web.Request) -> web.Response:
        self.calls.append("user")
        profile = self._api_guard(request)
        if isinstance(profile, web.Response):
            return profile
        return _json(profile["user"])

    async def _emails(self, request: web.Request) -> web.Response:
        self.calls.append("emails")
        profile = self._api_guard(request)
        if isinstance(profile, web.Response):
            return profile
        if profile.get("emails") is None:  # a token without the user:email scope
            return _json({"message": "Not Found"}, 404)
        return _json(profile["emails"])


def google_profile(email: str | None = None, **overrides: Any) -> dict[str, Any]:
    """An OpenID Connect userinfo answer for a new, unique Google account."""
    email = email or f"g-{uuid.uuid4().hex[:10]}@gmail.test"
    profile = {
        "sub": str(100000000000000000000 + secrets.randbelow(10**20)),
        "email": email,
        "email_verified": True,
        "name": "Ada King Lovelace",
        "given_name": "Ada",
        "family_name": "King Lovelace",
        "picture": f"https://lh3.googleusercontent.com/a/{uuid.uuid4().hex}",
    }
    profile.update(overrides)
    return profile


def github_profile(
    email: str | None = None, *, login: str | None = None, name: str | None = "Grace Hopper", **user: Any
) -> dict[str, Any]:
    """GitHub's /user and /user/emails for a new, unique account (primary email verified)."""
    email = email or f"gh-{uuid.uuid4().hex[:10]}@users.test"
    user_id = 10_000_000 + secrets.randbelow(10**8)
    body = {
        "login": login or f"octo-{uuid.uuid4().hex[:8]}",
        "id": user_id,
        "node_id": "MDQ6VXNlcj" + secrets.token_hex(4),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "name": name,
        "email": None,  # most people keep it private; /user/emails has it
        "type": "User",
    }
    body.update(user)
    return {
        "user": body,
        "emails": [
            {"email": f"noreply-{user_id}@users.noreply.github.test", "primary": False, "verified": True,
             "visibility": None},
            {"email": email, "primary": True, "verified": True, "visibility": "private"},
        ],
    }


def location_path(location: str) -> str:
    """The path and query of an absolute URL (to replay a provider's redirect on the test client)."""
    parts = urlsplit(location)
    return parts.path + ("?" + parts.query if parts.query else "")


@pytest.fixture
async def fake_google() -> AsyncIterator[FakeGoogle]:
    fake = FakeGoogle()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def fake_github() -> AsyncIterator[FakeGitHub]:
    fake = FakeGitHub()
    await fake.start()
    yield fake
    await fake.close()


# --- the Roost side: an app pointed at the fakes, and a way to ask who a credential signs in ---

WHOAMI_PATH = "/_t/whoami"


async def _whoami(request: web.Request) -> web.Response:
    from gateway.kernel.auth.identity import identity_of

    identity = identity_of(request)
    return web.json_response({"user_id": identity.user_id, "via": identity.via})


def add_whoami(contract, sub: web.Application) -> None:
    """create_app's add_routes hook: GET /api/_t/whoami (and /_t/whoami at the root)."""
    from gateway.kernel.contracts import Contract

    if contract in (Contract.API, Contract.PETCARE):
        sub.router.add_get(WHOAMI_PATH, _whoami)


def settings_for(settings, *fakes: _FakeProvider, **extra: Any):
    """Test settings pointed at the running fakes (model_copy: the session's database and Redis)."""
    update: dict[str, Any] = {"frontend_url": "http://spa.example.test"}
    for fake in fakes:
        update.update(fake.settings())
    update.update(extra)
    return settings.model_copy(update=update)
