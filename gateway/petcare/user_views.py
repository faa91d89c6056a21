"""How 002 shows a user: opaque string ids, `picture`, `personal_group_id`, `source`."""

from __future__ import annotations

from typing import Any

import asyncpg

from domain.accounts import display_name
from domain.settings import Settings
from gateway.kernel.account_views import absolute_avatar
from gateway.kernel.timeutil import iso_z


def user_view(user: asyncpg.Record, personal_group_id: int | None, settings: Settings) -> dict[str, Any]:
    return {
        "id": str(user["id"]),
        "email": user["email"],
        "name": display_name(user) or "",
        "picture": absolute_avatar(settings, user["avatar"]) or "",
        "personal_group_id": str(personal_group_id) if personal_group_id is not None else None,
        "created_at": iso_z(user["created_at"]),
        "updated_at": iso_z(user["updated_at"]),
        "source": user["source"],
        "is_active": user["is_active"],
        "is_verified": user["email_verified_at"] is not None,
    }


def login_user_view(user: asyncpg.Record, settings: Settings) -> dict[str, Any]:
    """The short user object inside 002's login answers."""
    view = {"id": str(user["id"]), "email": user["email"], "name": display_name(user) or ""}
    if user["avatar"]:
        view["picture"] = absolute_avatar(settings, user["avatar"])
    return view
