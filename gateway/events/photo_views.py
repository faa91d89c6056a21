"""One JSON shape for a photo, shared by the feed, the gallery and the tenant's lists.

Guests' media URLs point at the media route (`/storage/events/<key>`, gateway/web/media.py) under
APP_URL, which serves a variant only while guests see its photo. Keys carry a random segment, so a
URL cannot be guessed from ids. The tenant's views link every variant (the original too) through
signed, expiring tenant links instead (gateway/events/tenant_media.py), which work whatever the
photo's moderation state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.events.tenant_media import TenantLinks
from gateway.kernel.timeutil import iso_z


def media_url(app_url: str, key: str | None) -> str | None:
    return f"{app_url.rstrip('/')}/storage/events/{key}" if key else None


def photo_public(row: Mapping[str, Any], app_url: str) -> dict[str, Any]:
    """What guests see: approved, processed photos only (callers filter)."""
    return {
        "id": row["id"],
        "event_id": row["event_id"],
        "url": media_url(app_url, row["web_key"]),
        "thumbnail_url": media_url(app_url, row["thumb_key"]),
        "width": row["width"],
        "height": row["height"],
        "task_id": row["task_id"],
        "emotion_id": row["emotion_id"],
        "is_featured": row["is_featured"],
        "created_at": iso_z(row["created_at"]),
        "approved_at": iso_z(row["approved_at"]) if row["approved_at"] else None,
    }


def photo_tenant(row: Mapping[str, Any], links: TenantLinks) -> dict[str, Any]:
    """What the tenant's admins see: every photo with its processing and moderation state."""
    return {
        **photo_public(row, ""),
        "url": links.url(row["web_key"]),
        "thumbnail_url": links.url(row["thumb_key"]),
        "original_url": links.url(row["original_key"]),
        "status": row["status"],
        "moderation": row["moderation"],
        "failure_reason": row["failure_reason"],
        "device_id": row["device_id"],
        "content_type": row["content_type"],
        "size_bytes": row["size_bytes"],
        "updated_at": iso_z(row["updated_at"]),
    }
