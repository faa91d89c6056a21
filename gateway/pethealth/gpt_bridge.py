"""000's GPT auth bridge: how a ChatGPT connector gets a personal access token for a person.

The flow: the connector sends the person to `/gpt-connect?session_id=…&session_sig=…` (its own
OAuth session, signed with the shared HMAC secret). There they sign in or register
(`POST /api/gpt-auth/register`), then confirm (`POST /api/gpt-auth/confirm`, browser session
only), which answers with a redirect to `<GPT_CONNECTOR_URL>/oauth/callback?session_id&code`.
The connector exchanges the code with its API key (`POST /api/gpt-auth/exchange`) for a token
named `gpt-connector` with every ability, and can revoke it later (`POST /api/gpt-auth/revoke`).
The token is minted at exchange, after the person confirmed: Redis holds only the code's hash
and a user id, never a token.
"""

from __future__ import annotations

import logging
from typing import Any, Literal
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, Field

from domain.errors import BadRequest, Invalid, Unauthenticated
from domain.gpt_sessions import BridgeState, connector_key_ok, require_setting, require_signature
from domain.mailer import Mailer
from domain.passwords import prehash
from domain.token_management import AVAILABLE_PERMISSIONS
from domain.tokens import parse_pat
from gateway.kernel.account_views import UserPublic, user_public
from gateway.kernel.api_envelope import success
from gateway.kernel.auth.guards import require_session
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.auth.limits import throttle_auth, throttle_register
from gateway.kernel.fields import FORM_CONFIG, Email
from gateway.kernel.keys import accounts_key, jobs_key, pool_key, redis_key, sessions_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import read_body, validate
from gateway.pethealth.openapi import CONNECTOR, SESSION_WRITE
from gateway.pethealth.pet_schemas import Out
from storage import tokens as tokens_sql
from storage import users as users_sql

log = logging.getLogger(__name__)

TOKEN_NAME = "gpt-connector"
TOKEN_KIND = "gpt"
# All nine: the connector acts for the person across pets, health records and the profile.
TOKEN_ABILITIES = AVAILABLE_PERMISSIONS
PASSWORD_MIN = 10
CODE_MAX = 255
REUSED_SESSION = "This GPT connect session has already been used."
BAD_CODE = "Invalid or expired authorization code."


def _state(request: web.Request) -> BridgeState:
    return BridgeState(request.config_dict[redis_key], request.config_dict[settings_key].redis_prefix)


async def _connector_only(request: web.Request) -> None:
    """The connector's key, or 503/401. Only wrong keys count against the sign-in throttle: the
    connector calls from one address for every person, so throttling its good calls per IP
    would throttle everyone."""
    try:
        connector_key_ok(request.config_dict[settings_key], request.headers.get("Authorization", ""))
    except Unauthenticated:
        await throttle_auth(request)
        raise


def _str(body: Any, name: str) -> Any:
    return body.get(name) if isinstance(body, dict) else None


SESSION_ID = "The connector's OAuth session, from /gpt-connect's query."
SESSION_SIG = "Hex HMAC-SHA256 of session_id with the connector's shared secret; a wrong one is a 400."


class ConfirmIn(BaseModel):
    session_id: str = Field(min_length=1, max_length=255, description=SESSION_ID)
    session_sig: str = Field(min_length=1, max_length=128, description=SESSION_SIG)


class ExchangeIn(BaseModel):
    model_config = FORM_CONFIG

    code: str = Field(min_length=1, max_length=CODE_MAX)


class RevokeIn(BaseModel):
    model_config = FORM_CONFIG

    token: str = Field(min_length=1, max_length=512)


class GptRegisterIn(BaseModel):
    model_config = FORM_CONFIG

    name: str = Field(min_length=1, max_length=255)
    email: Email
    password: str = Field(min_length=1, max_length=255)
    password_confirmation: str | None = Field(default=None, max_length=255)


class GptRegisterBody(GptRegisterIn):
    """POST /api/gpt-auth/register's body as the document shows it: the person's fields and the
    signed connect session (checked before the fields, by require_signature)."""

    session_id: str = Field(min_length=1, max_length=255, description=SESSION_ID)
    session_sig: str = Field(min_length=1, max_length=128, description=SESSION_SIG)


class GptRegistered(Out):
    user: UserPublic
    requires_verification: bool = Field(description="Whether the account waits for its email to be verified.")
    email_verified: bool
    email_sent: bool = Field(description="Whether the verification mail was queued.")
    message: str


