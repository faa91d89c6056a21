"""001 events: the status machine, guest tokens, slugs and the public gallery's window.

Pure rules, no I/O: storage/events.py applies them inside its transactions and the gateway
renders their errors. Status moves only forward: draft -> published -> archived (a draft may be
archived directly). An event gets its guest token when first published and keeps it for good, so
archived events stay readable by guests (their uploads are refused elsewhere).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from domain.errors import Conflict, Forbidden, Invalid
from domain.slugs import slugify

DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"
STATUSES = (DRAFT, PUBLISHED, ARCHIVED)
# guests reach published events and, read-only, archived ones; drafts are never reachable
GUEST_VISIBLE = (PUBLISHED, ARCHIVED)

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
SLUG_MAX = 100
# a name with nothing sluggable in it (emoji only, say) still needs a slug
FALLBACK_SLUG = "event"
# 24 random bytes: 192 bits, far beyond guessing, and 32 URL-safe characters
GUEST_TOKEN_BYTES = 24
# longest token we bother looking up; anything longer cannot be one of ours
GUEST_TOKEN_MAX = 128


def mint_guest_token() -> str:
    return secrets.token_urlsafe(GUEST_TOKEN_BYTES)


def event_slug(name: str) -> str:
    """An event's slug made from its name (`Anna & Ben's Wedding!` -> `anna-ben-s-wedding`),
    never empty."""
    return slugify(name, max_length=SLUG_MAX) or FALLBACK_SLUG


def with_suffix(base: str, n: int | str) -> str:
    """An alternative to a taken slug (`party-2`), still within the slug's length."""
    suffix = f"-{n}"
    return base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix


def slug_taken(slug: str) -> Conflict:
    return Conflict(
        f"The slug {slug} is already used by another of your events.", code="slug_taken", meta={"slug": slug}
    )


def check_event_limit(limit: int | None, used: int) -> None:
    """A package allows `limit` events that are not archived at once (None: unlimited)."""
    if limit is not None and used >= limit:
        raise Forbidden(
            f"Your package allows {limit} active events; archive one to create another.",
            code="event_limit_reached",
            meta={"limit": limit, "used": used},
        )


def check_times(starts_at: datetime | None, ends_at: datetime | None) -> None:
    """An event may not end before it starts (either may be open)."""
    if starts_at is not None and ends_at is not None and ends_at < starts_at:
        raise Invalid(fields={"ends_at": ["The ends at must be a date after or equal to starts at."]})


def publish_target(status: str) -> str:
    """The status publishing leads to: drafts publish, published stays (idempotent)."""
    if status == ARCHIVED:
        raise Conflict("An archived event cannot be published again.", code="event_archived")
    return PUBLISHED


def gallery_expires_at(
    ends_at: datetime | None, published_at: datetime | None, gallery_days: int
) -> datetime | None:
    """The public gallery closes `gallery_days` after the event ends, or after it was published
    when it has no end. None: the event was never published, so there is no window yet."""
    start = ends_at or published_at
    return None if start is None else start + timedelta(days=gallery_days)


def gallery_expired(expires_at: datetime | None, now: datetime) -> bool:
    """Open up to and including the expiry instant; closed strictly after it."""
    return expires_at is not None and now > expires_at
