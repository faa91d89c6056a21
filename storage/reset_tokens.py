"""Password reset tokens: one live token per address, only its SHA-256 stored."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def replace(conn: asyncpg.Connection, email: str, token_hash: str) -> None:
    """Store the address's new token; an earlier one for the same address stops working."""
    await conn.execute(
        """
        insert into password_reset_tokens (email, token_hash, created_at) values (lower($1), $2, now())
        on conflict (email) do update set token_hash = excluded.token_hash, created_at = excluded.created_at
        """,
        email,
        token_hash,
    )


async def take(conn: asyncpg.Connection, email: str, token_hash: str) -> datetime | None:
    """Consume the token if it is the address's live one; returns when it was issued, else None.

    Deleting and checking in one statement means two requests racing with one token cannot both
    use it.
    """
    return await conn.fetchval(
        "delete from password_reset_tokens where email = lower($1) and token_hash = $2 returning created_at",
        email,
        token_hash,
    )


async def delete(conn: asyncpg.Connection, email: str) -> None:
    await conn.execute("delete from password_reset_tokens where email = lower($1)", email)