class TelegramLink(Out):
    telegram_login_token: str = Field(
        description="20 lower-case characters; resumes this connect session after the Telegram sign-in, "
        "for 30 minutes."
    )


class GptConfirmed(Out):
    redirect_url: str = Field(
        description="`<connector URL>/oauth/callback?session_id=…&code=…`; the code lives 5 minutes."
    )


class GptExchanged(Out):
    sanctum_token: str = Field(
        description="A personal access token `<id>|<secret>` named gpt-connector, with every ability."
    )
    user_id: int


class GptRevoked(Out):
    revoked: Literal[True]


SIGNED = (
    "The body carries the connector's signed session (`session_id`, `session_sig`): a bad signature or "
    "a session already used here is a 400; the server without its connector secret is a 500."
)


def password_problems(password: object, confirmation: object) -> list[str]:
    """Laravel's `Password::min(10)->mixedCase()->numbers()` plus `confirmed`, every failure at once."""
    if not isinstance(password, str) or not password:
        return []  # the model reports a missing or non-string password
    problems = []
    if len(password) < PASSWORD_MIN:
        problems.append(f"The password field must be at least {PASSWORD_MIN} characters.")
    if not (any(c.isupper() for c in password) and any(c.islower() for c in password)):
        problems.append("The password field must contain at least one uppercase and one lowercase letter.")
    if not any(c.isdigit() for c in password):
        problems.append("The password field must contain at least one number.")
    if confirmation != password:
        problems.append("The password field confirmation does not match.")
    return problems


def _validate_registration(body: Any) -> GptRegisterIn:
    problems = password_problems(_str(body, "password"), _str(body, "password_confirmation"))
    try:
        data = validate(GptRegisterIn, body)
    except Invalid as exc:
        if problems:
            exc.fields.setdefault("password", []).extend(problems)
        raise
    if problems:
        raise Invalid(fields={"password": problems})
    return data


async def _send_verification(request: web.Request, user: Any) -> bool:
    """The same verification (token and mail) as POST /api/auth/verify/send; False if it could not
    be started (its token stored or its mail queued)."""
    mailer = Mailer.from_settings(request.config_dict[settings_key], request.config_dict[jobs_key])
    try:
        await request.config_dict[accounts_key].start_verification(user, mailer)
    except Exception:  # the account exists either way; the person can ask for the mail again
        log.exception("GPT registration: verification could not be started", extra={"user_id": user["id"]})
        return False
    return True


@documented(
    "Register through the GPT connector",
    description=SIGNED + " Signs the new person in (session cookies); one registration per session.",
    response=GptRegistered,
    status=201,
    body=GptRegisterBody,
    errors=(400, 403, 500),
    headers_out={"Set-Cookie": "The new browser session and its XSRF-TOKEN cookie."},
)
async def register(request: web.Request) -> web.Response:
    """POST /api/gpt-auth/register → 201 {user, requires_verification, email_verified, email_sent, message};
    one registration per connect session (400 after); signs the new person in (session cookies)."""
    await throttle_register(request)
    settings = request.config_dict[settings_key]
    body = await read_body(request)
    session_id = require_signature(settings, _str(body, "session_id"), _str(body, "session_sig"))
    data = _validate_registration(body)
    state = _state(request)
    # Claimed before the account is made, so two concurrent posts cannot both register.
    if not await state.claim("register", session_id):
        raise BadRequest(REUSED_SESSION, code="gpt_session_used")
    verify = settings.email_verification_required
    try:
        user = await request.config_dict[accounts_key].register(
            email=data.email,
            password_hex=prehash(data.password),
            name=data.name,
            source="gpt",
            verified=not verify,
        )
    except Exception:
        await state.release("register", session_id)  # nothing was made: the form may be fixed and resent
        raise
    email_sent = await _send_verification(request, user) if verify else False
    if verify:
        message = "Registration successful. Please check your email to verify your account."
    else:
        message = "Registration successful."

    sessions = request.config_dict[sessions_key]
    current = identity_of(request)
    if current.mode == "session" and current.session_id:
        await sessions.destroy(current.session_id)
    session = await sessions.create(user["id"])
    answer = GptRegistered(
        user=user_public(user, settings),
        requires_verification=verify,
        email_verified=user["email_verified_at"] is not None,
        email_sent=email_sent,
        message=message,
    )
    response = success(answer.model_dump(mode="json"), message, status=201)
    sessions.set_cookies(response, session)
    return response


