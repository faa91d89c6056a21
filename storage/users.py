"""Users: the one account table every contract shares."""

from __future__ import annotations

from typing import Any

import asyncpg

from domain.errors import Conflict, Invalid, NotFound
from storage.errors import domain_errors

# Columns a profile update may set; anything else in an update is a programming error. The email
# is not among them: `change_email` clears its verification (domain/email_change.py decides when).
UPDATABLE = frozenset({"name", "username", "first_name", "last_name", "avatar", "is_active", "is_premium", "is_admin"})
# Which unique index a duplicate hit, and the field error a client should see for it.
_DUPLICATE_FIELDS = {
    "users_email_key": ("email", "The email has already been taken."),
    "users_username_key": ("username", "The username has already been taken."),
}


def _duplicate(exc: Conflict) -> Conflict | Invalid:
    field = _DUPLICATE_FIELDS.get(exc.meta.get("constraint", ""))
    if field is None:
        return exc
    name, message = field
    return Invalid(message, code="already_taken", fields={name: [message]}, meta={"field": name})


async def create(
    conn: asyncpg.Connection,
    *,
    email: str,
    password_hash: str | None,
    name: str | None = None,
    username: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    avatar: str | None = None,
    source: str = "email",
    email_verified: bool = False,
    is_premium: bool = False,
    is_admin: bool = False,
) -> asyncpg.Record:
    """A new user. A taken email or username is a 422 with the field named (`already_taken`)."""
    try:
        with domain_errors():
            return await conn.fetchrow(
                """
                insert into users (email, password_hash, name, username, first_name, last_name, avatar,
                                   source, email_verified_at, is_premium, is_admin)
                values ($1, $2, $3, $4, $5, $6, $7, $8, case when $9 then now() end, $10, $11)
                returning *
                """,
                email,
                password_hash,
                name,
                username,
                first_name,
                last_name,
                avatar,
                source,
                email_verified,
                is_premium,
                is_admin,
            )
    except Conflict as exc:
        raise _duplicate(exc) from exc


async def get(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("select * from users where id = $1", user_id)


async def get_or_404(conn: asyncpg.Connection, user_id: int, message: str = "User not found") -> asyncpg.Record:
    row = await get(conn, user_id)
    if row is None:
        raise NotFound(message, code="user_not_found")
    return row


async def for_auth(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "select is_active, is_premium, is_admin, email_verified_at is not null as email_verified, token_epoch "
        "from users where id = $1",
        user_id,
    )


async def by_email(conn: asyncpg.Connection, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow("select * from users where lower(email) = lower($1)", email)


async def by_name(conn: asyncpg.Connection, name: str) -> asyncpg.Record | None:
    """002's OAuth2 password form authenticates by name; the oldest account wins a tie."""
    return await conn.fetchrow("select * from users where name = $1 order by id limit 1", name)


async def update(conn: asyncpg.Connection, user_id: int, fields: dict[str, Any]) -> asyncpg.Record:
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if not fields:
        return await get_or_404(conn, user_id)
    names = sorted(fields)
    assignments = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(names))
    try:
        with domain_errors():
            row = await conn.fetchrow(
                f"update users set {assignments}, updated_at = now() where id = $1 returning *",
                user_id,
                *(fields[n] for n in names),
            )
    except Conflict as exc:
        raise _duplicate(exc) from exc
    if row is None:
        raise NotFound("User not found", code="user_not_found")
    return row


async def set_password(conn: asyncpg.Connection, user_id: int, password_hash: str, *, void_jwts: bool) -> None:
    await conn.execute(
        """
        update users set password_hash = $2, updated_at = now(),
               token_epoch = token_epoch + case when $3 then 1 else 0 end
        where id = $1
        """,
        user_id,
        password_hash,
        void_jwts,
    )


async def change_email(conn: asyncpg.Connection, user_id: int, email: str, *, verified: bool) -> asyncpg.Record:
    """A new address for the account: verified only when the caller proved the mailbox (a revert
    link), never carried over from the old address. A taken address is a 422 naming `email`."""
    try:
        with domain_errors():
            row = await conn.fetchrow(
                """
                update users set email = $2, email_verified_at = case when $3 then now() end, updated_at = now()
                where id = $1 returning *
                """,
                user_id,
                email,
                verified,
            )
    except Conflict as exc:
        raise _duplicate(exc) from exc
    if row is None:
        raise NotFound("User not found", code="user_not_found")
    return row


async def void_jwts(conn: asyncpg.Connection, user_id: int) -> None:
    """Every JWT carries the epoch it was issued under; a new epoch refuses them all."""
    await conn.execute("update users set token_epoch = token_epoch + 1, updated_at = now() where id = $1", user_id)


async def mark_verified(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record:
    return await conn.fetchrow(
        "update users set email_verified_at = coalesce(email_verified_at, now()), updated_at = now() "
        "where id = $1 returning *",
        user_id,
    )


async def set_premium(conn: asyncpg.Connection, email: str, premium: bool) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "update users set is_premium = $2, updated_at = now() where lower(email) = lower($1) returning *",
        email,
        premium,
    )


async def delete(conn: asyncpg.Connection, user_id: int) -> bool:
    """Removes the account; tokens, provider links, groups it created and memberships cascade."""
    return await conn.fetchval("delete from users where id = $1 returning true", user_id) is True


async def username_taken(conn: asyncpg.Connection, username: str) -> bool:
    return await conn.fetchval("select exists (select 1 from users where lower(username) = lower($1))", username)
