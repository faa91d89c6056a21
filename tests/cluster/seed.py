"""What the multi-node run needs in its database before the gateways serve: accounts and tokens
for 000 and 002 (through Roost's own account code), a tenant with a published event and one
photo waiting for moderation (001, written as tests/event_builders.py writes them), and the daily
quota. 002's group, food and pet are then made through gateway A's routes (`make_family`)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg

from domain.accounts import Accounts
from domain.passwords import PasswordHashing, prehash
from domain.tenant_abilities import TENANT_ABILITIES
from storage import system_settings as settings_sql

PASSWORD = "cluster-test-password-1"


class _NoRevocations:
    """No gateway has cached these new accounts yet: nothing to tell."""

    async def tokens_revoked(self, token_hashes: list[str]) -> None:
        return None

    async def user_changed(self, user_id: int) -> None:
        return None


@dataclass
class Seeded:
    quota_user_id: int
    quota_token: str  # a regular user's API token (000), for the daily-quota check
    load_token: str  # another regular user's API token, for writes under load
    family_jwt: str  # a 002 user
    tenant_token: str  # a tenant admin's tenant-app token (001)
    guest_token: str  # the event's guest token
    event_id: int
    pending_photo_id: int


async def seed(pool: asyncpg.Pool, *, app_key: str, daily_quota: int) -> Seeded:
    hashing = PasswordHashing(time_cost=1, memory_kib=8192, max_concurrent=1)
    run = uuid.uuid4().hex[:8]
    try:
        accounts = Accounts(pool, hashing, _NoRevocations(), app_key=app_key, jwt_ttl_s=3600)

        async def user(role: str) -> Any:
            return await accounts.register(email=f"cluster-{run}-{role}@example.test", password_hex=prehash(PASSWORD),
                                           name=role)

        async def api_token(role: str) -> tuple[int, str]:
            user_id = (await user(role))["id"]
            issued = await accounts.issue_token(user_id, name="cluster", kind="api")
            return user_id, issued.plain_text

        (quota_user_id, quota_token), (_, load_token) = await api_token("quota"), await api_token("load")
        family_jwt = accounts.issue_jwt(await user("family"))
        admin = await user("tenant-admin")
        tenant_token = (await accounts.issue_token(admin["id"], name="tenant-app", kind="tenant",
                                                   abilities=TENANT_ABILITIES)).plain_text
        guest_token = secrets.token_urlsafe(24)
        async with pool.acquire() as conn, conn.transaction():
            await settings_sql.put(conn, "api_daily_quota_regular", daily_quota)
            tenant_id = await conn.fetchval(
                """insert into tenants (name, slug, package_id)
                   values ('Cluster', $1, (select id from packages where slug = 'pro')) returning id""",
                f"cluster-{run}",
            )
            await conn.execute("insert into tenant_users (user_id, tenant_id, role) values ($1, $2, 'admin')",
                               admin["id"], tenant_id)
            event_id = await conn.fetchval(
                """insert into events (tenant_id, name, slug, status, moderation, guest_token, published_at)
                   values ($1, 'Cluster party', $2, 'published', 'manual', $3, now()) returning id""",
                tenant_id, f"cluster-{run}", guest_token,
            )
            base = f"{event_id}/cluster-{run}"
            photo_id = await conn.fetchval(
                """insert into photos (event_id, tenant_id, device_id, status, moderation, content_type, width,
                                       height, size_bytes, original_key, web_key, thumb_key)
                   values ($1, $2, 'cluster-device', 'ready', 'pending', 'image/jpeg', 64, 48, 1000,
                           $3 || '/original.jpg', $3 || '/web.jpg', $3 || '/thumb.jpg') returning id""",
                event_id, tenant_id, base,
            )
            await conn.execute("update events set photo_count = photo_count + 1 where id = $1", event_id)
    finally:
        hashing.close()
    return Seeded(quota_user_id, quota_token, load_token, family_jwt, tenant_token, guest_token, event_id, photo_id)


@dataclass
class Family:
    group_id: str
    food_id: str
    pet_id: str


async def make_family(http: aiohttp.ClientSession, base: str, jwt: str) -> Family:
    """A group, a food in it and a pet moved into it, through 002's routes as a family makes them."""
    headers = {"Authorization": f"Bearer {jwt}"}

    async def call(path: str, body: dict | None = None) -> Any:
        async with http.post(f"{base}{path}", json=body, headers=headers) as resp:
            answer = await resp.json()
            assert resp.status == 200, f"POST {path}: {resp.status} {answer}"
            return answer["data"]

    group = await call("/groups/create", {"name": "Cluster family"})
    food = await call(f"/foods/create?group_id={group['id']}", {
        "brand": "Royal Canin", "product_name": "Persian Adult", "food_type": "dry_food", "target_pet": "cat",
        "unit_weight_g": 10.0, "calories_per_100g": 380, "protein_percentage": 30.0, "fat_percentage": 18.0,
        "moisture_percentage": 8.0, "carbohydrate_percentage": 44.0,
    })
    pet = await call("/pets/create", {"name": "Miso", "pet_type": "cat", "daily_calorie_target": 300})
    await call(f"/pets/{pet['id']}/assign_group", {"group_id": group["id"]})
    return Family(group["id"], food["id"], pet["id"])
