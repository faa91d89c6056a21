"""JSON shapes of an event: the tenant's full view, the guests' view and the branding both the
guest pages and the public gallery show. Rows come from storage/events.py (joined with the
package's limits and the tenant's theme)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain import events as rules
from gateway.kernel.timeutil import iso_z

# what a guest page shows when the tenant has not set its own theme
DEFAULT_BRANDING: dict[str, str | None] = {
    "primary_color": "#E11D48",
    "secondary_color": "#FFF1F2",
    "logo_url": None,
}


def _time(moment: datetime | None) -> str | None:
    return iso_z(moment) if moment is not None else None


def gallery_expiry(row: Mapping[str, Any]) -> datetime | None:
    return rules.gallery_expires_at(row["ends_at"], row["published_at"], row["gallery_days"])


def branding(theme: Any) -> dict[str, str | None]:
    """The tenant's theme over the defaults; only string values count (the column is free JSON)."""
    given = theme if isinstance(theme, dict) else {}
    return {
        name: given[name] if isinstance(given.get(name), str) else default
        for name, default in DEFAULT_BRANDING.items()
    }


def event_tenant(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "slug": row["slug"],
        "description": row["description"],
        "status": row["status"],
        "guest_token": row["guest_token"],
        "moderation": row["moderation"],
        "starts_at": _time(row["starts_at"]),
        "ends_at": _time(row["ends_at"]),
        "published_at": _time(row["published_at"]),
        "archived_at": _time(row["archived_at"]),
        "photo_count": row["photo_count"],
        "gallery_expires_at": _time(gallery_expiry(row)),
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
    }


def event_snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """What anyone holding the guest token may know about the event (never its slug or token)."""
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "status": row["status"],
        "starts_at": _time(row["starts_at"]),
        "ends_at": _time(row["ends_at"]),
    }


def event_guest(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **event_snapshot(row),
        "moderation": row["moderation"],
        "branding": branding(row["theme"]),
        "limits": {
            "photo_limit": row["photo_limit"],
            "photos_remaining": max(row["photo_limit"] - row["photo_count"], 0),
        },
        "gallery_expires_at": _time(gallery_expiry(row)),
    }
