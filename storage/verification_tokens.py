"""Email verification tokens: only their SHA-256 stored, each with an expiry."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def create(conn: asyncpg.Connection, user_id: int, token_hash: str, expires_at: datetime) -> None:
    # Every mail sent stays usable until it expires (people click the older of two mails); the
    # expired ones of this user are cleared here so the table does not grow without bound.
    await conn.execute("delete from email_verification_tokens where user_id = $1 and expires_at <= now()", user_id)
    await conn.execute(
        "insert into email_verification_tokens (token_hash, user_id, expires_at) values ($1, $2, $3)",
        token_hash,
        user_id,
        expires_at,
    )


async def take(conn: asyncpg.Connection, token_hash: str) -> int | None:
    """Consume a token: the user id if it existed and had not expired, else None. An expired
    token is deleted too; either way it never works again."""
    row = await conn.fetchrow(
        "delete from email_verification_tokens where token_hash = $1 returning user_id, expires_at > now() as live",
        token_hash,
    )
    if row is None or not row["live"]:
        return None
    return row["user_id"]


async def has_pending(conn: asyncpg.Connection, user_id: int) -> bool:
    """Whether a verification link sent to the user still works (so a page may say one was sent)."""
    return bool(
        await conn.fetchval(
            "select exists (select 1 from email_verification_tokens where user_id = $1 and expires_at > now())",
            user_id,
        )
    )
