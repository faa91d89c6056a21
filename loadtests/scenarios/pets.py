"""my_pets and quota_overhead: 000's GET /api/my-pets for a user with 10 pets that have weights
and vaccinations.

my_pets prices the whole gateway (auth, throttles, quota, request log, envelope) against a bare
handler running the same SQL; quota_overhead prices the quota and minute throttles alone, against
a second Roost with both switched off.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

from loadtests.registry import HttpScenario, HttpTarget, SetupContext, register

PETS = 10
WEIGHTS_PER_PET = 3
# High enough that no benchmark run exhausts it: the quota path under test is "allowed".
BENCH_QUOTA = 1_000_000_000


async def seed_user_with_pets(ctx: SetupContext) -> dict[str, Any]:
    """A user, 10 cats with weights and vaccinations, a read token (loadtests/seeding.py)."""
    from loadtests.seeding import seed_accounts
    from storage import pets as pets_sql
    from storage.pool import create_pool

    email = f"bench-{uuid.uuid4().hex[:8]}@example.test"
    (account,) = await seed_accounts(ctx.database_url, [email], abilities=["read"], daily_quota=BENCH_QUOTA)
    pool = await create_pool(ctx.database_url, min_size=1, max_size=1)
    try:
        today = date.today()
        async with pool.acquire() as conn, conn.transaction():
            cat_type = await pets_sql.type_by_slug(conn, "cat")
            assert cat_type is not None  # a seeded type (storage/migrations)
            cat = cat_type["id"]
            for i in range(PETS):
                pet = await pets_sql.create(
                    conn, owner_id=account.user_id, pet_type_id=cat, name=f"Cat {i}", country="VN",
                    birthday=None, description=None, sex="not_specified",
                )
                for w in range(WEIGHTS_PER_PET):
                    await conn.execute(
                        "insert into pet_weights (pet_id, weight_kg, record_date) values ($1, $2, $3)",
                        pet["id"], 4 + w / 10, today - timedelta(days=30 * w),
                    )
                await conn.execute(
                    "insert into vaccinations (pet_id, vaccine_name, administered_at, due_at)"
                    " values ($1, 'Rabies', $2, $3)",
                    pet["id"], today - timedelta(days=300), today + timedelta(days=10 * i),
                )
    finally:
        await pool.close()
    # Running gateways re-read runtime settings every RUNTIME_SETTINGS_POLL_S (2 s by default):
    # measuring before they see the raised quota would measure 429s.
    await asyncio.sleep(3)
    return {"user_id": account.user_id, "auth": f"Bearer {account.token}"}


OURS = HttpTarget("/api/my-pets", headers={"Authorization": "{auth}"})

register(
    HttpScenario(
        name="my_pets",
        ours=OURS,
        baseline=HttpTarget("/my-pets/{user_id}"),
        setup=seed_user_with_pets,
    )
)
register(
    HttpScenario(
        name="quota_overhead",
        ours=OURS,
        baseline=OURS,
        setup=seed_user_with_pets,
        baseline_roost_env={"API_QUOTA_ENABLED": "false", "API_THROTTLES_ENABLED": "false"},
    )
)
