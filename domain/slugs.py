"""Slugs: the one way a name becomes a URL-safe identifier, for events, tenants and packages.

Small on purpose: one rule that two concepts (001's events, the tenants and packages behind
them) share, so neither imports the other for it. Each caller passes its column's length and
decides what an empty slug means (an event falls back to a fixed one; a tenant is refused).
"""

from __future__ import annotations

import re
import unicodedata

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, *, max_length: int) -> str:
    """`Anna & Ben's Wedding!` -> `anna-ben-s-wedding`, `Müller & Söhne` -> `muller-sohne`:
    accents fold to their base letter, every other run of non-alphanumerics is one dash, no dash
    at either end, at most `max_length` characters. Empty when nothing of `text` is usable."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_SLUG.sub("-", folded).strip("-")[:max_length].rstrip("-")
