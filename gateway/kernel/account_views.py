"""How /api shows a user: 003's profile (username, first/last name, absolute avatar) with 000's
`name` alongside, so clients of either document find their fields."""

from __future__ import annotations

from typing import Any

import asyncpg

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


def display_name(user: asyncpg.Record) -> str | None:
    if user["name"]:
        return user["name"]
    parts = [p for p in (user["first_name"], user["last_name"]) if p]
    return " ".join(parts) or user["username"]
