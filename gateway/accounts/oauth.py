"""003's Google and GitHub sign-in on /api: browser redirect + callback, API token exchange, and
linking/unlinking providers on a signed-in account.

A callback answers JSON when the client asks for it (Laravel's expectsJson: Accept names JSON
first, or an XMLHttpRequest); otherwise it sets the HttpOnly `api_token` cookie and sends the
browser to `${FRONTEND_URL}/auth/complete`, so the token never appears in a URL.
"""

from __future__ import annotations

import re

from aiohttp import web
from pydantic import BaseModel, Field, field_validator

from domain.errors import BadRequest, Invalid
from domain.oauth import GitHubOAuth, OAuthProvider, ProviderProfile, SocialAccounts
from gateway.accounts.oauth_state import OAuthStates, binding_nonce, invalid_state, sent_binding, set_binding_cookie
from gateway.accounts.openapi import READ_AUTH, WRITE_AUTH, WRITE_ERRORS
from gateway.accounts.schemas import OAuthCallbackQuery, ProviderLinks, UserToken, render
from gateway.kernel import api_envelope as envelope
from gateway.kernel import oauth_providers
from gateway.kernel.account_views import user_public
from gateway.kernel.auth.guards import require_user
from gateway.kernel.auth.limits import throttle_auth
from gateway.kernel.auth.middleware import API_TOKEN_COOKIE
from gateway.kernel.auth.revocation import revoke_credentials
from gateway.kernel.fields import BlankIsAbsent
from gateway.kernel.keys import accounts_key, pool_key, redis_key, settings_key
from gateway.kernel.openapi.operation import NO_BODY, documented
from gateway.kernel.validation import parse

AUTHENTICATED = {"google": "Authenticated via Google", "github": "Authenticated via Github"}
# The cookie outlives a browser session like the token it carries; logout expires both.
COOKIE_MAX_AGE_S = 30 * 24 * 60 * 60
MAX_CODE_CHARS = 2048
# An ID token is a few KB at most.
MAX_CREDENTIAL_CHARS = 8192
PROVIDER_PARAM = {"provider": "`google` or `github`."}
_PROVIDER_ERROR = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class _ExchangeIn(BlankIsAbsent):
    """Laravel's required_without treats an empty string as absent."""

    redirect_uri: str | None = Field(default=None, max_length=2048)


class GoogleTokenIn(_ExchangeIn):
    code: str | None = Field(default=None, max_length=MAX_CODE_CHARS)
    credential: str | None = Field(default=None, max_length=MAX_CREDENTIAL_CHARS)


class GitHubTokenIn(_ExchangeIn):
    code: str | None = Field(default=None, max_length=MAX_CODE_CHARS)
    access_token: str | None = Field(default=None, max_length=MAX_CODE_CHARS)


class UnlinkIn(BaseModel):
    provider: str

    @field_validator("provider")
    @classmethod
    def _known(cls, value: str) -> str:
        if value.strip().lower() not in oauth_providers.PROVIDERS:
            raise ValueError("The selected provider is invalid.")
        return value.strip().lower()


def expects_json(request: web.Request) -> bool:
    if request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest":
        return True
    first = request.headers.get("Accept", "").split(",", 1)[0].split(";", 1)[0].strip().lower()
    return "/json" in first or "+json" in first


