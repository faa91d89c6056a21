"""One JSON shape for a photo (`PhotoPublic`), shared by the feed, the gallery and the tenant's
lists (`PhotoTenantPublic` adds the processing and moderation state).

Guests' media URLs point at the media route (`/storage/events/<key>`, gateway/web/media.py) under
APP_URL, which serves a variant only while guests see its photo. Keys carry a random segment, so a
URL cannot be guessed from ids. The tenant's views link every variant (the original too) through
signed, expiring tenant links instead (gateway/events/tenant_media.py), which work whatever the
photo's moderation state.

The guest feed renders `photo_public`, a plain dict builder, not the model: it renders every photo
of every feed version on the polls' path (feed.py), where a model costs more than the dict.
tests/events/test_poll_schemas.py holds the two to the same output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, Field

from gateway.events.common_schemas import Moment
from gateway.events.tenant_media import TenantLinks
from gateway.kernel.timeutil import iso_z

PhotoStatus = Literal["pending", "ready", "failed"]
PhotoModerationState = Literal["pending", "approved", "rejected"]


def media_url(app_url: str, key: str | None) -> str | None:
    return f"{app_url.rstrip('/')}/storage/events/{key}" if key else None


def photo_public(row: Mapping[str, Any], app_url: str) -> dict[str, Any]:
    """What guests see: approved, processed photos only (callers filter). `PhotoPublic`'s shape."""
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


class PhotoPublic(BaseModel):
    """A photo as guests see it."""

    id: int
    event_id: int
    url: str | None = Field(description="The web-sized variant; null until processed.")
    thumbnail_url: str | None = Field(description="The thumbnail; null until processed.")
    width: int | None
    height: int | None
    task_id: int | None
    emotion_id: int | None
    is_featured: bool
    created_at: Moment
    approved_at: Moment | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], app_url: str) -> Self:
        return cls.model_validate(
            {**row, "url": media_url(app_url, row["web_key"]), "thumbnail_url": media_url(app_url, row["thumb_key"])}
        )


class GuestPhotoPublic(PhotoPublic):
    """The photo a guest has just created, with where it stands."""

    status: PhotoStatus = Field(description="Processing: pending until the image task has run.")
    moderation: PhotoModerationState


class PhotoTenantPublic(PhotoPublic):
    """What the tenant's admins see: every photo with its processing and moderation state. Media
    URLs are signed tenant links that expire after about an hour."""

    original_url: str | None
    status: PhotoStatus
    moderation: PhotoModerationState
    failure_reason: str | None
    device_id: str | None = Field(description="The guest device that uploaded it (null for a tenant admin's).")
    content_type: str | None
    size_bytes: int | None
    updated_at: Moment

    @classmethod
    def from_links(cls, row: Mapping[str, Any], links: TenantLinks) -> PhotoTenantPublic:
        return cls.model_validate(
            {
                **row,
                "url": links.url(row["web_key"]),
                "thumbnail_url": links.url(row["thumb_key"]),
                "original_url": links.url(row["original_key"]),
            }
        )
