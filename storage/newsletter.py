"""Newsletter subscriptions (003's /api/mail/newsletter, double opt-in): one row per address,
case-insensitive. Only the SHA-256 of a confirmation link's token is stored."""

from __future__ import annotations

import asyncpg


async def sign_up(
    conn: asyncpg.Connection, email: str, token_hash: str, resend_after_s: float
) -> asyncpg.Record | None:
    """Record a sign-up as pending with a new confirmation token; the row (id, email) when a
    confirmation mail is to go out, None when not: the address is confirmed already, or was sent
    one less than `resend_after_s` ago (so nobody can fill a stranger's mailbox through us).
    One statement, so two sign-ups at once send one mail."""
    return await conn.fetchrow(
        """
        insert into newsletter_subscriptions (email, confirm_token_hash, confirm_sent_at)
        values ($1, $2, now())
        on conflict (lower(email)) do update
           set status = 'pending',
               confirm_token_hash = excluded.confirm_token_hash,
               confirm_sent_at = now(),
               updated_at = now()
         where newsletter_subscriptions.status <> 'confirmed'
           and (newsletter_subscriptions.confirm_sent_at is null
                or newsletter_subscriptions.confirm_sent_at <= now() - make_interval(secs => $3))
        returning id, email
        """,
        email,
        token_hash,
        float(resend_after_s),
    )


async def confirm(conn: asyncpg.Connection, token_hash: str, ttl_s: float) -> asyncpg.Record | None:
    """Confirm the pending sign-up whose link carries the token, if it is younger than `ttl_s`;
    the token is cleared, so the link works once. The row (id, email), or None."""
    return await conn.fetchrow(
        """
        update newsletter_subscriptions
           set status = 'confirmed', confirm_token_hash = null, confirmed_at = now(), updated_at = now()
         where confirm_token_hash = $1
           and status = 'pending'
           and confirm_sent_at > now() - make_interval(secs => $2)
        returning id, email
        """,
        token_hash,
        float(ttl_s),
    )


async def unsubscribe(conn: asyncpg.Connection, subscription_id: int) -> asyncpg.Record | None:
    """Unsubscribe (idempotent; a pending sign-up's link stops working too). The row, or None."""
    return await conn.fetchrow(
        """
        update newsletter_subscriptions
           set status = 'unsubscribed',
               confirm_token_hash = null,
               unsubscribed_at = case when status = 'unsubscribed' then unsubscribed_at else now() end,
               updated_at = now()
         where id = $1
        returning id, email
        """,
        subscription_id,
    )
