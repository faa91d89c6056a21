"""What every browser page shares: choosing HTML or JSON, safe redirects, locked-down HTML answers."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from aiohttp import web

from gateway.kernel.auth.sessions import FORM_TYPES

DEFAULT_NEXT = "/developer"
MAX_NEXT_LEN = 2048


def is_browser_form(request: web.Request) -> bool:
    """A form post from one of our pages (answer with HTML), not an SPA or API client (JSON)."""
    return request.content_type in FORM_TYPES and "application/json" not in request.headers.get("Accept", "")


def safe_next(value: object, default: str = DEFAULT_NEXT) -> str:
    """`value` when it is a same-site relative path, else `default`: never an open redirect."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_NEXT_LEN:
        return default
    # `//host` and `/\\host` are other sites to a browser; control characters get stripped by some.
    if value.startswith("//") or "\\" in value or not value.isascii() or not value.isprintable():
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def redirect(location: str) -> web.Response:
    # A plain 302 response rather than raising HTTPFound, so callers can set cookies on it.
    return web.Response(status=302, headers={"Location": location})


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def html_response(text: str, *, nonce: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """An HTML page that runs only its own inline script and style (by nonce) and talks only to us."""
    csp = (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; form-action 'self'; img-src 'self' data:; "
        "base-uri 'none'; frame-ancestors 'none'"
    )
    all_headers = {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        # pages show who is signed in and their tokens: never from a shared cache
        "Cache-Control": "no-store",
    }
    all_headers.update(headers or {})
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=all_headers)
