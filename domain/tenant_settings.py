"""001 tenant settings: the theme guests see, the tenant's own limits within its package's, the
logo and the legal page links. Rules here, written once; the handlers (gateway/events/settings.py)
parse, call one function and render.

- Colours are hex, `#RGB` or `#RRGGBB`, stored as lowercase `#rrggbb` so two spellings of one
  colour are one value. They live in `tenants.theme` (where the guest event and the gallery have
  always read their branding); a null clears a colour back to the default.
- Limits: `photo_limit` (per event) and `gallery_days` may be lowered, never raised past the
  package's figure (422 `limit_above_package`, meta naming the bound). Readers take the smaller
  of the two (storage/events.py), so a later downgrade of the package needs no rewrite here.
- Legal links are shown to guests as links, so only absolute https URLs are kept: no other scheme
  (javascript:, data:, http:), no relative or scheme-relative URL, no user info (the
  `https://bank.example@evil.example` trick shows one host and opens another), no whitespace,
  controls or backslashes (browsers read `\\` as `/`), ASCII only (an international name in its
  xn-- form, so look-alike letters cannot pass as another host), only the characters RFC 3986
  allows in a URL, less the apostrophe (so neither `"` nor `'` nor `<` can close the attribute or
  tag of a client that forgets to escape; either may be sent percent-encoded), well-formed
  percent escapes, at most 2048 characters.
- The logo is an image upload re-encoded like every image Roost serves (domain/photo_pipeline.py:
  decoded within the pixel limit, upright, sRGB, a JPEG without metadata, so no EXIF or GPS
  position is served back), after the structural checks event photos pass
  (domain/image_checks.py). It runs in a thread, not as a Ray job: the answer carries the logo's
  URL, so the caller waits for the work either way (as for 003's avatars and 002's pet photos).
  Files live under the media folder's `logos/<tenant>/<random>.jpg`, served publicly at
  `/storage/logos/...` (gateway/web/media.py): a new name per upload, so a cached old logo never
  stands in for a new one; the previous file is removed after the new key is committed.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from domain import image_checks, photo_pipeline
from domain.errors import Invalid, PayloadTooLarge
from domain.media_store import LocalMediaStore
from storage import tenant_settings as settings_sql

THEME_COLORS: Final = ("primary_color", "secondary_color", "accent_color", "background_color", "text_color")
LIMITS: Final = ("photo_limit", "gallery_days")
LEGAL_LINKS: Final = ("imprint_url", "privacy_url", "terms_url")

MAX_URL_LENGTH: Final = 2048
# a logo is shown small in a page header; 2 MB is far more than any sensible logo needs
MAX_LOGO_BYTES: Final = 2 * 1024 * 1024
# twice the largest header a guest page draws it in, for high-density screens
LOGO_LONGEST_SIDE: Final = 512
LOGO_FOLDER: Final = "logos"

_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# RFC 3986's unreserved and reserved characters and `%`, without the apostrophe
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def normalized_hex(value: str) -> str:
    """`#abc` -> `#aabbcc`, `#AABBCC` -> `#aabbcc`; ValueError (the field's message) otherwise."""
    m = _HEX.fullmatch(value)
    if m is None:
        raise ValueError("The colour must be a hex colour: #RGB or #RRGGBB.")
    digits = m[1].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def checked_https_url(value: str) -> str:
    """The URL with its scheme and host in lowercase; ValueError (the field's message) unless it
    is an absolute https URL a guest may safely be sent to."""
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"The URL may not be greater than {MAX_URL_LENGTH} characters.")
    if not value.isascii() or any(c.isspace() or not c.isprintable() or c == "\\" for c in value):
        raise ValueError("The URL may contain only printable ASCII, without spaces or backslashes.")
    if not _URL_CHARS.fullmatch(value) or _BAD_ESCAPE.search(value):
        raise ValueError("The URL may contain only the characters of RFC 3986 (percent-encode the others).")
    try:
        parts = urlsplit(value)
        port = parts.port  # a port that is not a number in range is a ValueError here
    except ValueError:
        raise ValueError("The URL must be an absolute https URL.") from None
    if parts.scheme.lower() != "https" or not parts.netloc:
        raise ValueError("The URL must be an absolute https URL.")
    if "@" in parts.netloc:
        raise ValueError("The URL may not contain a user name or password.")
    host = (parts.hostname or "").lower()
    labels = host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError("The URL must name a public host name.")
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit(("https", netloc, parts.path, parts.query, parts.fragment))


def limit_above_package(name: str, value: int, bound: int) -> Invalid:
    return Invalid(
        f"The {name.replace('_', ' ')} may not be greater than the package's {bound}.",
        code="limit_above_package",
        meta={"field": name, "value": value, "package_limit": bound},
        fields={f"limits.{name}": [f"The {name.replace('_', ' ')} may not be greater than {bound}."]},
    )


