"""Signing in with a provider, linking one to an account, unlinking it.

Who a provider identity signs in, in order: the user it is linked to; else the user with the same
(provider-verified) email, which gets the link, but only if that account's address is verified
too; else a new user made from the profile (verified email, no password, a unique username from
the provider's handle or the email's local part). Every step of one sign-in runs in one
transaction, so an account is never left half-linked.

Why an unverified match is refused rather than merged: anyone can register an address they do not
own. Merging the real owner's provider sign-in into that account would hand them an account whose
password, tokens and sessions the registrant still holds (pre-account takeover). The owner can
reset the password through the mailbox and link the provider from the profile instead.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import asyncpg

from domain.errors import BadRequest, Conflict, Forbidden, Invalid
from domain.oauth.profile import ProviderProfile
from storage import groups as groups_sql
from storage import providers as providers_sql
from storage import users as users_sql

LABELS = {"google": "Google", "github": "GitHub"}
# Two first sign-ins of one person racing (double-clicked consent) collide on a unique key; the
# retry finds what the other one made.
ATTEMPTS = 3
USERNAME_MAX = 30
_NOT_USERNAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class SignIn:
    user: asyncpg.Record
    created: bool
    # True when this sign-in attached the provider to an existing account by its email. The caller
    # then revokes the account's other credentials: whoever the provider vouches for starts clean,
    # and a session or token someone else got hold of earlier does not ride along.
    merged: bool = False


class SocialAccounts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def sign_in(self, profile: ProviderProfile) -> SignIn:
        for attempt in range(ATTEMPTS):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    return await self._sign_in(conn, profile)
            except (Conflict, Invalid) as exc:
                if exc.code not in ("already_exists", "already_taken") or attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def user(self, user_id: int) -> asyncpg.Record:
        """The account as it is now (after a revocation moved its token epoch, say)."""
        async with self.pool.acquire() as conn:
            return await users_sql.get_or_404(conn, user_id)

    async def link(self, user_id: int, profile: ProviderProfile) -> asyncpg.Record:
        """Attaches a provider identity to this user (409 if it belongs to someone else, or if the
        user already has a different identity of this provider)."""
        label = LABELS[profile.provider]
        async with self.pool.acquire() as conn, conn.transaction():
            owner = await providers_sql.owner_of(conn, profile.provider, profile.provider_user_id)
            if owner is not None and owner != user_id:
                raise Conflict(
                    f"This {label} account is already linked to another user.", code="provider_linked_elsewhere"
                )
            if owner is None:
                current = await providers_sql.linked_id(conn, user_id, profile.provider)
                if current is not None:
                    raise Conflict(
                        f"A different {label} account is already linked; unlink it first.",
                        code="provider_already_linked",
                    )
                await providers_sql.link(
                    conn,
                    user_id=user_id,
                    provider=profile.provider,
                    provider_user_id=profile.provider_user_id,
                    email=profile.email,
                    avatar=profile.avatar,
                )
            else:
                await self._refresh(conn, profile)
            return await self._mark(conn, user_id, profile)

    async def unlink(self, user_id: int, provider: str) -> asyncpg.Record:
        """Removes the link (400 "Provider not linked" when there is none). An account without a
        password keeps a way in: the password reset mail to its verified address."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await providers_sql.unlink(conn, user_id, provider):
                raise BadRequest("Provider not linked", code="provider_not_linked")
            return await providers_sql.forget_provider(conn, user_id, provider)

    async def linked_providers(self, user_id: int) -> list[str]:
        async with self.pool.acquire() as conn:
            return [row["provider"] for row in await providers_sql.for_user(conn, user_id)]

    async def _sign_in(self, conn: asyncpg.Connection, profile: ProviderProfile) -> SignIn:
        owner = await providers_sql.owner_of(conn, profile.provider, profile.provider_user_id)
        if owner is not None:
            user = await users_sql.get_or_404(conn, owner)
            _ensure_active(user)
            await self._refresh(conn, profile)
            return SignIn(await self._mark(conn, owner, profile), created=False)

        user = await users_sql.by_email(conn, profile.email)
        if user is not None:
            _ensure_active(user)
            label = LABELS[profile.provider]
            if await providers_sql.linked_id(conn, user["id"], profile.provider) is not None:
                raise Conflict(
                    f"The account with this email is linked to a different {label} account.",
                    code="provider_account_mismatch",
                )
            if user["email_verified_at"] is None:
                raise Conflict(unverified_match_message(label), code="account_exists_unverified")
            await self._link(conn, user["id"], profile)
            return SignIn(await self._mark(conn, user["id"], profile), created=False, merged=True)

        username = await _unique_username(conn, profile)
        first_name, last_name = _split_name(profile)
        user = await users_sql.create(
            conn,
            email=profile.email,
            password_hash=None,
            name=profile.name or username,
            username=username,
            first_name=first_name or username,
            last_name=last_name,
            avatar=profile.avatar,
            source=profile.provider,
            email_verified=True,
        )
        await groups_sql.create_personal(conn, user["id"])
        await self._link(conn, user["id"], profile)
        return SignIn(await self._mark(conn, user["id"], profile), created=True)

    async def _link(self, conn: asyncpg.Connection, user_id: int, profile: ProviderProfile) -> None:
        await providers_sql.link(
            conn,
            user_id=user_id,
            provider=profile.provider,
            provider_user_id=profile.provider_user_id,
            email=profile.email,
            avatar=profile.avatar,
        )

    async def _refresh(self, conn: asyncpg.Connection, profile: ProviderProfile) -> None:
        await providers_sql.refresh(
            conn,
            provider=profile.provider,
            provider_user_id=profile.provider_user_id,
            email=profile.email,
            avatar=profile.avatar,
        )

    async def _mark(self, conn: asyncpg.Connection, user_id: int, profile: ProviderProfile) -> asyncpg.Record:
        return await providers_sql.mark_signed_in_with(
            conn,
            user_id,
            provider=profile.provider,
            provider_user_id=profile.provider_user_id,
            avatar=profile.avatar,
        )


def unverified_match_message(label: str) -> str:
    return (
        "An account with this email exists but its address is not verified. Sign in with its "
        f"password and link {label} from your profile, or reset its password."
    )


def _ensure_active(user: asyncpg.Record) -> None:
    if not user["is_active"]:
        raise Forbidden("This account has been deactivated.", code="account_inactive")


def _split_name(profile: ProviderProfile) -> tuple[str | None, str | None]:
    if profile.first_name:
        return profile.first_name, profile.last_name
    parts = (profile.name or "").split(None, 1)
    if not parts:
        return None, None
    return parts[0], (parts[1] if len(parts) > 1 else None)


def _username_base(profile: ProviderProfile) -> str:
    raw = profile.username or profile.email.split("@", 1)[0]
    base = _NOT_USERNAME.sub("", raw).strip("._-").lower()[:USERNAME_MAX]
    return base or "user"


async def _unique_username(conn: asyncpg.Connection, profile: ProviderProfile) -> str:
    base = _username_base(profile)
    if not await users_sql.username_taken(conn, base):
        return base
    stem = base[: USERNAME_MAX - 5]
    for _ in range(5):
        candidate = f"{stem}{secrets.randbelow(10_000):04d}"
        if not await users_sql.username_taken(conn, candidate):
            return candidate
    # a crowded stem; 8 random hex characters make a clash practically impossible
    return f"{base[: USERNAME_MAX - 9]}_{secrets.token_hex(4)}"
