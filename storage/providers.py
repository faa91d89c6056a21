"""Social sign-in links: `user_providers` rows and the provider fields 003 shows on `users`.

A user has at most one link per provider, and a provider identity belongs to at most one user
(both enforced by the table's keys). `users.provider_name/provider_id` name the provider that
last signed the account in; every link lives in `user_providers`.
"""

from __future__ import annotations

import asyncpg

from storage.errors import domain_errors


async def owner_of(conn: asyncpg.Connection, provider: str, provider_user_id: str) -> int | None:
    """The user a provider identity is linked to, if any."""
    return await conn.fetchval(
        "select user_id from user_providers where provider = $1 and provider_user_id = $2",
        provider,
        provider_user_id,
    )


async def linked_id(conn: asyncpg.Connection, user_id: int, provider: str) -> str | None:
    """The provider identity linked to this user for this provider, if any."""
    return await conn.fetchval(
        "select provider_user_id from user_providers where user_id = $1 and provider = $2",
        user_id,
        provider,
    )


async def for_user(conn: asyncpg.Connection, user_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select * from user_providers where user_id = $1 order by linked_at, provider",
        user_id,
    )


async def link(
    conn: asyncpg.Connection,
    *,
    user_id: int,
    provider: str,
    provider_user_id: str,
    email: str | None,
    avatar: str | None,
) -> None:
    """Records a link. A duplicate (either key) is a Conflict `already_exists`; callers check
    ownership first, so one only happens when two sign-ins race."""
    with domain_errors():
        await conn.execute(
            """
            insert into user_providers (provider, provider_user_id, user_id, email, avatar)
            values ($1, $2, $3, $4, $5)
            """,
            provider,
            provider_user_id,
            user_id,
            email,
            avatar,
        )


async def refresh(
    conn: asyncpg.Connection, *, provider: str, provider_user_id: str, email: str | None, avatar: str | None
) -> None:
    """What the provider said most recently about a linked identity."""
    await conn.execute(
        """
        update user_providers set email = coalesce($3, email), avatar = coalesce($4, avatar)
        where provider = $1 and provider_user_id = $2
        """,
        provider,
        provider_user_id,
        email,
        avatar,
    )


async def unlink(conn: asyncpg.Connection, user_id: int, provider: str) -> bool:
    deleted = await conn.fetchval(
        "delete from user_providers where user_id = $1 and provider = $2 returning true",
        user_id,
        provider,
    )
    return deleted is True


async def mark_signed_in_with(
    conn: asyncpg.Connection, user_id: int, *, provider: str, provider_user_id: str, avatar: str | None
) -> asyncpg.Record:
    """Names the provider on the account; the provider's avatar fills an empty one but never
    replaces an avatar the user chose."""
    return await conn.fetchrow(
        """
        update users set provider_name = $2, provider_id = $3, avatar = coalesce(avatar, $4), updated_at = now()
        where id = $1
        returning *
        """,
        user_id,
        provider,
        provider_user_id,
        avatar,
    )


async def forget_provider(conn: asyncpg.Connection, user_id: int, provider: str) -> asyncpg.Record:
    """After an unlink: if the account named this provider, it names its most recent remaining
    link instead (or none)."""
    return await conn.fetchrow(
        """
        update users u
        set provider_name = remaining.provider, provider_id = remaining.provider_user_id, updated_at = now()
        from (select 1) one
        left join lateral (
            select provider, provider_user_id from user_providers
            where user_id = $1 order by linked_at desc limit 1
        ) remaining on true
        where u.id = $1 and u.provider_name = $2
        returning u.*
        """,
        user_id,
        provider,
    ) or await conn.fetchrow("select * from users where id = $1", user_id)
