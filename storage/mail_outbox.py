"""Mail that was written down instead of sent (MAIL_MAILER=log): for people reading it and tests."""

from __future__ import annotations

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    *,
    message_id: str,
    to_address: str,
    subject: str,
    body_text: str,
    body_html: str | None,
    kind: str,
) -> bool:
    """Record one message; False if this message id is already there (a retried job)."""
    row = await conn.fetchval(
        """
        insert into mail_outbox (message_id, to_address, subject, body_text, body_html, kind)
        values ($1, $2, $3, $4, $5, $6)
        on conflict (message_id) where message_id is not null do nothing
        returning id
        """,
        message_id,
        to_address,
        subject,
        body_text,
        body_html,
        kind,
    )
    return row is not None


async def newest(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """The newest `limit` messages, oldest first (as a tail reads)."""
    return await conn.fetch(
        """
        select * from (
            select id, created_at, to_address, subject, kind, body_text
            from mail_outbox order by id desc limit $1
        ) newest order by id
        """,
        limit,
    )
