"""003's email verification: send a link (POST /api/auth/verify/send), follow it (GET
/api/auth/verify/{token}).

The link points at this backend, which marks the address verified and then answers JSON or, for
a browser, redirects to `${FRONTEND_URL}/auth/verified`. Tokens are random; only their SHA-256 is
stored, with an expiry; each works once.

Asked for an address (not the caller's own), the answer is always 200 "Verification email sent":
an unknown address, an already verified one and a real send look alike (the reference's 404 "User
not found" and "Email already verified" told anyone which addresses have accounts); mail goes only
to accounts that still need it. Signed in and asking for its own address, the caller still hears
"Email already verified".
"""

from __future__ import annotations

from aiohttp import web

from domain.errors import BadRequest, Invalid, NotFound
from domain.mailer import Mailer
from domain.tokens import sha256_hex
from gateway.accounts.browser import redirect
from gateway.accounts.openapi import WRITE_AUTH, WRITE_ERRORS
from gateway.accounts.schemas import VerifiedUser, render
from gateway.kernel.account_views import user_public
from gateway.kernel.api_envelope import success
from gateway.kernel.auth.identity import SignedIn, identity_of
from gateway.kernel.auth.limits import throttle_mail
from gateway.kernel.fields import FORM_CONFIG, BlankIsAbsent, Email, raw_field
from gateway.kernel.keys import accounts_key, jobs_key, pool_key, settings_key
from gateway.kernel.negotiation import prefers_html
from gateway.kernel.openapi.operation import NO_BODY, documented
from gateway.kernel.validation import read_body, validate
from storage import users as users_sql

TOKEN_MAX = 512  # ours are 40 characters
SENT = "Verification email sent"


class VerifySendIn(BlankIsAbsent):
    """An empty `email` means "not given": the signed-in caller's own address."""

    model_config = FORM_CONFIG

    email: Email | None = None


@documented(
    "Mail an email verification link",
    description=(
        "For `email`, or, signed in and without one (the body may be left out), for the caller's own "
        'address. Always 200 "Verification email sent" for someone else\'s address, whether an account '
        'has it or not; the caller\'s own verified address answers "Email already verified".'
    ),
    response=None,
    body=VerifySendIn,
    errors=(*WRITE_ERRORS, 404),
    auth=WRITE_AUTH,
    auth_optional=True,
)
async def send(request: web.Request) -> web.Response:
    """POST /api/auth/verify/send {email} (or signed in, no body) → 200 "Verification email sent"."""
    body = await read_body(request) if request.body_exists else {}
    identity = identity_of(request)
    own_address = identity.authenticated and (not isinstance(body, dict) or not raw_field(body, "email"))
    if not own_address:  # throttled before the lookup, so it cannot be used to probe addresses
        await throttle_mail(request, raw_field(body, "email"))
    data = validate(VerifySendIn, body)
    if data.email is None and not identity.authenticated:
        raise Invalid(fields={"email": ["The email field is required."]})
    async with request.config_dict[pool_key].acquire() as conn:
        if data.email is not None:
            user = await users_sql.by_email(conn, data.email)
        else:
            assert isinstance(identity, SignedIn)  # no email and no account is the 422 above
            user = await users_sql.get(conn, identity.user_id)
    if user is None and own_address:
        raise NotFound("User not found", code="user_not_found")  # signed in, account deleted since
    if user is None or (user["email_verified_at"] is not None and not own_address):
        # Someone else's address, or none: the same answer whether an account has it and
        # whether it is verified, so the endpoint cannot tell which addresses are registered.
        return success(None, SENT)
    if own_address:
        await throttle_mail(request, user["email"])
    if user["email_verified_at"] is not None:
        return success(None, "Email already verified")  # the caller's own account: no secret
    mailer = Mailer.from_settings(request.config_dict[settings_key], request.config_dict[jobs_key])
    await request.config_dict[accounts_key].start_verification(user, mailer)
    return success(None, SENT)


@documented(
    "Follow an email verification link",
    response=VerifiedUser,
    also={302: NO_BODY},
    headers_out={"Location": "302 only (a browser, Accept ranking HTML first): `${FRONTEND_URL}/auth/verified`."},
    errors=(400,),
    path_params={"token": "The token from the mailed link."},
)
async def verify(request: web.Request) -> web.Response:
    """GET /api/auth/verify/{token} → JSON 200 "Email verified" {user}, or 302 for browsers."""
    token = request.match_info["token"]
    if len(token) > TOKEN_MAX:
        raise BadRequest("Invalid verification token", code="invalid_verification_token")
    user = await request.config_dict[accounts_key].verify_email(sha256_hex(token))
    if user is None:
        raise BadRequest("Invalid verification token", code="invalid_verification_token")
    settings = request.config_dict[settings_key]
    if prefers_html(request.headers.get("Accept", "")):
        return redirect(f"{settings.frontend_url.rstrip('/')}/auth/verified")
    return success(render(VerifiedUser(user=user_public(user, settings))), "Email verified")