def _found(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def _states(request: web.Request) -> OAuthStates:
    settings = request.config_dict[settings_key]
    return OAuthStates(request.config_dict[redis_key], binding_key=settings.app_key, prefix=settings.redis_prefix)


def _social(request: web.Request) -> SocialAccounts:
    return SocialAccounts(request.config_dict[pool_key])


def _client(request: web.Request) -> OAuthProvider:
    client = oauth_providers.provider(request.config_dict[settings_key], request.match_info["provider"])
    client.ensure_configured()
    return client


def _callback_code(request: web.Request, client: OAuthProvider) -> str:
    """The code the provider sent back, or a 400 saying why there is none."""
    error = request.query.get("error")
    if error:
        shown = error if _PROVIDER_ERROR.match(error) else "error"
        raise BadRequest(f"{client.label} sign-in was not completed ({shown}).", code="oauth_denied")
    code = request.query.get("code", "").strip()
    if not code:
        raise BadRequest("The authorization code is missing.", code="oauth_code_missing")
    if len(code) > MAX_CODE_CHARS:
        raise BadRequest(f"Invalid or expired {client.label} authorization code.", code="oauth_invalid_code")
    return code


async def _signed_in(request: web.Request, profile: ProviderProfile, *, as_json: bool) -> web.Response:
    settings = request.config_dict[settings_key]
    result = await _social(request).sign_in(profile)
    user = result.user
    token = await request.config_dict[accounts_key].issue_token(
        user["id"], name=f"{profile.provider}-oauth", kind="oauth"
    )
    if result.merged:
        # the provider just became a way into an existing account: everything else signs out
        await revoke_credentials(request.config_dict, user["id"], keep_token_id=token.record["id"])
    if as_json:
        data = UserToken(user=user_public(user, settings), token=token.plain_text)
        return envelope.success(render(data), AUTHENTICATED[profile.provider])
    response = _found(f"{settings.frontend_url.rstrip('/')}/auth/complete")
    response.set_cookie(
        API_TOKEN_COOKIE,
        token.plain_text,
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=settings.app_env == "production",
    )
    return response


@documented(
    "Start a Google or GitHub sign-in",
    response=NO_BODY,
    status=302,
    headers_out={
        "Location": "The provider's consent page.",
        "Set-Cookie": "The short-lived cookie that binds the state to this browser.",
    },
    errors=(503,),
    path_params=PROVIDER_PARAM,
)
async def redirect(request: web.Request) -> web.Response:
    """GET /api/auth/{provider}/redirect → 302 to the provider's consent page, with the cookie that
    binds the state to this browser (oauth_state.py says why)."""
    client = _client(request)
    nonce = binding_nonce(request)
    state = await _states(request).issue(client.name, "login", client.redirect_uri, binding=nonce)
    response = _found(client.authorize_url(state, client.redirect_uri))
    # `/api/auth/{provider}/` wherever this contract is mounted (/api or API_DOMAIN's root): the
    # callback needs the cookie, and so does this route, to reuse the nonce for a second tab
    provider_path = request.path.rsplit("/", 1)[0] + "/"
    secure = request.config_dict[settings_key].app_env == "production"
    set_binding_cookie(response, nonce, path=provider_path, secure=secure)
    return response


@documented(
    "Finish a Google or GitHub sign-in",
    response=UserToken,
    also={302: NO_BODY},
    query=OAuthCallbackQuery,
    headers_out={
        "Location": "302 only: `${FRONTEND_URL}/auth/complete`.",
        "Set-Cookie": "302 only: the HttpOnly `api_token` cookie carrying the new token.",
    },
    errors=(400, 403, 409, 503),
    path_params=PROVIDER_PARAM,
)
async def callback(request: web.Request) -> web.Response:
    """GET /api/auth/{provider}/callback?code=&state= → JSON {user, token} or cookie + 302.

    Only from the browser (or cookie-keeping client) that called the redirect: a state is refused
    without its binding cookie, JSON or not. Clients that run the consent themselves and keep no
    cookies exchange the code at POST /api/auth/{provider}/token, which involves no state of ours.
    """
    client = _client(request)
    state = await _states(request).consume(
        request.query.get("state"), provider=client.name, intent="login", binding=sent_binding(request)
    )
    code = _callback_code(request, client)
    profile = await client.profile_from_code(code, state.redirect_uri)
    return await _signed_in(request, profile, as_json=expects_json(request))


@documented(
    "Exchange a Google code or ID token for a token",
    response=UserToken,
    body=GoogleTokenIn,
    errors=(*WRITE_ERRORS, 400, 409, 503),
)
async def google_token(request: web.Request) -> web.Response:
    """POST /api/auth/google/token {code | credential, redirect_uri?} → {user, token}."""
    await throttle_auth(request)
    body = await parse(request, GoogleTokenIn)
    if body.code is None and body.credential is None:
        raise Invalid(
            fields={
                "code": ["The code field is required when credential is not present."],
                "credential": ["The credential field is required when code is not present."],
            }
        )
    client = oauth_providers.google(request.config_dict[settings_key])
    if body.code is not None:
        profile = await client.profile_from_code(body.code, body.redirect_uri)
    else:
        assert body.credential is not None  # one of the two, checked above
        profile = await client.profile_from_id_token(body.credential)
    return await _signed_in(request, profile, as_json=True)


@documented(
    "Exchange a GitHub code or access token for a token",
    response=UserToken,
    body=GitHubTokenIn,
    errors=(*WRITE_ERRORS, 400, 409, 503),
)
async def github_token(request: web.Request) -> web.Response:
    """POST /api/auth/github/token {code | access_token, redirect_uri?} → {user, token}."""
    await throttle_auth(request)
    body = await parse(request, GitHubTokenIn)
    if body.code is None and body.access_token is None:
        raise Invalid(
            fields={
                "code": ["The code field is required when access token is not present."],
                "access_token": ["The access token field is required when code is not present."],
            }
        )
    client: GitHubOAuth = oauth_providers.github(request.config_dict[settings_key])
    if body.code is not None:
        profile = await client.profile_from_code(body.code, body.redirect_uri)
    else:
        assert body.access_token is not None  # one of the two, checked above
        profile = await client.profile_from_access_token(body.access_token)
    return await _signed_in(request, profile, as_json=True)


@documented(
    "Start linking Google or GitHub to the signed-in user",
    response=NO_BODY,
    status=302,
    headers_out={"Location": "The provider's consent page."},
    errors=(503,),
    auth=READ_AUTH,
    path_params=PROVIDER_PARAM,
)
async def link_redirect(request: web.Request) -> web.Response:
    """GET /api/auth/link/{provider}/redirect (signed in) → 302 with a state bound to the caller."""
    identity = require_user(request)
    client = _client(request)
    redirect_uri = oauth_providers.callback_url(request.config_dict[settings_key], client.name, link=True)
    state = await _states(request).issue(client.name, "link", redirect_uri, identity.user_id)
    return _found(client.authorize_url(state, redirect_uri))


@documented(
    "Finish linking Google or GitHub to the signed-in user",
    response=ProviderLinks,
    query=OAuthCallbackQuery,
    errors=(400, 403, 404, 409, 503),
    auth=READ_AUTH,
    path_params=PROVIDER_PARAM,
)
async def link_callback(request: web.Request) -> web.Response:
    """GET /api/auth/link/{provider}/callback (signed in) → the provider attached to the caller.

    The state must have been issued to the same user: otherwise someone could send a victim a link
    flow they started and attach the victim's provider identity to their own account.
    """
    identity = require_user(request)
    client = _client(request)
    state = await _states(request).consume(request.query.get("state"), provider=client.name, intent="link")
    if state.user_id != identity.user_id:
        raise invalid_state()
    code = _callback_code(request, client)
    profile = await client.profile_from_code(code, state.redirect_uri)
    social = _social(request)
    user = await social.link(identity.user_id, profile)
    # model_validate: the provider names are checked against the Literal, not cast to it
    data = ProviderLinks.model_validate(
        {
            "user": user_public(user, request.config_dict[settings_key]),
            "provider": client.name,
            "providers": await social.linked_providers(identity.user_id),
        }
    )
    return envelope.success(render(data), "Provider linked")


@documented(
    "Unlink Google or GitHub from the signed-in user",
    response=ProviderLinks,
    body=UnlinkIn,
    errors=(*WRITE_ERRORS, 400, 404),
    auth=WRITE_AUTH,
)
async def unlink(request: web.Request) -> web.Response:
    """POST /api/auth/unlink {provider} (signed in)."""
    identity = require_user(request)
    body = await parse(request, UnlinkIn)
    social = _social(request)
    user = await social.unlink(identity.user_id, body.provider)
    # model_validate: the provider names are checked against the Literal, not cast to it
    data = ProviderLinks.model_validate(
        {
            "user": user_public(user, request.config_dict[settings_key]),
            "provider": body.provider,
            "providers": await social.linked_providers(identity.user_id),
        }
    )
    return envelope.success(render(data), "Provider unlinked")
