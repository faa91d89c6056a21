"""Builders for 001: packages, tenants with admins, events and photos, written straight to the
database (and the media store) so each area's tests can start from any state."""

from __future__ import annotations

import io
import secrets
import uuid
from typing import Any

import asyncpg
from aiohttp import web

from domain.accounts import IssuedToken
from domain.media_store import event_media_store
from domain.tenant_abilities import TENANT_ABILITIES
from gateway.kernel.keys import pool_key, settings_key
from tests.builders import make_token, make_user


def _pool(app: web.Application) -> asyncpg.Pool:
    return app[pool_key]


async def make_package(app: web.Application, *, photo_limit: int = 100, gallery_days: int = 30,
                       event_limit: int | None = None, slug: str | None = None) -> asyncpg.Record:
    slug = slug or f"pkg-{uuid.uuid4().hex[:10]}"
    return await _pool(app).fetchrow(
        "insert into packages (slug, name, photo_limit, gallery_days, event_limit)"
        " values ($1, $2, $3, $4, $5) returning *",
        slug, slug.title(), photo_limit, gallery_days, event_limit,
    )


async def make_tenant(app: web.Application, *, package: str = "standard", name: str | None = None,
                      theme: dict[str, Any] | None = None) -> asyncpg.Record:
    slug = f"t-{uuid.uuid4().hex[:12]}"
    return await _pool(app).fetchrow(
        """insert into tenants (name, slug, package_id, theme)
           values ($1, $2, (select id from packages where slug = $3), $4) returning *""",
        name or f"Tenant {slug}", slug, package, theme or {"primary_color": "#112233", "secondary_color": "#ddeeff"},
    )


async def make_tenant_admin(app: web.Application, tenant_id: int, *, role: str = "admin",
                            abilities: tuple[str, ...] = TENANT_ABILITIES) -> tuple[asyncpg.Record, IssuedToken]:
    """A user administering `tenant_id` and a tenant-app token for them."""
    user = await make_user(app)
    await _pool(app).execute(
        "insert into tenant_users (user_id, tenant_id, role) values ($1, $2, $3)", user["id"], tenant_id, role
    )
    token = await make_token(app, user["id"], abilities=abilities, kind="tenant", name="tenant-app")
    return user, token


async def make_event(app: web.Application, tenant_id: int, *, status: str = "published", moderation: str = "auto",
                     **fields: Any) -> asyncpg.Record:
    """An event; published and archived ones have a guest token and a publish time."""
    slug = fields.pop("slug", None) or f"ev-{uuid.uuid4().hex[:10]}"
    published = status in ("published", "archived")
    return await _pool(app).fetchrow(
        """insert into events (tenant_id, name, slug, status, moderation, guest_token, published_at, archived_at,
                               starts_at, ends_at, description)
           values ($1, $2, $3, $4, $5, $6, case when $7 then now() end, case when $4 = 'archived' then now() end,
                   $8, $9, $10)
           returning *""",
        tenant_id, fields.get("name", f"Event {slug}"), slug, status, moderation,
        secrets.token_urlsafe(24) if published else None, published,
        fields.get("starts_at"), fields.get("ends_at"), fields.get("description"),
    )


def jpeg_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "JPEG", quality=85)
    return buf.getvalue()


async def make_photo(app: web.Application, event: asyncpg.Record, *, approved: bool = True, status: str = "ready",
                     device_id: str | None = "device-builder-1", task_id: int | None = None,
                     emotion_id: int | None = None, data: bytes | None = None) -> asyncpg.Record:
    """A processed photo with its three variants in the media store. An approved, ready photo takes
    the event's next feed_seq exactly as moderation does (same transaction as the version bump)."""
    store = event_media_store(app[settings_key].media_dir)
    data = data or jpeg_bytes()
    async with _pool(app).acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """insert into photos (event_id, tenant_id, device_id, task_id, emotion_id, status, moderation,
                                   content_type, width, height, size_bytes)
               values ($1, $2, $3, $4, $5, $6, $7, 'image/jpeg', 64, 48, $8) returning id""",
            event["id"], event["tenant_id"], device_id, task_id, emotion_id, status,
            "approved" if approved else "pending", len(data),
        )
        base = f"{event['id']}/{row['id']}-{secrets.token_hex(8)}"
        keys = {"original_key": f"{base}/original.jpg", "web_key": f"{base}/web.jpg", "thumb_key": f"{base}/thumb.jpg"}
        for key in keys.values():
            await store.put(key, data)
        await conn.execute("update events set photo_count = photo_count + 1 where id = $1", event["id"])
        if approved and status == "ready":
            seq = await conn.fetchval(
                "update events set feed_version = feed_version + 1 where id = $1 returning feed_version", event["id"]
            )
            await conn.execute("update photos set feed_seq = $2, approved_at = now() where id = $1", row["id"], seq)
        return await conn.fetchrow(
            "update photos set original_key = $2, web_key = $3, thumb_key = $4 where id = $1 returning *",
            row["id"], keys["original_key"], keys["web_key"], keys["thumb_key"],
        )


async def assert_error(resp, status: int, code: str) -> dict[str, Any]:
    """An answer in 001's error envelope with this status and code; returns the error object."""
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "title", "message", "meta"}
    assert error["code"] == code
    assert error["title"] and error["message"]
    return error
