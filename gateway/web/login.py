"""Browser sessions: `GET/POST /login` and `POST /logout` (000's SPA and the /developer page).

A JSON client (the SPA) gets the /api envelope; a plain HTML form gets pages and redirects. Both
end with the same two cookies: the HttpOnly session cookie (the session lives in Redis) and the
readable `XSRF-TOKEN` that state-changing requests must echo.

Before a session exists there is no XSRF token to echo, so `POST /login` is guarded by where the
request comes from instead: another site's page posting its own credentials here would sign the
visitor's browser in as the attacker (login CSRF). Browsers put `Origin` on every POST (and
`Sec-Fetch-Site` on all requests where they support it); a sign-in that names another origin is a
403 and makes no session. A request with neither header is not a browser's form post, so API
clients and scripts sign in as before. The cookies' SameSite=Lax is the second layer.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

import asyncpg
from aiohttp import web
from pydantic import BaseModel, StringConstraints

from domain.errors import Forbidden, RoostError, Unauthenticated
from domain.passwords import prehash
from gateway.kernel import api_envelope as envelope
from gateway.kernel.account_views import user_view
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.auth.limits import throttle_auth
from gateway.kernel.auth.sessions import XSRF_COOKIE
from gateway.kernel.keys import accounts_key, sessions_key, settings_key
from gateway.kernel.validation import clean_or_none, read_body, validate
from gateway.web import render
from gateway.web.responses import html_response, is_browser_form, new_nonce, redirect, safe_next

BAD_CREDENTIALS = "These credentials do not match our records."
CROSS_SITE = "Sign-in requests from other sites are refused. Open the sign-in page here and try again."
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class LoginIn(BaseModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    # plain, as typed into a browser form; prehash() bounds its length
    password: Annotated[str, StringConstraints(min_length=1)]


def _login_page(request: web.Request, next_url: str, *, email: str = "", error: str | None = None,
                status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    nonce = new_nonce()
    text = render.login_page(
        nonce=nonce, next_url=next_url, email=email, error=error, xsrf=clean_or_none(request.cookies.get(XSRF_COOKIE))
    )
    return html_response(text, nonce=nonce, status=status, headers=headers)


def _first_message(err: RoostError) -> str:
    for messages in err.fields.values():
        if messages:
            return messages[0]
    return err.message


def _netloc(host: str, scheme: str | None = None) -> str:
    """`host[:port]` lowercased, without the scheme's default port (Host headers behind a TLS
    proxy name no scheme, so either default port is dropped there)."""
    host = host.strip().lower()
    name, sep, port = host.rpartition(":")
    if not sep or "]" in port:  # no port, or the tail of a bare IPv6 literal
        return host
    defaults = {_DEFAULT_PORTS[scheme]} if scheme in _DEFAULT_PORTS else set(_DEFAULT_PORTS.values())
    return name if port in defaults else host


def _is_ours(url: str, request: web.Request) -> bool:
    """Whether an Origin or Referer names this site: APP_URL's origin, or the host the request
    was sent to (an attacker cannot make a browser send our Host from another site's page)."""
    try:
        parts = urlsplit(url.strip())
        scheme, netloc = parts.scheme.lower(), parts.netloc
    except ValueError:
        return False
    if scheme not in _DEFAULT_PORTS or not netloc or "@" in netloc:
        return False  # includes `Origin: null` (sandboxed frames, some redirects)
    origin = _netloc(netloc, scheme)
    app = urlsplit(request.config_dict[settings_key].app_url)
    if (scheme, origin) == (app.scheme.lower(), _netloc(app.netloc, app.scheme.lower())):
        return True
    return bool(request.host) and origin == _netloc(request.host)


def ensure_same_site(request: web.Request) -> None:
    """403 for a sign-in a browser says another site sent (see the module docstring)."""
    headers = request.headers
    cross = headers.get("Sec-Fetch-Site", "").lower() == "cross-site"
    origin, referer = headers.get("Origin"), headers.get("Referer")
    if origin is not None:  # present but empty or "null" is not ours either
        cross = cross or not _is_ours(origin, request)
    elif referer:
        cross = cross or not _is_ours(referer, request)
    if cross:
        raise Forbidden(CROSS_SITE, code="cross_site_sign_in")


async def login_form(request: web.Request) -> web.Response:
    next_url = safe_next(request.query.get("next"))
    if identity_of(request).mode == "session":
        return redirect(next_url)
    return _login_page(request, next_url)


async def _authenticate(request: web.Request, body: Any) -> asyncpg.Record:
    email = body.get("email") if isinstance(body, dict) else None
    await throttle_auth(request, email if isinstance(email, str) else None)
    creds = validate(LoginIn, body)
    user = await request.config_dict[accounts_key].authenticate(creds.email, prehash(creds.password))
    if user is None:
        raise Unauthenticated(BAD_CREDENTIALS, code="invalid_credentials")
    return user


async def login(request: web.Request) -> web.Response:
    html = is_browser_form(request)
    body = await read_body(request)
    fields = body if isinstance(body, dict) else {}
    next_url = safe_next(request.query.get("next") or fields.get("next"))
    try:
        ensure_same_site(request)
        user = await _authenticate(request, body)
    except RoostError as err:
        if not html:
            raise
        sent = fields.get("email")
        email = sent if isinstance(sent, str) else ""
        return _login_page(
            request, next_url, email=email, error=_first_message(err), status=err.status, headers=err.headers
        )

    sessions = request.config_dict[sessions_key]
    current = identity_of(request)
    # A new session id at every sign-in, so an id planted before it is worth nothing after it.
    if current.mode == "session" and current.session_id:
        await sessions.destroy(current.session_id)
    session = await sessions.create(user["id"])
    if html:
        response = redirect(next_url)
    else:
        response = envelope.success({"user": user_view(user, request.config_dict[settings_key])}, "Logged in")
    sessions.set_cookies(response, session)
    return response


async def logout(request: web.Request) -> web.Response:
    """Ends the session behind the cookie; the middleware has already checked the XSRF proof."""
    identity = identity_of(request)
    sessions = request.config_dict[sessions_key]
    if identity.mode == "session" and identity.session_id:
        await sessions.destroy(identity.session_id)
    response = redirect("/login") if is_browser_form(request) else envelope.success(None, "Logged out")
    sessions.clear_cookies(response)
    return response
