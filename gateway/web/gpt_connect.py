"""`GET /gpt-connect?session_id=…&session_sig=…`: the consent page of the GPT auth bridge.

A person arrives from ChatGPT with the connector's signed session. Signed out, they sign in (the
ordinary `POST /login`, which brings them back here through `next`) or register
(`POST /api/gpt-auth/register`, which signs them in); signed in, they confirm, and the page
follows the bridge's redirect back to the connector. A bad signature gets an error page (400).

Cancel goes back to the connector's callback with OAuth's denial instead of a code
(`?session_id=…&error=access_denied`, RFC 6749 §4.1.2.1), so the GPT learns the person said no
rather than waiting on a session that never completes. Nothing is consumed: had they changed their
mind, the same link from ChatGPT still works while the session lives.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from domain.accounts import display_name
from domain.gpt_sessions import BAD_SIGNATURE, NOT_CONFIGURED, ConnectorMisconfigured, configured, signature_ok
from domain.settings import Settings
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.auth.sessions import XSRF_COOKIE
from gateway.kernel.keys import pool_key, sessions_key, settings_key
from gateway.web import render
from gateway.web.responses import html_response, new_nonce
from storage import users as users_sql
from storage import verification_tokens as verification_sql

PATH = "/gpt-connect"
DENIED = "access_denied"
DENIED_DESCRIPTION = "The user declined to connect their account."
# where Cancel leads when no connector URL is set (Confirm fails there too, saying so)
NO_CONNECTOR_CANCEL = "/"


def cancel_url(settings: Settings, session_id: str) -> str:
    """The connector's callback (the URL confirm redirects to) carrying a denial instead of a code."""
    connector_url = settings.gpt_connector_url
    if not configured(connector_url):
        return NO_CONNECTOR_CANCEL
    query = urlencode({"session_id": session_id, "error": DENIED, "error_description": DENIED_DESCRIPTION})
    return f"{connector_url.strip().rstrip('/')}/oauth/callback?{query}"


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
    link_sent = False
    if session is not None:
        async with request.config_dict[pool_key].acquire() as conn:
            user = await users_sql.get(conn, session.user_id)
            if user is not None and user["email_verified_at"] is None:
                # say "we sent a link" only when one was sent and still works (registering here
                # sends one; signing in to an older unverified account does not)
                link_sent = await verification_sql.has_pending(conn, user["id"])
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
        link_sent=link_sent,
        cancel_url=cancel_url(request.config_dict[settings_key], session_id),
    )
    response = html_response(text, nonce=nonce)
    sessions.set_cookies(response, session)
    return response
