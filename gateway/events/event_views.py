"""Response models of an event: the tenant's full view (`EventPublic`), the guests' view
(`GuestEventPublic`), the snapshot the public gallery shows and the branding both show. Rows come
from storage/events.py (joined with the limits, the tenant's theme, logo and legal links: its
settings, domain/tenant_settings.py)."""

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


# the colours a tenant may add to the two every theme has; null until it sets them
OPTIONAL_COLORS = ("accent_color", "background_color", "text_color")


def logo_url(app_url: str, key: str | None) -> str | None:
    """Logos are public, at /storage/logos/<key> (gateway/web/media.py), like avatars."""
    return f"{app_url.rstrip('/')}/storage/logos/{key}" if key else None


def gallery_expiry(row: Mapping[str, Any]) -> datetime | None:
    return rules.gallery_expires_at(row["ends_at"], row["published_at"], row["gallery_days"])


class LegalLinks(BaseModel):
    """The tenant's legal pages, absolute https URLs; null when it has not set one."""

    imprint_url: str | None = Field(examples=["https://example.com/imprint"])
    privacy_url: str | None = Field(examples=["https://example.com/privacy"])
    terms_url: str | None = Field(examples=["https://example.com/terms"])

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LegalLinks:
        return cls(imprint_url=row["imprint_url"], privacy_url=row["privacy_url"], terms_url=row["terms_url"])


class Branding(BaseModel):
    """The tenant's theme over the defaults, its logo and its legal links (its settings)."""

    primary_color: str = Field(examples=["#E11D48"])
    secondary_color: str = Field(examples=["#FFF1F2"])
    logo_url: str | None = Field(description="The uploaded logo (a public JPEG), or null.")
    accent_color: str | None = Field(default=None, examples=["#f59e0b"])
    background_color: str | None = Field(default=None, examples=["#ffffff"])
    text_color: str | None = Field(default=None, examples=["#111827"])
    legal: LegalLinks

    @classmethod
    def of(cls, row: Mapping[str, Any], app_url: str) -> Branding:
        """From an event row of storage/events.py. Only string values of the theme count (the
        column was free JSON before settings validated it; a logo_url written there then still
        shows until a logo is uploaded)."""
        theme = row["theme"]
        given = theme if isinstance(theme, dict) else {}
        values: dict[str, Any] = {
            name: given[name] if isinstance(given.get(name), str) else default
            for name, default in DEFAULT_BRANDING.items()
        }
        values.update({name: given[name] for name in OPTIONAL_COLORS if isinstance(given.get(name), str)})
        values["logo_url"] = logo_url(app_url, row["logo_key"]) or values["logo_url"]
        return cls.model_validate({**values, "legal": LegalLinks.from_row(row)})


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
    def from_event(cls, row: Mapping[str, Any], app_url: str) -> GuestEventPublic:
        """`app_url` makes the logo's URL absolute, like every media URL of 001."""
        return cls.model_validate(
            {
                **row,
                "branding": Branding.of(row, app_url),
                "limits": GuestLimits(
                    photo_limit=row["photo_limit"],
                    photos_remaining=max(row["photo_limit"] - row["photo_count"], 0),
                ),
                "gallery_expires_at": gallery_expiry(row),
            }
        )
