"""`GET /developer`: the signed-in person's API tokens and sign-ins, server-rendered.

The page lists, creates and revokes API tokens through the session-only JSON endpoints
(gateway/pethealth/api_tokens.py), so the rules live in one place; the page only renders. The tokens
sign-ins minted (003 login, OAuth, tenant login) are listed here too and revoked by plain form
posts, as is "sign out everywhere"; both are session-only and carry the XSRF token (`_token`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, Field

from domain.accounts import display_name
from domain.errors import NotFound
from domain.inputs import BIGINT_MAX
from domain.token_management import AVAILABLE_PERMISSIONS, DEFAULT_PERMISSIONS, MANAGED_KINDS
from gateway.kernel import api_envelope as envelope
from gateway.kernel.account_views import token_view
from gateway.kernel.auth.guards import require_session
from gateway.kernel.auth.identity import SignedIn, identity_of
from gateway.kernel.auth.revocation import revoke_credentials
from gateway.kernel.keys import accounts_key, pool_key, sessions_key
from gateway.kernel.timeutil import iso_z
from gateway.kernel.validation import parse
from gateway.web import render
from gateway.web.responses import html_response, is_browser_form, new_nonce, redirect
from storage import tokens as tokens_sql
from storage import users as users_sql

PAGE = "/developer"


class SignInRevoke(BaseModel):
    token_id: int = Field(ge=1, le=BIGINT_MAX)


def _sign_in_view(row, now: datetime) -> dict:
    view = token_view(row, now)
    view["kind"] = row["kind"]
    view["expires_at"] = iso_z(row["expires_at"]) if row["expires_at"] else None
    return view


def _done(request: web.Request, message: str) -> web.Response:
    """Back to the page for a browser form; the /api envelope for a script."""
    return redirect(PAGE) if is_browser_form(request) else envelope.success(None, message)

SIGN_IN = "/login?next=/developer"


async def developer_page(request: web.Request) -> web.Response:
    identity = identity_of(request)
    # Token management is session-only, so a token-authenticated caller signs in like anyone else.
    if not isinstance(identity, SignedIn) or identity.mode != "session" or identity.session_id is None:
        return redirect(SIGN_IN)
    sessions = request.config_dict[sessions_key]
    session = await sessions.load(identity.session_id)
    pool = request.config_dict[pool_key]
    async with pool.acquire() as conn:
        user = await users_sql.get(conn, identity.user_id)
    if session is None or user is None:  # signed out or deleted since the middleware looked
        return redirect(SIGN_IN)
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        rows = await tokens_sql.list_for_user(conn, identity.user_id)
    tokens = [token_view(r, now) for r in rows if r["kind"] in MANAGED_KINDS]
    # an expired sign-in no longer works: nothing to revoke
    sign_ins = [
        _sign_in_view(r, now)
        for r in rows
        if r["kind"] not in MANAGED_KINDS and (r["expires_at"] is None or r["expires_at"] > now)
    ]
    name = display_name(user)
    label = f"{name} ({user['email']})" if name and name != user["email"] else user["email"]
    nonce = new_nonce()
    text = render.developer_page(
        nonce=nonce,
        xsrf=session.xsrf,
        user_label=label,
        tokens=tokens,
        available=AVAILABLE_PERMISSIONS,
        default=DEFAULT_PERMISSIONS,
        sign_ins=sign_ins,
    )
    response = html_response(text, nonce=nonce)
    # Redis keeps an active session alive; renewing the cookies here keeps the browser's in step.
    sessions.set_cookies(response, session)
    return response


async def revoke_sign_in(request: web.Request) -> web.Response:
    """POST /developer/sign-ins/revoke (session, `_token`, `token_id`): one token of the account
    ends on every gateway at once; 404 for a token that is not the caller's."""
    identity = require_session(request)
    data = await parse(request, SignInRevoke)
    if not await request.config_dict[accounts_key].revoke_token(identity.user_id, data.token_id):
        raise NotFound("Token not found.", code="token_not_found")
    return _done(request, "Token revoked")


async def sign_out_everywhere(request: web.Request) -> web.Response:
    """POST /developer/sign-out-everywhere (session, `_token`): every other session, every token
    and every JWT of the account end; this browser's session stays."""
    identity = require_session(request)
    await revoke_credentials(request.config_dict, identity.user_id, keep_session_id=identity.session_id)
    return _done(request, "Signed out everywhere else")
