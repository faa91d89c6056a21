"""user_me: 002's GET /user/me with a JWT, against a bare handler running the same two statements.

The scenario of issue 16's tail-latency finding: at 64 concurrent requests on the default pool of
10 connections, the p99 said more than the ratio (storage/pool.py's FairPool is the fix).
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from loadtests.registry import HttpScenario, HttpTarget, SetupContext, register

PASSWORD = "bench-password-1"


async def seed_user(ctx: SetupContext) -> dict[str, Any]:
    """A user with their personal group, through our own domain code; a JWT from 002's login."""
    from domain.accounts import Accounts
    from domain.passwords import PasswordHashing, prehash
    from storage import groups as groups_sql
    from storage.pool import create_pool

    class NoRevocations:
        async def tokens_revoked(self, token_hashes: list[str]) -> None:
            return None

        async def user_changed(self, user_id: int) -> None:
            return None

    email = f"bench-{uuid.uuid4().hex[:8]}@example.test"
    pool = await create_pool(ctx.database_url, min_size=1, max_size=2)
    hashing = PasswordHashing(time_cost=1, memory_kib=8192, max_concurrent=1)
    try:
        accounts = Accounts(pool, hashing, NoRevocations(), app_key="bench", jwt_ttl_s=3600)
        user = await accounts.register(email=email, password_hex=prehash(PASSWORD), name="Bench")
        async with pool.acquire() as conn:
            await groups_sql.create_personal(conn, user["id"])
    finally:
        hashing.close()
        await pool.close()
    async with aiohttp.ClientSession() as http:
        login = {"email": email, "pwd": PASSWORD}
        async with http.post(f"{ctx.ours_url}/auth/email/login", json=login) as resp:
            body = await resp.json()
            assert resp.status == 200, body
    return {"user_id": user["id"], "auth": f"Bearer {body['data']['access_token']}"}


register(
    HttpScenario(
        name="user_me",
        ours=HttpTarget("/user/me", headers={"Authorization": "{auth}"}),
        baseline=HttpTarget("/user-me/{user_id}"),
        setup=seed_user,
    )
)
