"""Account operations every contract shares: register, authenticate, tokens, passwords, deletion.

Contract surfaces validate and render; the rules that must hold whichever contract is called live
here. Revocations reach every gateway through `Revocations` (the token cache's invalidation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import asyncpg

from domain.mailer import VERIFICATION_TTL_HOURS, Mailer
from domain.passwords import PasswordHashing
from domain.tokens import issue_jwt, new_secret, sha256_hex
from storage import groups as groups_sql
from storage import tokens as tokens_sql
from storage import users as users_sql
from storage import verification_tokens as verification_tokens_sql

# Tokens a sign-in mints (003 login, register and reset; OAuth sign-in): they stand for the whole
# account (`*`), so they expire after the login token TTL; other kinds carry the expiry their flow
# chose (None: until revoked).
SIGN_IN_KINDS = frozenset({"login", "oauth"})
# Without a configured TTL (tests building Accounts by hand): a month, the setting's default.
DEFAULT_LOGIN_TOKEN_TTL_S = 30 * 86400


def display_name(user: asyncpg.Record) -> str | None:
    """What a person is called: the name, else first and last name, else the username."""
    if user["name"]:
        return user["name"]
    parts = [p for p in (user["first_name"], user["last_name"]) if p]
    return " ".join(parts) or user["username"]


class Revocations(Protocol):
    async def tokens_revoked(self, token_hashes: list[str]) -> None: ...

    async def user_changed(self, user_id: int) -> None: ...


@dataclass(frozen=True)
class IssuedToken:
    record: asyncpg.Record
    secret: str

    @property
    def plain_text(self) -> str:
        """`<id>|<secret>`, shown to the client once."""
        return f"{self.record['id']}|{self.secret}"


class Accounts:
    def __init__(
        self,
        pool: asyncpg.Pool,
        hashing: PasswordHashing,
        revocations: Revocations,
        *,
        app_key: str,
        jwt_ttl_s: int,
        login_token_ttl_s: int = DEFAULT_LOGIN_TOKEN_TTL_S,
    ) -> None:
        self.pool = pool
        self.hashing = hashing
        self._revocations = revocations
        self._app_key = app_key
        self._jwt_ttl_s = jwt_ttl_s
        self._login_token_ttl = timedelta(seconds=login_token_ttl_s)

    async def register(
        self,
        *,
        email: str,
        password_hex: str | None,
        name: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        avatar: str | None = None,
        source: str = "email",
        verified: bool = False,
        premium: bool = False,
        admin: bool = False,
    ) -> asyncpg.Record:
        """A new account and its personal group, in one transaction (422 on a taken email/username)."""
        stored = await self.hashing.hash(password_hex) if password_hex is not None else None
        async with self.pool.acquire() as conn, conn.transaction():
            return await self.insert_account(
                conn,
                email=email,
                password_hash=stored,
                name=name,
                username=username,
                first_name=first_name,
                last_name=last_name,
                avatar=avatar,
                source=source,
                email_verified=verified,
                is_premium=premium,
                is_admin=admin,
            )

    @staticmethod
    async def insert_account(conn: asyncpg.Connection, **fields: Any) -> asyncpg.Record:
        """What registering writes (the account and its personal group), inside the caller's
        transaction, for callers that create more in the same one; the password is already hashed."""
        user = await users_sql.create(conn, **fields)
        await groups_sql.create_personal(conn, user["id"])
        return user

    async def authenticate(self, email: str, password_hex: str) -> asyncpg.Record | None:
        """The active user with this email and password, else None. Unknown emails take as long."""
        async with self.pool.acquire() as conn:
            user = await users_sql.by_email(conn, email)
        ok = await self.hashing.verify(user["password_hash"] if user else None, password_hex)
        if not ok or user is None or not user["is_active"]:
            return None
        return user

    async def authenticate_by_name(self, username: str, password_hex: str) -> asyncpg.Record | None:
        """The active user with this name (or, when it holds an `@`, this email) and password, else
        None. OAuth2 password-grant clients put whatever the person typed in `username`, often an
        address; the reference matches names. Unknown names take as long as wrong passwords."""
        if "@" in username:
            user = await self.authenticate(username, password_hex)
            if user is not None:
                return user
        async with self.pool.acquire() as conn:
            user = await users_sql.by_name(conn, username)
        # verify() costs the same for an unknown name, so timing does not reveal which names exist
        ok = await self.hashing.verify(user["password_hash"] if user else None, password_hex)
        if not ok or user is None or not user["is_active"]:
            return None
        return user

    async def check_password(self, user_id: int, password_hex: str) -> bool:
        async with self.pool.acquire() as conn:
            user = await users_sql.get(conn, user_id)
        return await self.hashing.verify(user["password_hash"] if user else None, password_hex)

    async def set_password(self, user_id: int, password_hex: str, *, void_jwts: bool = True) -> None:
        stored = await self.hashing.hash(password_hex)
        async with self.pool.acquire() as conn:
            await users_sql.set_password(conn, user_id, stored, void_jwts=void_jwts)
        await self._revocations.user_changed(user_id)

    async def issue_token(
        self,
        user_id: int,
        *,
        name: str,
        kind: str,
        abilities: list[str] | tuple[str, ...] = ("*",),
        expires_at: datetime | None = None,
        conn: asyncpg.Connection | None = None,
    ) -> IssuedToken:
        if expires_at is None and kind in SIGN_IN_KINDS:
            expires_at = datetime.now(UTC) + self._login_token_ttl
        secret = new_secret()

        async def create(c: asyncpg.Connection) -> asyncpg.Record:
            return await tokens_sql.create(
                c,
                user_id=user_id,
                name=name,
                kind=kind,
                token_hash=sha256_hex(secret),
                abilities=list(abilities),
                expires_at=expires_at,
            )

        if conn is not None:
            record = await create(conn)
        else:
            async with self.pool.acquire() as c:
                record = await create(c)
        return IssuedToken(record, secret)

    def issue_jwt(self, user: asyncpg.Record) -> str:
        return issue_jwt(self._app_key, user["id"], user["token_epoch"], self._jwt_ttl_s)

    async def revoke_token(self, user_id: int, token_id: int) -> bool:
        async with self.pool.acquire() as conn:
            token_hash = await tokens_sql.delete(conn, user_id, token_id)
        if token_hash is None:
            return False
        await self._revocations.tokens_revoked([token_hash])
        return True

    async def revoke_token_hash(self, token_hash: str) -> bool:
        async with self.pool.acquire() as conn:
            deleted = await tokens_sql.delete_by_hash(conn, token_hash)
        if deleted:
            await self._revocations.tokens_revoked([token_hash])
        return deleted

    async def token_abilities_changed(self, token_hash: str) -> None:
        await self._revocations.tokens_revoked([token_hash])

    async def revoke_credentials(self, user_id: int, *, keep_token_id: int | None = None) -> int:
        """Voids every JWT of the user and deletes every personal access token but `keep_token_id`,
        in one transaction, then tells every gateway. Browser sessions live in the gateway's
        store; `gateway.kernel.auth.revocation.revoke_credentials` ends those too and is what callers use."""
        async with self.pool.acquire() as conn, conn.transaction():
            hashes = await tokens_sql.delete_all_for_user(conn, user_id, keep_id=keep_token_id)
            await users_sql.void_jwts(conn, user_id)
        await self._revocations.tokens_revoked(hashes)
        # cached JWT/session lookups carry the token epoch
        await self._revocations.user_changed(user_id)
        return len(hashes)

    async def delete_user(self, user_id: int) -> bool:
        """The account and everything that cascades from it; its tokens stop working at once."""
        async with self.pool.acquire() as conn, conn.transaction():
            hashes = await tokens_sql.delete_all_for_user(conn, user_id)
            deleted = await users_sql.delete(conn, user_id)
        await self._revocations.tokens_revoked(hashes)
        await self._revocations.user_changed(user_id)
        return deleted

    async def update_user(self, user_id: int, fields: dict) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            user = await users_sql.update(conn, user_id, fields)
        if {"is_active", "is_premium", "is_admin"} & set(fields):
            await self._revocations.user_changed(user_id)
        return user

    async def user_changed(self, user_id: int) -> None:
        """Tell every gateway that what cached credentials carry about the user changed."""
        await self._revocations.user_changed(user_id)

    async def verify_email(self, token_hash: str) -> asyncpg.Record | None:
        """Consume a verification token and mark its user verified (one transaction); None for a
        bad or expired token. Cached credentials carry `email_verified`, so every gateway is told."""
        async with self.pool.acquire() as conn, conn.transaction():
            user_id = await verification_tokens_sql.take(conn, token_hash)
            user = await users_sql.mark_verified(conn, user_id) if user_id is not None else None
        if user is not None:
            await self._revocations.user_changed(user["id"])
        return user

    async def start_verification(self, user: asyncpg.Record, mailer: Mailer) -> int:
        """A one-time verification token for the user (only its SHA-256 stored, expiring after
        VERIFICATION_TTL_HOURS) and the mail that carries its link; returns the mail job's id.
        The message names the token as its secret, so wherever it is written down (the log
        mailer, the outbox) the link is redacted. Whether this user should get a mail at all is
        the caller's rule (who asked, and for which address); a failure to queue the mail raises,
        and the token row stays (harmless: it expires unused)."""
        token = new_secret()
        expires_at = datetime.now(UTC) + timedelta(hours=VERIFICATION_TTL_HOURS)
        async with self.pool.acquire() as conn:
            await verification_tokens_sql.create(conn, user["id"], sha256_hex(token), expires_at)
        return await mailer.send_verification(user["email"], token, name=display_name(user))

    async def set_premium(self, email: str, premium: bool) -> asyncpg.Record | None:
        async with self.pool.acquire() as conn:
            user = await users_sql.set_premium(conn, email, premium)
        if user is not None:
            await self._revocations.user_changed(user["id"])
        return user
