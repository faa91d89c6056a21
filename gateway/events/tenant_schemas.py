"""Response models of tenants and tenant sign-in (gateway/events/tenant_auth.py, tenants_admin.py).
Rows come from storage/tenants.py (a tenant joined with its package)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from gateway.events.common_schemas import Moment
from gateway.events.guards import TenantRole


class PackagePublic(BaseModel):
    slug: str
    name: str
    photo_limit: int = Field(description="Photos per event.")
    gallery_days: int = Field(description="Days the public gallery stays open after the event.")
    event_limit: int | None = Field(description="Events that are not archived at once; null: unlimited.")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PackagePublic:
        return cls(
            slug=row["package_slug"],
            name=row["package_name"],
            photo_limit=row["photo_limit"],
            gallery_days=row["gallery_days"],
            event_limit=row["event_limit"],
        )


class TenantPublic(BaseModel):
    """A tenant as its own apps see it."""

    id: int
    name: str
    slug: str
    package: PackagePublic
    theme: dict[str, Any] = Field(description="Free-form branding (primary_color, secondary_color, logo_url...).")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TenantPublic:
        return cls(
            id=row["id"], name=row["name"], slug=row["slug"], package=PackagePublic.from_row(row), theme=row["theme"]
        )


class AdminTenantPublic(TenantPublic):
    """A tenant as super admins see it."""

    events_count: int
    admins_count: int
    created_at: Moment
    updated_at: Moment

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AdminTenantPublic:
        return cls(
            **TenantPublic.from_row(row).__dict__,
            events_count=row["events_count"],
            admins_count=row["admins_count"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


class TenantSignIn(BaseModel):
    """A new tenant-app token: send it as `Authorization: Bearer <token>`."""

    token: str = Field(description="`<id>|<secret>`; shown once.")
    abilities: list[str]
    tenant: TenantPublic


class TenantUser(BaseModel):
    id: int
    email: str
    name: str | None


class TenantMe(BaseModel):
    user: TenantUser
    tenant: TenantPublic
    abilities: list[str] = Field(description='The token\'s abilities; `["*"]` for sessions and JWTs.')
    role: TenantRole


class SignInCode(BaseModel):
    """A one-time code another device swaps for a token of its own (POST /tenant-auth/exchange)."""

    code: str
    expires_at: Moment
