"""002: POST /auth/google/login, Google sign-in answered with a JWT.

The reference takes `{token}` (a Google ID token); the document takes `{code, redirect_uri}` (an
authorization code the client obtained). Both are accepted; whoever the Google identity resolves
to (linked user, same verified email, or a new account) is signed in, exactly as on /api: an
account with the same but unverified email is a 409, and a first sign-in that attaches Google to
an account by its email signs that account out everywhere else.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from domain.errors import BadRequest, Invalid, Unauthenticated
from domain.oauth import SocialAccounts
from gateway.kernel import oauth_providers
from gateway.kernel.auth.limits import throttle_auth
from gateway.kernel.auth.revocation import revoke_credentials
from gateway.kernel.fields import BlankIsAbsent
from gateway.kernel.keys import accounts_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse
from gateway.petcare.envelope import success
from gateway.petcare.openapi import TAG_AUTH, THROTTLED_HEADERS
from gateway.petcare.user_views import LoginAnswer, login_view

# What makes a `{token}` itself unacceptable (as opposed to Google being unreachable): a 401,
# as the reference answers for a token it cannot verify.
_BAD_TOKEN_CODES = frozenset({"oauth_invalid_credential", "oauth_wrong_audience"})


class GoogleLoginIn(BlankIsAbsent):
    """A blank `token` or `code` is one not sent (the either-or check below sees it missing)."""

    token: str | None = Field(default=None, max_length=8192)
    code: str | None = Field(default=None, max_length=2048)
    redirect_uri: str | None = Field(default=None, max_length=2048)


@documented(
    "Sign in with Google",
    tags=(TAG_AUTH,),
    description="Send the reference's `{token}` (a Google ID token) or the document's `{code, redirect_uri}` "
    "(an authorization code). A token Google does not vouch for is a 401, a code it refuses a 400; an "
    "account with the same but unverified email is a 409, a deactivated one a 403; 503 when Google "
    "sign-in is not configured.",
    response=LoginAnswer,
    body=GoogleLoginIn,
    errors=(401, 403, 409, 429, 503),
    headers_out=THROTTLED_HEADERS,
)
async def google_login(request: web.Request) -> web.Response:
    await throttle_auth(request)
    body = await parse(request, GoogleLoginIn)
    if body.token is None and body.code is None:
        raise Invalid(
            "Either token or code is required",
            fields={"token": ["Either token or code is required."], "code": ["Either token or code is required."]},
        )
    settings = request.config_dict[settings_key]
    client = oauth_providers.google(settings)
    if body.token is not None:
        try:
            profile = await client.profile_from_id_token(body.token)
        except BadRequest as exc:
            if exc.code in _BAD_TOKEN_CODES:
                raise Unauthenticated("Invalid Google token", code=exc.code) from exc
            raise
    else:
        assert body.code is not None  # one of the two, checked above
        profile = await client.profile_from_code(body.code, body.redirect_uri)
    social = SocialAccounts(request.config_dict[pool_key])
    result = await social.sign_in(profile)
    user = result.user
    if result.merged:
        await revoke_credentials(request.config_dict, user["id"])
        # the revocation moved the token epoch; the JWT must carry the new one
        user = await social.user(user["id"])
    data = login_view(user, request.config_dict[accounts_key].issue_jwt(user), settings)
    return success(data, "Google login successful")