@documented(
    "Start a Telegram sign-in for a GPT connect session",
    description=SIGNED,
    response=TelegramLink,
    body=ConfirmIn,
    errors=(400, 403, 500),
)
async def telegram_link(request: web.Request) -> web.Response:
    """POST /api/gpt-auth/telegram-link {session_id, session_sig} → 200 {telegram_login_token}:
    a 30-minute resume token for the Telegram sign-in (kept for the Telegram flow, not built yet)."""
    await throttle_auth(request)
    settings = request.config_dict[settings_key]
    body = await read_body(request)
    session_id = require_signature(settings, _str(body, "session_id"), _str(body, "session_sig"))
    token = await _state(request).new_telegram_token(session_id)
    return success(TelegramLink(telegram_login_token=token).model_dump(mode="json"), "Telegram login token created.")


@documented(
    "Confirm the GPT connection",
    description=SIGNED + " Browser session only (a token is a 403); one confirmation per session.",
    response=GptConfirmed,
    body=ConfirmIn,
    errors=(400, 403, 500),
    auth=SESSION_WRITE,
)
async def confirm(request: web.Request) -> web.Response:
    """POST /api/gpt-auth/confirm (browser session) {session_id, session_sig} → 200 {redirect_url}."""
    identity = require_session(request)
    await throttle_auth(request)
    settings = request.config_dict[settings_key]
    # Checked before anything is consumed: a misconfigured server must leave the session usable.
    connector_url = require_setting(settings, "gpt_connector_url")
    body = await read_body(request)
    session_id = require_signature(settings, _str(body, "session_id"), _str(body, "session_sig"))
    data = validate(ConfirmIn, body)
    state = _state(request)
    if not await state.claim("confirm", session_id):
        raise BadRequest(REUSED_SESSION, code="gpt_session_used")
    code = await state.new_code(identity.user_id, data.session_id)
    query = urlencode({"session_id": data.session_id, "code": code})
    redirect_url = f"{connector_url.rstrip('/')}/oauth/callback?{query}"
    return success(GptConfirmed(redirect_url=redirect_url).model_dump(mode="json"), "GPT connection confirmed.")


@documented(
    "Exchange a GPT authorization code for a token",
    description="The connector's own call. A code works once (then 400).",
    response=GptExchanged,
    body=ExchangeIn,
    errors=(400, 403, 503),
    auth=CONNECTOR,
)
async def exchange(request: web.Request) -> web.Response:
    """POST /api/gpt-auth/exchange (connector key) {code} → 200 {sanctum_token, user_id}; a code works once."""
    await _connector_only(request)
    data = validate(ExchangeIn, await read_body(request))
    user_id = await _state(request).take_code(data.code)
    if user_id is None:
        raise BadRequest(BAD_CODE, code="invalid_gpt_code")
    async with request.config_dict[pool_key].acquire() as conn:
        user = await users_sql.get(conn, user_id)
    if user is None or not user["is_active"]:  # gone or disabled since confirming
        raise BadRequest(BAD_CODE, code="invalid_gpt_code")
    issued = await request.config_dict[accounts_key].issue_token(
        user_id, name=TOKEN_NAME, kind=TOKEN_KIND, abilities=TOKEN_ABILITIES
    )
    answer = GptExchanged(sanctum_token=issued.plain_text, user_id=user_id)
    return success(answer.model_dump(mode="json"), "Token issued.")


@documented(
    "Revoke a GPT connector token",
    description="The connector's own call; idempotent, and only for tokens the bridge issued.",
    response=GptRevoked,
    body=RevokeIn,
    errors=(403, 503),
    auth=CONNECTOR,
)
async def revoke(request: web.Request) -> web.Response:
    """POST /api/gpt-auth/revoke (connector key) {token} → 200 {revoked: true}, idempotent.

    Only connector-issued tokens: the connector key is not a licence to end a person's other tokens.
    """
    await _connector_only(request)
    data = validate(RevokeIn, await read_body(request))
    parsed = parse_pat(data.token)
    if parsed is not None:
        async with request.config_dict[pool_key].acquire() as conn:
            row = await tokens_sql.for_auth(conn, parsed.secret_hash)
        if (
            row is not None
            and row["kind"] == TOKEN_KIND
            and (parsed.token_id is None or parsed.token_id == row["token_id"])
        ):
            await request.config_dict[accounts_key].revoke_token_hash(parsed.secret_hash)
    return success(GptRevoked(revoked=True).model_dump(mode="json"), "Token revoked.")
