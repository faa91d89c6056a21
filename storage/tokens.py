"""Personal access tokens. Only the SHA-256 of a token's secret is stored."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from domain.errors import Conflict, Invalid
from storage.errors import domain_errors

# What the gateway needs to authenticate a request, in one indexed lookup.
AUTH_SELECT = """
    select t.id as token_id, t.user_id, t.abilities, t.expires_at, t.kind,
           u.is_active, u.is_premium, u.is_admin, u.email_verified_at is not null as email_verified
    from personal_access_tokens t join users u on u.id = t.user_id
"""


async def create(
    conn: asyncpg.Connection,
    *,
    user_id: int,
    name: str,
    token_hash: str,
    abilities: list[str],
    kind: str = "api",
    expires_at: datetime | None = None,
) -> asyncpg.Record:
    try:
        with domain_errors():
            return await conn.fetchrow(
                """
                insert into personal_access_tokens (user_id, name, kind, token_hash, abilities, expires_at)
                values ($1, $2, $3, $4, $5, $6)
                returning id, user_id, name, kind, abilities, last_used_at, expires_at, created_at, updated_at
                """,
                user_id,
                name,
                kind,
                token_hash,
                abilities,
                expires_at,
            )
    except Conflict as exc:
        if exc.meta.get("constraint") == "personal_access_tokens_api_name_key":
            message = "The name has already been taken."
            raise Invalid(message, code="already_taken", fields={"name": [message]}) from exc
        raise


async def for_auth(conn: asyncpg.Connection, token_hash: str) -> asyncpg.Record | None:
    return await conn.fetchrow(AUTH_SELECT + " where t.token_hash = $1", token_hash)


async def list_for_user(conn: asyncpg.Connection, user_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        select id, name, kind, abilities, last_used_at, expires_at, created_at, updated_at
        from personal_access_tokens where user_id = $1 order by created_at desc, id desc
        """,
        user_id,
    )


async def get_for_user(conn: asyncpg.Connection, user_id: int, token_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        select id, name, kind, abilities, last_used_at, expires_at, created_at, updated_at, token_hash
        from personal_access_tokens where user_id = $1 and id = $2
        """,
        user_id,
        token_id,
    )


async def set_abilities(
    conn: asyncpg.Connection, user_id: int, token_id: int, abilities: list[str]
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        update personal_access_tokens set abilities = $3, updated_at = now()
        where user_id = $1 and id = $2
        returning id, name, kind, abilities, last_used_at, expires_at, created_at, updated_at, token_hash
        """,
        user_id,
        token_id,
        abilities,
    )


async def delete(conn: asyncpg.Connection, user_id: int, token_id: int) -> str | None:
    """Deletes one of the user's tokens; returns its hash (for cache invalidation) or None."""
    return await conn.fetchval(
        "delete from personal_access_tokens where user_id = $1 and id = $2 returning token_hash", user_id, token_id
    )


async def delete_by_hash(conn: asyncpg.Connection, token_hash: str) -> bool:
    deleted = await conn.fetchval(
        "delete from personal_access_tokens where token_hash = $1 returning true", token_hash
    )
    return deleted is True


async def delete_all_for_user(conn: asyncpg.Connection, user_id: int, *, keep_id: int | None = None) -> list[str]:
    """Every token of the user but `keep_id`; returns their hashes (for cache invalidation)."""
    rows = await conn.fetch(
        "delete from personal_access_tokens where user_id = $1 and id is distinct from $2 returning token_hash",
        user_id,
        keep_id,
    )
    return [r["token_hash"] for r in rows]


async def touch(conn: asyncpg.Connection, used: dict[int, datetime]) -> None:
    """Write-behind of last_used_at: one statement for a whole batch of tokens."""
    if not used:
        return
    ids = list(used)
    await conn.execute(
        """
        update personal_access_tokens t set last_used_at = v.ts
        from unnest($1::bigint[], $2::timestamptz[]) as v(id, ts)
        where t.id = v.id and (t.last_used_at is null or t.last_used_at < v.ts)
        """,
        ids,
        [used[i] for i in ids],
    )
