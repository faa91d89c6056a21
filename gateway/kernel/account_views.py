"""How /api shows a user and a personal access token: the pydantic models and their renderers.

A user: 003's profile (username, first/last name, absolute avatar) with 000's `name` alongside
(`domain.accounts.display_name`), so clients of either document find their fields; 002 reuses
`absolute_avatar`. A token: 000's token management and the /developer page render the same one.

The models (`UserPublic`, `PublicProfile`, `ApiTokenPublic`) are the OpenAPI components of 000's
and 003's documents; `user_public`/`public_profile`/`api_token_public` build them from a row, and
`user_view`/`public_view`/`token_view` render them to the JSON-ready dicts the handlers answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from domain.accounts import display_name
from domain.settings import Settings
from gateway.kernel.timeutil import iso_z

# A moment on the wire: `2025-11-28T12:34:56Z` (UTC, whole seconds, `Z`), as `iso_z` writes it.
IsoZ = Annotated[
    datetime,
    PlainSerializer(iso_z, return_type=str),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "description": "UTC, whole seconds: 2025-11-28T12:34:56Z"}
    ),
]


class PublicProfile(BaseModel):
    """003's public profile of any user: exactly these six fields."""

    model_config = ConfigDict(extra="forbid")  # exactly these fields (additionalProperties: false)

    id: int
    username: str | None
    first_name: str | None
    last_name: str | None
    avatar: str | None = Field(description="Absolute URL of the avatar image, null when none.")
    created_at: IsoZ


class UserPublic(BaseModel):
    """The signed-in user's own profile (003's user, with 000's `name`); never any password field."""

    model_config = ConfigDict(extra="forbid")  # exactly these fields (additionalProperties: false)

    id: int
    username: str | None
    first_name: str | None
    last_name: str | None
    name: str | None = Field(description="Display name: the name, else first and last name, else the username.")
    email: str
    avatar: str | None = Field(description="Absolute URL of the avatar image, null when none.")
    email_verified_at: IsoZ | None
    provider_name: str | None = Field(description="The OAuth provider that last signed this account in.")
    is_premium: bool
    created_at: IsoZ
    updated_at: IsoZ


class ApiTokenPublic(BaseModel):
    """A personal access token as its owner sees it (never the secret)."""

    model_config = ConfigDict(extra="forbid")  # exactly these fields (additionalProperties: false)

    id: int
    name: str
    abilities: list[str]
    created_at: IsoZ
    last_used_at: IsoZ | None
    last_used_ago: str | None = Field(
        description='Human wording of last_used_at: "3 minutes ago"; null when never used.'
    )


def absolute_avatar(settings: Settings, avatar: str | None) -> str | None:
    """003 always renders avatars as absolute URLs, whatever form was stored."""
    if not avatar:
        return None
    if avatar.startswith(("http://", "https://")):
        return avatar
    path = avatar.lstrip("/")
    if not path.startswith("storage/"):
        path = "storage/" + path
    return f"{settings.app_url.rstrip('/')}/{path}"


def user_public(user: asyncpg.Record, settings: Settings) -> UserPublic:
    return UserPublic(
        id=user["id"],
        username=user["username"],
        first_name=user["first_name"],
        last_name=user["last_name"],
        name=display_name(user),
        email=user["email"],
        avatar=absolute_avatar(settings, user["avatar"]),
        email_verified_at=user["email_verified_at"],
        provider_name=user["provider_name"],
        is_premium=user["is_premium"],
        created_at=user["created_at"],
        updated_at=user["updated_at"],
    )


def user_view(user: asyncpg.Record, settings: Settings) -> dict[str, Any]:
    """The signed-in user's own profile, JSON-ready (`UserPublic`)."""
    return user_public(user, settings).model_dump(mode="json")


def public_profile(user: asyncpg.Record, settings: Settings) -> PublicProfile:
    return PublicProfile(
        id=user["id"],
        username=user["username"],
        first_name=user["first_name"],
        last_name=user["last_name"],
        avatar=absolute_avatar(settings, user["avatar"]),
        created_at=user["created_at"],
    )


def public_view(user: asyncpg.Record, settings: Settings) -> dict[str, Any]:
    """003's public profile, JSON-ready (`PublicProfile`)."""
    return public_profile(user, settings).model_dump(mode="json")


# Largest unit first, as Carbon picks it (a month is 30 days here; "about" is all it promises).
_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def time_ago(moment: datetime | None, now: datetime | None = None) -> str | None:
    """Carbon's diffForHumans wording: "3 minutes ago", "1 day ago"; None when never."""
    if moment is None:
        return None
    now = now or datetime.now(UTC)
    # at least a second: a use just now (or a clock a little ahead of ours) reads "1 second ago"
    seconds = max(int((now - moment).total_seconds()), 1)
    unit, size = next((u, s) for u, s in _UNITS if seconds >= s)
    n = seconds // size
    return f"{n} {unit}{'' if n == 1 else 's'} ago"


def api_token_public(row: asyncpg.Record, now: datetime | None = None) -> ApiTokenPublic:
    return ApiTokenPublic(
        id=row["id"],
        name=row["name"],
        abilities=list(row["abilities"] or []),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        last_used_ago=time_ago(row["last_used_at"], now),
    )


def token_view(row: asyncpg.Record, now: datetime | None = None) -> dict[str, Any]:
    """A token, JSON-ready (`ApiTokenPublic`)."""
    return api_token_public(row, now).model_dump(mode="json")
