"""Google Maps pins (003's POST /api/maps/pin): URLs built from an address, no network call.

The reference answers three things for an address: an Embed API URL (for an iframe's `src`), a
"search" link that opens Google Maps, and a ready-made iframe. The address is the client's text
and the iframe is HTML a client pastes into its pages, so the URL is query-encoded (PHP's
urlencode: spaces as `+`) and then HTML-escaped into the attribute: a quote or `<script>` in the
address stays inside `src`.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote_plus

from domain.errors import RoostError

log = logging.getLogger(__name__)

EMBED_BASE = "https://www.google.com/maps/embed/v1/place"
SEARCH_BASE = "https://www.google.com/maps/search/"

# The reference's validation rules and defaults
ADDRESS_MAX = 500
ZOOM_MIN, ZOOM_MAX, ZOOM_DEFAULT = 0, 21, 15
SIZE_MIN, SIZE_MAX = 1, 2048
WIDTH_DEFAULT, HEIGHT_DEFAULT = 600, 450


class MapType(StrEnum):
    ROADMAP = "roadmap"
    SATELLITE = "satellite"


class MapsNotConfigured(RoostError):
    status, code, title, message = 500, "maps_not_configured", "Server Error", "Google Maps API key is not configured"


@dataclass(frozen=True)
class Pin:
    address: str
    zoom: int = ZOOM_DEFAULT
    width: int = WIDTH_DEFAULT
    height: int = HEIGHT_DEFAULT
    map_type: MapType = MapType.ROADMAP


@dataclass(frozen=True)
class PinUrls:
    embed_url: str
    maps_link: str
    iframe: str
    address: str


def _q(value: str) -> str:
    # PHP's urlencode: everything but letters, digits and -_. escaped, spaces as +
    return quote_plus(value, safe="")


def pin_urls(pin: Pin, api_key: str | None) -> PinUrls:
    """The three URLs for `pin`; 500 (logged as a misconfiguration) without an API key."""
    if not api_key:
        log.error("Google Maps misconfigured: GOOGLE_MAPS_API_KEY is not set")
        raise MapsNotConfigured()
    q = _q(pin.address)
    embed_url = f"{EMBED_BASE}?key={_q(api_key)}&q={q}&zoom={pin.zoom}&maptype={pin.map_type.value}"
    maps_link = f"{SEARCH_BASE}?api=1&query={q}"
    iframe = (
        f'<iframe width="{pin.width}" height="{pin.height}" style="border:0" loading="lazy" allowfullscreen '
        f'referrerpolicy="no-referrer-when-downgrade" src="{html.escape(embed_url, quote=True)}"></iframe>'
    )
    return PinUrls(embed_url=embed_url, maps_link=maps_link, iframe=iframe, address=pin.address)