def check_limits(limits: Mapping[str, int | None], package: Mapping[str, Any]) -> None:
    """Every chosen limit within the package's (`package` holds `package_<name>` figures)."""
    for name in LIMITS:
        value, bound = limits.get(name), package[f"package_{name}"]
        if value is not None and value > bound:
            raise limit_above_package(name, value, bound)


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """What one write changes: only the keys present are touched; a None value clears. A full
    replace (PUT) names every key."""

    theme: dict[str, str | None] = field(default_factory=dict)
    limits: dict[str, int | None] = field(default_factory=dict)
    legal: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def replacing(
        cls, theme: Mapping[str, str | None], limits: Mapping[str, int | None], legal: Mapping[str, str | None]
    ) -> SettingsChange:
        return cls(
            theme={k: theme.get(k) for k in THEME_COLORS},
            limits={k: limits.get(k) for k in LIMITS},
            legal={k: legal.get(k) for k in LEGAL_LINKS},
        )


async def read(pool: asyncpg.Pool, tenant_id: int) -> asyncpg.Record:
    async with pool.acquire() as conn:
        return await settings_sql.get(conn, tenant_id)


async def update(pool: asyncpg.Pool, tenant_id: int, change: SettingsChange, now: datetime) -> asyncpg.Record:
    """One transaction: the row is locked, the limits checked against the package as it is then,
    and everything written or nothing."""
    async with pool.acquire() as conn, conn.transaction():
        current = await settings_sql.lock(conn, tenant_id)
        check_limits(change.limits, current)
        if change.theme:
            remove = [k for k, v in change.theme.items() if v is None]
            set_ = {k: v for k, v in change.theme.items() if v is not None}
            await settings_sql.update_theme(conn, tenant_id, set_, remove, now)
        columns: dict[str, Any] = {**change.limits, **change.legal}
        await settings_sql.update_columns(conn, tenant_id, columns, now)
        return await settings_sql.get(conn, tenant_id)


# ---- the logo ----


def logo_store(media_dir: Path) -> LocalMediaStore:
    return LocalMediaStore(Path(media_dir) / LOGO_FOLDER)


def _no_file(message: str) -> Invalid:
    return Invalid(fields={"file": [message]})


def prepared_logo(data: bytes, max_pixels: int) -> bytes:
    """The upload as the JPEG we serve, or a 4xx. CPU-bound: run it in a thread."""
    if not data:
        raise _no_file("The file is empty.")
    if len(data) > MAX_LOGO_BYTES:
        raise PayloadTooLarge("The logo is too large.", meta={"max_bytes": MAX_LOGO_BYTES})
    kind = image_checks.sniff(data[:16])
    if kind is None:
        raise image_checks.invalid_image("not_an_image")
    image_checks.check_structure(data, kind)
    image_checks.check_dimensions(data, kind, max_pixels)
    try:
        im = photo_pipeline.normalized(data, max_pixels=max_pixels, formats=(image_checks.FORMATS[kind],))
    except photo_pipeline.RejectedImage as exc:
        raise image_checks.invalid_image(exc.reason) from None
    return photo_pipeline.jpeg_of(im, longest_side=LOGO_LONGEST_SIDE)


async def replace_logo(
    pool: asyncpg.Pool, store: LocalMediaStore, tenant_id: int, data: bytes, *, max_pixels: int, now: datetime
) -> asyncpg.Record:
    jpeg = await asyncio.to_thread(prepared_logo, data, max_pixels)
    key = f"{tenant_id}/{secrets.token_hex(16)}.jpg"
    await store.put(key, jpeg)
    try:
        async with pool.acquire() as conn, conn.transaction():
            previous = (await settings_sql.lock(conn, tenant_id))["logo_key"]
            await settings_sql.update_columns(conn, tenant_id, {"logo_key": key}, now)
            row = await settings_sql.get(conn, tenant_id)
    except BaseException:
        await store.delete(key)
        raise
    if previous:
        await store.delete(previous)
    return row


async def remove_logo(pool: asyncpg.Pool, store: LocalMediaStore, tenant_id: int, now: datetime) -> asyncpg.Record:
    """Idempotent: without a logo it changes nothing and answers the settings as they are."""
    async with pool.acquire() as conn, conn.transaction():
        previous = (await settings_sql.lock(conn, tenant_id))["logo_key"]
        if previous:
            await settings_sql.update_columns(conn, tenant_id, {"logo_key": None}, now)
        row = await settings_sql.get(conn, tenant_id)
    if previous:
        await store.delete(previous)
    return row
