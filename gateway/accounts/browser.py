"""Telling browsers from API clients, for 003's endpoints that answer both (logout, verify)."""

from __future__ import annotations

from aiohttp import web

_HTML = frozenset({"text/html", "application/xhtml+xml"})


def _q(params: list[str]) -> float:
    for p in params:
        name, _, value = p.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def prefers_html(request: web.Request) -> bool:
    """True when the Accept header ranks an HTML type above JSON. A bare `*/*` (curl, fetch) and a
    missing header count as JSON clients: they get the JSON answer, as the document promises."""
    html_q = json_q = 0.0
    for item in request.headers.get("Accept", "").split(",")[:32]:
        media, *params = item.split(";")
        media = media.strip().lower()
        q = _q(params)
        if media in _HTML:
            html_q = max(html_q, q)
        elif media == "application/json" or media.endswith("+json") or media == "*/*":
            json_q = max(json_q, q)
    return html_q > json_q


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})
