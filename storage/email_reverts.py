"""Email-change revert tokens: the way back mailed to the old address. Only SHA-256 stored."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def create(
    conn: asyncpg.Connection, *, user_id: int, old_email: str, new_email: str, token_hash: str, expires_at: datetime
) -> None:
    # Expired ones of this user go here, so the table does not grow without bound.
    await conn.execute("delete from email_change_reverts where user_id = $1 and expires_at <= now()", user_id)
    await conn.execute(
        """
        insert into email_change_reverts (token_hash, user_id, old_email, new_email, expires_at)
        values ($1, $2, $3, $4, $5)
        """,
        token_hash,
        user_id,
        old_email,
        new_email,
        expires_at,
    )


async def take(conn: asyncpg.Connection, token_hash: str) -> asyncpg.Record | None:
    """Consume a token: (user_id, old_email, new_email) if it existed and had not expired, else
    None. Deleted in the same statement that reads it, so two racing requests cannot both use it."""
    row = await conn.fetchrow(
        """
        delete from email_change_reverts where token_hash = $1
        returning user_id, old_email, new_email, expires_at > now() as live
        """,
        token_hash,
    )
    return row if row is not None and row["live"] else None


async def delete_for_user(conn: asyncpg.Connection, user_id: int) -> None:
    """After a revert, no other pending revert (an intruder's own, to the address they set) may
    undo it."""
    await conn.execute("delete from email_change_reverts where user_id = $1", user_id)
