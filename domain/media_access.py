"""Who may fetch an event photo's bytes, and for how long an answer may be reused.

Guests: the web and thumbnail variants of a photo, only while guests see the photo anywhere
else: approved and in the feed (storage.photos.IN_FEED_SQL), its event published or archived, and
the event's gallery window still open (after it, 410 like the gallery itself). Never the original,
never a raw upload, nothing of a pending, rejected or failed photo, nothing of a deleted event.

Why a short-lived cache of that verdict rather than signed, expiring URLs in the JSON: the feed a
guest polls is rendered once per feed version and answered with 304s from a snapshot (ETag from
its version); URLs that expire would change that JSON on a timer and defeat it, a CDN caches per
URL so rotating signatures would fragment its cache, and a signed URL keeps working after a
rejection until it expires (hours, for a gallery page left open). With a stable URL, a CDN in front
caches the bytes for `GUEST_MAX_AGE_S` and then revalidates; each revalidation reaches a gateway,
which answers from this cache (one primary-key read per photo per `VISIBILITY_TTL_S` per gateway)
and then a 304 or the refusal. A rejection is in effect everywhere within the sum of the two.

Tenants: their apps see every photo (pending, rejected, originals) through URLs minted inside
their authenticated answers: `/api/v1/tenant/media/<expires>.<signature>/<key>`, an HMAC with
APP_KEY over the key and the expiry, checked without a database read. That works in an `<img>`
tag, which cannot send a bearer token; the URL is as good as the token that fetched the list, for
about an hour. Expiries are rounded to a quarter hour so a list fetched twice gives the same URLs
(and the browser's cache keeps working).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import events as rules
from domain.errors import Gone, NotFound

# A CDN or browser reuses a guest variant this long before asking again (then revalidates: the
# gateway answers 304 or the refusal); with VISIBILITY_TTL_S this bounds how long a rejection lags.
GUEST_MAX_AGE_S = 60
# How long a gateway trusts one database read of a photo's visibility.
VISIBILITY_TTL_S = 5.0
# Enough for every photo of a few busy events; the oldest entries go first past it.
VISIBILITY_CACHE_MAX = 10_000
# Tenant URLs work for about an hour after the answer that carried them.
TENANT_LINK_TTL_S = 3600
TENANT_LINK_STEP_S = 900
# 128 bits of HMAC: a tenant URL cannot be forged for another key or expiry
_SIG_HEX = 32

# `<event_id>/<photo_id>-<secret>/<variant>.jpg` as jobs/images.py writes them
_GUEST_KEY = re.compile(r"^([1-9][0-9]{0,18})/([1-9][0-9]{0,18})-[0-9a-f]{16}/(web|thumb)\.jpg$")
_TENANT_KEY = re.compile(r"^[1-9][0-9]{0,18}/[1-9][0-9]{0,18}-[0-9a-f]{16}/(original|web|thumb)\.jpg$")
_TOKEN = re.compile(r"^([1-9][0-9]{0,11})\.([0-9a-f]{32})$")


def photo_gone() -> NotFound:
    return NotFound("Photo not found.", code="photo_not_found")


@dataclass(frozen=True, slots=True)
class GuestKey:
    event_id: int
    photo_id: int
    key: str


def parse_guest_key(key: str) -> GuestKey | None:
    """The photo a guest media key names, if it names a web or thumbnail variant at all."""
    m = _GUEST_KEY.fullmatch(key)
    return GuestKey(int(m[1]), int(m[2]), key) if m else None


@dataclass(frozen=True, slots=True)
class Visibility:
    """One read of a photo: the keys guests may fetch (none unless it is visible) and when its
    gallery closes. `absent` photos (no row, wrong event) are cached too, as empty keys."""

    keys: frozenset[str]
    gallery_expires_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | None) -> Visibility:
        if row is None or not row["in_feed"] or row["event_status"] not in rules.GUEST_VISIBLE:
            return cls(frozenset(), None)
        keys = frozenset(k for k in (row["web_key"], row["thumb_key"]) if k)
        return cls(keys, rules.gallery_expires_at(row["ends_at"], row["published_at"], row["gallery_days"]))

    def check(self, key: str, now: datetime) -> None:
        """Nothing when `key` may be served now; else 404 `photo_not_found` or 410."""
        if key not in self.keys:
            raise photo_gone()
        if rules.gallery_expired(self.gallery_expires_at, now):
            raise Gone("This gallery has expired.", code="gallery_expired")


class VisibilityCache:
    """Visibility per photo id, trusted for `ttl_s`. Plain Python in one event loop: no lock."""

    def __init__(
        self, ttl_s: float = VISIBILITY_TTL_S, max_entries: int = VISIBILITY_CACHE_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[int, tuple[float, Visibility]] = {}

    def get(self, photo_id: int) -> Visibility | None:
        entry = self._entries.get(photo_id)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._entries[photo_id]
            return None
        return entry[1]

    def put(self, photo_id: int, visibility: Visibility) -> None:
        self._entries.pop(photo_id, None)
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # dicts keep insertion order: the oldest
        self._entries[photo_id] = (self.clock() + self.ttl_s, visibility)

    def forget(self, photo_id: int) -> None:
        """A decision made on this gateway shows here at once, not after the TTL."""
        self._entries.pop(photo_id, None)


# -- tenant links ----------------------------------------------------------------------------------


def _signature(app_key: str, key: str, expires: int) -> str:
    message = f"tenant-media:{expires}:{key}".encode()
    return hmac.new(app_key.encode(), message, hashlib.sha256).hexdigest()[:_SIG_HEX]


def tenant_token(app_key: str, key: str, now: float) -> str:
    """`<expires>.<signature>` for a tenant URL of `key`, valid for about TENANT_LINK_TTL_S."""
    expires = (int(now + TENANT_LINK_TTL_S) // TENANT_LINK_STEP_S + 1) * TENANT_LINK_STEP_S
    return f"{expires}.{_signature(app_key, key, expires)}"


def check_tenant_link(app_key: str, token: str, key: str, now: float) -> int:
    """The link's expiry (unix seconds) when we minted it for this key and it still holds; else
    404 (an expired or forged link says nothing more)."""
    m = _TOKEN.fullmatch(token)
    if m is None or _TENANT_KEY.fullmatch(key) is None:
        raise photo_gone()
    expires = int(m[1])
    if expires < now or not hmac.compare_digest(m[2], _signature(app_key, key, expires)):
        raise photo_gone()
    return expires
