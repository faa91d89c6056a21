"""What the schemathesis run (test_schemathesis.py) stands on: callers holding every kind of
credential the four documents declare, and real objects for the ids in their paths.

Everything is made through the same builders and endpoints the contract tests use: users and
tokens through the domain (tests/builders.py), a browser session through the real `POST /login`,
a 001 tenant token through the real `POST /api/v1/tenant-auth/login`, a 002 JWT as its logins mint
it, pets and health records, a tenant with published and draft events, photos, tasks and emotions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain import api_keys, care_photos
from domain.ai import AiStatus
from gateway.kernel.keys import accounts_key, pool_key, settings_key
from storage import ai_requests
from tests.builders import DEFAULT_PASSWORD, make_token, make_user
from tests.event_builders import make_event, make_photo, make_tenant
from tests.events.photo_fixtures import jpeg
from tests.health_builders import insert_pet, make_medical_record, make_weight
from tests.web.session_helpers import SESSION_COOKIE, XSRF_COOKIE, sign_in

DEVICE_ID = "schemathesis-device-0001"
# sets of objects for the deleting cases: each one that succeeds uses one up
SPARE = 3


def destroys(method: str, path: str) -> bool:
    """Whether an operation deletes what its path names (002 deletes with POST .../delete)."""
    return method == "DELETE" or path.rsplit("/", 1)[-1] in ("delete", "remove")


@dataclass
class Caller:
    """One account and every credential it can present, by the name the documents' security
    schemes carry (test_schemathesis.CREDENTIALS says which scheme takes which)."""

    user_id: int
    email: str
    pat: str  # a personal access token with every ability ("*")
    pat_id: int
    jwt: str
    session: str  # the roost_session cookie
    xsrf: str  # the XSRF-TOKEN cookie, echoed in X-XSRF-TOKEN
    tenant: str | None = None  # a 001 tenant-app token from /tenant-auth/login (tenant admins only)


@dataclass
class World:
    """The seeded state: `owner` owns the pets and administers the tenant; `admin` is a super admin
    (001's /tenants); `api_key` is 002's `X-API-Key`."""

    owner: Caller
    admin: Caller
    api_key: str
    device_id: str = DEVICE_ID
    # document key -> "keep" (every operation but those that delete) or "spend" -> path parameter
    # name -> real values; a name can depend on the path (000's `record` is a medical record
    # under /medical-records, a vaccination under /vaccinations)
    ids: dict[str, dict[str, dict[str, list[Any]]]] = field(default_factory=dict)

    def real_values(self, document: str, method: str, path: str, name: str) -> list[Any]:
        pools = self.ids.get(document, {})
        by_name = pools.get("spend" if destroys(method, path) else "keep") or pools.get("keep", {})
        for key in (f"{path}:{name}", name):
            if key in by_name:
                return by_name[key]
        return []


async def _caller(client: Any, *, tenant_id: int | None = None, admin: bool = False) -> Caller:
    app = client.app
    user = await make_user(app, verified=True)
    if admin:
        await app[pool_key].execute("update users set is_admin = true where id = $1", user["id"])
    token = await make_token(app, user["id"])
    signed = await sign_in(client, user["email"], DEFAULT_PASSWORD)
    user = await app[pool_key].fetchrow("select * from users where id = $1", user["id"])
    caller = Caller(
        user_id=user["id"],
        email=user["email"],
        pat=token.plain_text,
        pat_id=token.record["id"],
        jwt=app[accounts_key].issue_jwt(user),
        session=signed.cookies[SESSION_COOKIE],
        xsrf=signed.cookies[XSRF_COOKIE],
    )
    if tenant_id is not None:
        await app[pool_key].execute(
            "insert into tenant_users (user_id, tenant_id, role) values ($1, $2, 'admin')", user["id"], tenant_id
        )
        login = {"email": user["email"], "password": DEFAULT_PASSWORD}
        resp = await client.post("/api/v1/tenant-auth/login", json=login)
        assert resp.status == 200, await resp.text()
        caller.tenant = (await resp.json())["data"]["token"]
    return caller


async def fresh_caller(client: Any, like: Caller) -> Caller:
    """A new account with the same standing as `like` (tenant admin or not), for the operations
    that spend their caller's credentials (logout, account deletion, token revocation)."""
    tenant_id = None
    if like.tenant is not None:
        tenant_id = await client.app[pool_key].fetchval(
            "select tenant_id from tenant_users where user_id = $1 limit 1", like.user_id
        )
    return await _caller(client, tenant_id=tenant_id)


async def _pet_family(pool: Any, owner_id: int, n: int) -> dict[str, Any]:
    """One pet with one of each health record, as path ids."""
    pet = await insert_pet(pool, owner_id, name=f"Fuzz {n}")
    vaccination = await pool.fetchval(
        "insert into vaccinations (pet_id, vaccine_name, administered_at) values ($1, 'Rabies', $2) returning id",
        pet,
        date(2024, 3, 1),
    )
    microchip = await pool.fetchval(
        "insert into microchips (pet_id, chip_number) values ($1, $2) returning id",
        pet,
        f"9851{uuid.uuid4().int % 10**11:011d}",
    )
    return {
        "pet": pet,
        "weight": await make_weight(pool, pet, 4.2, date(2024, 1, 1)),
        "/pets/{pet}/medical-records/{record}:record": await make_medical_record(pool, pet, date(2024, 2, 1)),
        "/pets/{pet}/vaccinations/{record}:record": vaccination,
        "/pets/{pet}/vaccinations/{record}/renew:record": vaccination,
        "microchip": microchip,
    }


async def _seed_pethealth(client: Any, owner: Caller, n: int) -> dict[str, Any]:
    ids = await _pet_family(client.app[pool_key], owner.user_id, n)
    # a token the fuzzer may update and revoke (never the owner's own: that would sign it out)
    ids["token_id"] = (await make_token(client.app, owner.user_id, name=f"spare-{n}")).record["id"]
    return ids


async def _seed_events(client: Any, tenant: Mapping[str, Any], n: int) -> dict[str, Any]:
    app = client.app
    pool = app[pool_key]
    published = await make_event(app, tenant["id"])
    photo = await make_photo(app, published, approved=n % 2 == 0)
    task = await pool.fetchval(
        "insert into tasks (tenant_id, title) values ($1, $2) returning id", tenant["id"], f"Find the cake {n}"
    )
    emotion = await pool.fetchval(
        "insert into emotions (tenant_id, slug, name, emoji) values ($1, $2, 'Cheer', '🎉') returning id",
        tenant["id"],
        f"cheer-{n}",
    )
    # 001 commerce: a purchase intent of the tenant's (the /tenant/purchases/{purchase} routes)
    purchase = await pool.fetchval(
        """insert into purchases (tenant_id, product_id, amount_cents, currency, expires_at)
           select $1, id, amount_cents, currency, now() + interval '1 day' from commerce_products
           where provider_product_id = 'roost.credits.10' returning id""",
        tenant["id"],
    )
    return {
        "purchase": purchase,
        "token": published["guest_token"],
        "event": (await make_event(app, tenant["id"], status="draft"))["id"] if n % 2 else published["id"],
        "photo": photo["id"],
        "task": task,
        "emotion": emotion,
        "tenant": tenant["id"],
    }


async def _seed_petcare(client: Any, owner: Caller, n: int) -> dict[str, Any]:
    """002's ids: a pet of the owner's and a group the owner created."""
    pool = client.app[pool_key]
    group = await pool.fetchval(
        "insert into groups (name, creator_id) values ($1, $2) returning id", f"Fuzz group {n}", owner.user_id
    )
    await pool.execute(
        "insert into group_members (group_id, user_id, role) values ($1, $2, 'creator')", group, owner.user_id
    )
    ids: dict[str, Any] = {"pet_id": await insert_pet(pool, owner.user_id, name=f"Care {n}"), "group_id": group}
    ids.update(await _seed_foods_and_photos(client, ids["pet_id"], group, owner, n))
    # a meal of the pet from the group's food (the /meals/{meal_id}/... routes); the pet joins the
    # group, as a fed pet is in the group whose food it eats
    await pool.execute("update pets set group_id = $2 where id = $1", ids["pet_id"], group)
    ids["meal_id"] = await pool.fetchval(
        """
        insert into meals (pet_id, food_id, group_id, fed_by, fed_at, meal_type, serving_type, serving_amount,
                           actual_weight_g, calories, protein_g, fat_g, moisture_g, carbohydrate_g)
        values ($1, $2, $3, $4, now(), 'breakfast', 'grams', 100, 100, 380, 30, 18, 8, 44) returning id
        """,
        ids["pet_id"], ids["food_id"], group, owner.user_id,
    )
    return ids


async def _seed_foods_and_photos(client: Any, pet_id: int, group_id: int, owner: Caller, n: int) -> dict[str, Any]:
    """A food in the group, and a stored photo for it and for the pet: the photo routes' ids, and
    the `/static/...` file names photo_url gives."""
    pool = client.app[pool_key]
    food_id = await pool.fetchval(
        """
        insert into foods (group_id, created_by, brand, product_name, food_type, target_pet, unit_weight_g,
                           calories_per_100g, protein_percentage, fat_percentage, moisture_percentage,
                           carbohydrate_percentage)
        values ($1, $2, 'Fuzz', $3, 'dry_food', 'cat', 10, 380, 30, 18, 8, 44) returning id
        """,
        group_id,
        owner.user_id,
        f"Food {n}",
    )
    store = care_photos.photo_store(client.app[settings_key].media_dir)
    name = f"fuzz{n}.jpg"
    ids: dict[str, Any] = {"food_id": food_id}
    for table, folder, param, object_id in (("pets", "pet_photos", "pet_id", pet_id),
                                            ("foods", "food_photos", "food_id", food_id)):
        key = f"{folder}/{object_id}/{name}"
        await store.put(key, jpeg())
        await pool.execute(f"update {table} set photo_path = $2 where id = $1", object_id, key)
        ids[f"/static/{folder}/{{{param}}}/{{name}}:name"] = name
    return ids


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Objects side by side: the same index in every list is one consistent set (a pet and its
    records), so a path with several ids names things that belong together."""
    return {key: [row[key] for row in rows] for key in rows[0]}


async def seed_world(client: Any) -> World:
    app = client.app
    tenant = await make_tenant(app)
    owner = await _caller(client, tenant_id=tenant["id"])
    admin = await _caller(client, admin=True)
    key = await api_keys.issue(app[pool_key], f"schemathesis-{uuid.uuid4().hex[:8]}")
    world = World(owner=owner, admin=admin, api_key=key.plain_text)
    # deleting cases get objects of their own (SPARE sets), so the other operations keep theirs
    for pool_name, sets in (("keep", range(2)), ("spend", range(2, 2 + SPARE))):
        pets = [await _seed_pethealth(client, owner, n) for n in sets]
        events = [await _seed_events(client, tenant, n) for n in sets]
        world.ids.setdefault("pethealth", {})[pool_name] = _columns(pets)
        world.ids.setdefault("events", {})[pool_name] = _columns(events)
        care = [await _seed_petcare(client, owner, n) for n in sets]
        world.ids.setdefault("petcare", {})[pool_name] = _columns(care)
    world.ids["accounts"] = {"keep": {"id": [owner.user_id, admin.user_id]}}
    # 003's AI generations are the owner's (a finished one and one still pending); the admin's id
    # beside them is another user's job: the 404 case
    world.ids["accounts"]["keep"]["/ai/jobs/{id}/status:id"] = await _seed_ai_requests(app, owner, admin)
    return world


async def _seed_ai_requests(app: Any, owner: Caller, other: Caller) -> list[int]:
    ids = []
    async with app[pool_key].acquire() as conn:
        for user_id, done in ((owner.user_id, True), (owner.user_id, False), (other.user_id, True)):
            request_id = await ai_requests.insert(
                conn,
                user_id=user_id,
                prompt="seeded",
                messages=None,
                model=None,
                max_tokens=16,
                is_async=True,
                meta={"provider": "gorq", "attempts": 0},
            )
            if done:
                await ai_requests.move(
                    conn,
                    request_id,
                    AiStatus.FINISHED.value,
                    sources=["pending"],
                    final=True,
                    meta={"attempts": 1, "tokens": 7},
                    result={"output": "seeded"},
                )
            ids.append(request_id)
    return ids
