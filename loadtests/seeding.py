"""Accounts for load tests and benchmarks, written straight into the server's database through
Roost's own account code (the sign-up routes' throttles allow a handful an hour per address, far
fewer than a run needs), and the daily quota moved out of a run's way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

# High enough that no run exhausts it
NO_QUOTA = 1_000_000_000
PASSWORD = "load-test-password-1"


class _NoRevocations:
    """Nothing to tell: no gateway has cached these new accounts yet."""

    async def tokens_revoked(self, token_hashes: list[str]) -> None:
        return None

    async def user_changed(self, user_id: int) -> None:
        return None


@dataclass(frozen=True)
class Seeded:
    user_id: int
    token: str  # an API token (`Authorization: Bearer <token>`)


@asynccontextmanager
async def seeding_accounts(database_url: str) -> AsyncIterator[Any]:
    """Roost's account service (domain.accounts.Accounts) on a small pool of its own, with cheap
    password hashes for made-up accounts (argon2 keeps its parameters in the hash, so the server
    verifies them as any other); the app key signs JWTs only, which these callers do not use."""
    from domain.accounts import Accounts
    from domain.passwords import PasswordHashing
    from storage.pool import create_pool

    pool = await create_pool(database_url, min_size=1, max_size=2)
    hashing = PasswordHashing(time_cost=1, memory_kib=8192, max_concurrent=1)
    try:
        yield Accounts(pool, hashing, _NoRevocations(), app_key="load-test", jwt_ttl_s=3600)
    finally:
        hashing.close()
        await pool.close()


async def seed_accounts(
    database_url: str,
    emails: Sequence[str],
    *,
    abilities: Sequence[str] = ("*",),
    token_name: str = "load-test",
    daily_quota: int | None = NO_QUOTA,
) -> list[Seeded]:
    """One account per email with an API token each; `daily_quota` (None: left alone) is the
    regular users' runtime setting, which running gateways re-read within RUNTIME_SETTINGS_POLL_S."""
    from domain.passwords import prehash
    from storage import system_settings as settings_sql

    async with seeding_accounts(database_url) as accounts:
        seeded = []
        for email in emails:
            user = await accounts.register(email=email, password_hex=prehash(PASSWORD), name=email.split("@")[0])
            issued = await accounts.issue_token(user["id"], name=token_name, kind="api", abilities=list(abilities))
            seeded.append(Seeded(user["id"], issued.plain_text))
        if daily_quota is not None:
            async with accounts.pool.acquire() as conn:
                await settings_sql.put(conn, "api_daily_quota_regular", daily_quota)
    return seeded
