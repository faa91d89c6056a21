"""Telling browsers from API clients, for the endpoints that answer both (003's logout and verify,
002's status at `/`)."""

from __future__ import annotations

_HTML = frozenset({"text/html", "application/xhtml+xml"})
# A browser's Accept is a handful of types; more than this is not a browser worth parsing for.
_MAX_ACCEPT_ITEMS = 32


def _q(params: list[str]) -> float:
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def prefers_html(accept: str) -> bool:
    """True when an Accept header ranks an HTML type above JSON. A bare `*/*` (curl, fetch) and a
    missing header ("") count as JSON clients: they get the JSON answer, as the documents promise."""
    html_q = json_q = 0.0
    for item in accept.split(",")[:_MAX_ACCEPT_ITEMS]:
        media, *params = item.split(";")
        media = media.strip().lower()
        q = _q(params)
        if media in _HTML:
            html_q = max(html_q, q)
        elif media == "application/json" or media.endswith("+json") or media == "*/*":
            json_q = max(json_q, q)
    return html_q > json_q
