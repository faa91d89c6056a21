"""`GET /developer`: the signed-in person's API tokens, server-rendered.

The page lists, creates and revokes tokens through the session-only JSON endpoints
(gateway/api/api_tokens.py), so the rules live in one place; the page only renders.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from gateway.api.api_tokens import AVAILABLE_PERMISSIONS, DEFAULT_PERMISSIONS, managed_tokens, token_view
from gateway.api.user_views import display_name
from gateway.auth.identity import identity_of
from gateway.keys import pool_key, sessions_key
from gateway.web import templates
from gateway.web.responses import html_response, new_nonce, redirect
from storage import users as users_sql

SIGN_IN = "/login?next=/developer"


async def developer_page(request: web.Request) -> web.Response:
    identity = identity_of(request)
    # Token management is session-only, so a token-authenticated caller signs in like anyone else.
    if identity.mode != "session" or identity.session_id is None:
        return redirect(SIGN_IN)
    sessions = request.config_dict[sessions_key]
    session = await sessions.load(identity.session_id)
    pool = request.config_dict[pool_key]
    async with pool.acquire() as conn:
        user = await users_sql.get(conn, identity.user_id)
    if session is None or user is None:  # signed out or deleted since the middleware looked
        return redirect(SIGN_IN)
    now = datetime.now(UTC)
    tokens = [token_view(r, now) for r in await managed_tokens(pool, identity.user_id)]
    name = display_name(user)
    label = f"{name} ({user['email']})" if name and name != user["email"] else user["email"]
    nonce = new_nonce()
    text = templates.developer_page(
        nonce=nonce,
        xsrf=session.xsrf,
        user_label=label,
        tokens=tokens,
        available=AVAILABLE_PERMISSIONS,
        default=DEFAULT_PERMISSIONS,
    )
    response = html_response(text, nonce=nonce)
    # Redis keeps an active session alive; renewing the cookies here keeps the browser's in step.
    sessions.set_cookies(response, session)
    return response
