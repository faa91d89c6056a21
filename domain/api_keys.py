"""API keys for 002's registration endpoint: `<key_id>:<secret>`, shown once, only SHA-256(secret) kept.

The key id is public (it names the key in logs and lookups); the secret is what proves possession.
A key is looked up by its id and its secret compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

import asyncpg

from domain.errors import Invalid
from domain.tokens import new_secret, sha256_hex
from storage import api_keys as api_keys_sql

KEY_ID_PREFIX = "rk_"
# Longer than any key we issue; anything longer is refused before it reaches the database.
MAX_PRESENTED = 256
MAX_NAME = 100


@dataclass(frozen=True)
class IssuedApiKey:
    record: asyncpg.Record
    secret: str

    @property
    def plain_text(self) -> str:
        """`<key_id>:<secret>`, printed to the operator once."""
        return f"{self.record['key_id']}:{self.secret}"


def parse(presented: str) -> tuple[str, str] | None:
    """(key_id, secret) from `<key_id>:<secret>`; None for anything that cannot be one."""
    presented = presented.strip()
    if not presented or len(presented) > MAX_PRESENTED or ":" not in presented:
        return None
    key_id, _, secret = presented.partition(":")
    if not key_id or not secret:
        return None
    return key_id, secret


async def issue(pool: asyncpg.Pool, name: str) -> IssuedApiKey:
    """A new key named `name` (422 on an empty or over-long name, Conflict when the name is taken)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid(
            f"The API key name must be 1 to {MAX_NAME} characters.",
            fields={"name": [f"The name must be 1 to {MAX_NAME} characters."]},
        )
    secret = new_secret()
    async with pool.acquire() as conn:
        record = await api_keys_sql.create(
            conn, name=name, key_id=KEY_ID_PREFIX + secrets.token_hex(10), secret_hash=sha256_hex(secret)
        )
    return IssuedApiKey(record, secret)


async def verify(pool: asyncpg.Pool, presented: str) -> asyncpg.Record | None:
    """The active key that `presented` proves, else None (unknown id, wrong secret, revoked)."""
    parsed = parse(presented)
    if parsed is None:
        return None
    key_id, secret = parsed
    async with pool.acquire() as conn:
        record = await api_keys_sql.by_key_id(conn, key_id)
    if record is None or record["revoked_at"] is not None:
        return None
    if not hmac.compare_digest(record["secret_hash"], sha256_hex(secret)):
        return None
    return record


async def revoke(pool: asyncpg.Pool, name: str) -> asyncpg.Record | None:
    async with pool.acquire() as conn:
        return await api_keys_sql.revoke(conn, name)
