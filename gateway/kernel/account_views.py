"""How /api shows a user and a personal access token.

A user: 003's profile (username, first/last name, absolute avatar) with 000's `name` alongside
(`domain.accounts.display_name`), so clients of either document find their fields; 002 reuses
`absolute_avatar`. A token: 000's token management and the /developer page render the same one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from domain.accounts import display_name
from domain.settings import Settings
from gateway.kernel.timeutil import iso_z


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


def user_view(user: asyncpg.Record, settings: Settings) -> dict[str, Any]:
    """The signed-in user's own profile (never any password field)."""
    return {
        "id": user["id"],
        "username": user["username"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "name": display_name(user),
        "email": user["email"],
        "avatar": absolute_avatar(settings, user["avatar"]),
        "email_verified_at": iso_z(user["email_verified_at"]) if user["email_verified_at"] else None,
        "provider_name": user["provider_name"],
        "is_premium": user["is_premium"],
        "created_at": iso_z(user["created_at"]),
        "updated_at": iso_z(user["updated_at"]),
    }


def public_view(user: asyncpg.Record, settings: Settings) -> dict[str, Any]:
    """003's public profile: exactly these six fields."""
    return {
        "id": user["id"],
        "username": user["username"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "avatar": absolute_avatar(settings, user["avatar"]),
        "created_at": iso_z(user["created_at"]),
    }


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


def token_view(row: asyncpg.Record, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "abilities": list(row["abilities"] or []),
        "created_at": iso_z(row["created_at"]),
        "last_used_at": iso_z(row["last_used_at"]) if row["last_used_at"] else None,
        "last_used_ago": time_ago(row["last_used_at"], now),
    }
