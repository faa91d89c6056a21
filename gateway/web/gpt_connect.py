"""`GET /gpt-connect?session_id=…&session_sig=…`: the consent page of the GPT auth bridge.

A person arrives from ChatGPT with the connector's signed session. Signed out, they sign in (the
ordinary `POST /login`, which brings them back here through `next`) or register
(`POST /api/gpt-auth/register`, which signs them in); signed in, they confirm, and the page
follows the bridge's redirect back to the connector. A bad signature gets an error page (400).
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from domain.accounts import display_name
from domain.gpt_sessions import BAD_SIGNATURE, NOT_CONFIGURED, ConnectorMisconfigured, signature_ok
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.auth.sessions import XSRF_COOKIE
from gateway.kernel.keys import pool_key, sessions_key, settings_key
from gateway.web import render
from gateway.web.responses import html_response, new_nonce
from storage import users as users_sql

PATH = "/gpt-connect"


def _error(title: str, message: str, status: int) -> web.Response:
    nonce = new_nonce()
    return html_response(render.gpt_error_page(nonce=nonce, title=title, message=message), nonce=nonce, status=status)


async def gpt_connect_page(request: web.Request) -> web.Response:
    session_id = request.query.get("session_id", "")
    session_sig = request.query.get("session_sig", "")
    try:
        valid = signature_ok(request.config_dict[settings_key], session_id, session_sig)
    except ConnectorMisconfigured:  # logged where it was found
        return _error("Connection unavailable", NOT_CONFIGURED, 500)
    if not valid:
        return _error("Invalid connection link", BAD_SIGNATURE, 400)

    identity = identity_of(request)
    sessions = request.config_dict[sessions_key]
    session = await sessions.load(identity.session_id) if identity.mode == "session" and identity.session_id else None
    user = None
    if session is not None:
        async with request.config_dict[pool_key].acquire() as conn:
            user = await users_sql.get(conn, session.user_id)
    nonce = new_nonce()
    if session is None or user is None:
        # Back here after signing in: /login's `next` takes same-site paths only, which this is.
        next_url = f"{PATH}?{urlencode({'session_id': session_id, 'session_sig': session_sig})}"
        text = render.gpt_sign_in_page(
            nonce=nonce,
            session_id=session_id,
            session_sig=session_sig,
            next_url=next_url,
            xsrf=request.cookies.get(XSRF_COOKIE),
        )
        return html_response(text, nonce=nonce)
    text = render.gpt_consent_page(
        nonce=nonce,
        session_id=session_id,
        session_sig=session_sig,
        xsrf=session.xsrf,
        name=display_name(user) or user["email"],
        email=user["email"],
        verified=user["email_verified_at"] is not None,
    )
    response = html_response(text, nonce=nonce)
    sessions.set_cookies(response, session)
    return response
