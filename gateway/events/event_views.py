"""Response models of an event: the tenant's full view (`EventPublic`), the guests' view
(`GuestEventPublic`), the snapshot the public gallery shows and the branding both show. Rows come
from storage/events.py (joined with the package's limits and the tenant's theme)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain import events as rules
from gateway.events.common_schemas import Moment

EventStatus = Literal["draft", "published", "archived"]
Moderation = Literal["auto", "manual"]

# what a guest page shows when the tenant has not set its own theme
DEFAULT_BRANDING: dict[str, str | None] = {
    "primary_color": "#E11D48",
    "secondary_color": "#FFF1F2",
    "logo_url": None,
}


def gallery_expiry(row: Mapping[str, Any]) -> datetime | None:
    return rules.gallery_expires_at(row["ends_at"], row["published_at"], row["gallery_days"])


class Branding(BaseModel):
    """The tenant's theme over the defaults."""

    primary_color: str = Field(examples=["#E11D48"])
    secondary_color: str = Field(examples=["#FFF1F2"])
    logo_url: str | None

    @classmethod
    def of(cls, theme: Any) -> Branding:
        """Only string values count (the theme column is free JSON)."""
        given = theme if isinstance(theme, dict) else {}
        return cls.model_validate(
            {
                name: given[name] if isinstance(given.get(name), str) else default
                for name, default in DEFAULT_BRANDING.items()
            }
        )


class EventPublic(BaseModel):
    """An event as its tenant's apps see it."""

    id: int
    name: str
    slug: str
    description: str | None
    status: EventStatus
    guest_token: str | None = Field(description="What guests' URLs carry; null until the first publish.")
    moderation: Moderation = Field(description="`manual`: guests' photos wait for approval.")
    starts_at: Moment | None
    ends_at: Moment | None
    published_at: Moment | None
    archived_at: Moment | None
    photo_count: int = Field(description="Photos counted against the package's photo limit.")
    gallery_expires_at: Moment | None = Field(description="When the public gallery closes (410 after).")
    created_at: Moment
    updated_at: Moment

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EventPublic:
        return cls.model_validate({**row, "gallery_expires_at": gallery_expiry(row)})


class EventSnapshot(BaseModel):
    """What anyone holding the guest token may know about the event (never its slug or token)."""

    id: int
    name: str
    description: str | None
    status: EventStatus
    starts_at: Moment | None
    ends_at: Moment | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EventSnapshot:
        return cls.model_validate(dict(row))


class GuestLimits(BaseModel):
    photo_limit: int
    photos_remaining: int = Field(ge=0)


class GuestEventPublic(EventSnapshot):
    """GET /events/{token}."""

    moderation: Moderation
    branding: Branding
    limits: GuestLimits
    gallery_expires_at: Moment | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GuestEventPublic:
        return cls.model_validate(
            {
                **row,
                "branding": Branding.of(row["theme"]),
                "limits": GuestLimits(
                    photo_limit=row["photo_limit"],
                    photos_remaining=max(row["photo_limit"] - row["photo_count"], 0),
                ),
                "gallery_expires_at": gallery_expiry(row),
            }
        )
