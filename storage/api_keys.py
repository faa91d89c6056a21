"""API keys: the credentials that guard 002's `POST /user/create` (only SHA-256 of the secret stored)."""

from __future__ import annotations

import asyncpg

from domain.errors import Conflict
from storage.errors import domain_errors


async def create(conn: asyncpg.Connection, *, name: str, key_id: str, secret_hash: str) -> asyncpg.Record:
    """A new key. A taken name is a Conflict (`api_key_name_taken`)."""
    try:
        with domain_errors():
            return await conn.fetchrow(
                "insert into api_keys (name, key_id, secret_hash) values ($1, $2, $3) returning *",
                name,
                key_id,
                secret_hash,
            )
    except Conflict as exc:
        if exc.meta.get("constraint") == "api_keys_name_key":
            raise Conflict(
                f"An API key named {name!r} already exists.", code="api_key_name_taken", meta={"name": name}
            ) from exc
        raise


async def by_key_id(conn: asyncpg.Connection, key_id: str) -> asyncpg.Record | None:
    """The key with this id, revoked or not (the caller decides what a revoked key means)."""
    return await conn.fetchrow("select * from api_keys where key_id = $1", key_id)


async def revoke(conn: asyncpg.Connection, name: str) -> asyncpg.Record | None:
    """Marks the key revoked (kept, so users it registered still name their source); None if unknown."""
    return await conn.fetchrow(
        "update api_keys set revoked_at = coalesce(revoked_at, now()) where name = $1 returning *", name
    )

