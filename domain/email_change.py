"""Changing an account's email address, and the way back.

An address is what a password reset trusts, so changing it is as sensitive as changing the
password: it needs the current password, the new address starts unverified (a verification mail
goes to it), and the old address is told, with a one-time link back. Following that link (it
proves the old mailbox) restores the old address as verified, sets a new password and ends
every credential of the account, because whoever changed the address knew the old password.

Only the SHA-256 of each token is stored; the revert link works once, for `REVERT_TTL_DAYS`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg

from domain.accounts import Accounts
from domain.errors import Invalid
from domain.mailer import VERIFICATION_TTL_HOURS, Mailer, Message
from domain.tokens import new_secret, sha256_hex
from storage import email_reverts, verification_tokens
from storage import users as users_sql

# Long enough for someone back from a week away to notice the mail; short enough that an old
# mailbox breach later does not hand out a way into the account.
REVERT_TTL_DAYS = 7
PASSWORD_FIELD = "current_password_hash"


def changes_email(user: asyncpg.Record, fields: dict[str, Any]) -> bool:
    """Whether `fields` moves the account to another address (a change of letter case does not:
    addresses are looked up case-insensitively, so it is the same account's same mailbox)."""
    email = fields.get("email")
    return email is not None and email.lower() != user["email"].lower()


def _bad_password(message: str) -> Invalid:
    return Invalid(message, code="current_password_incorrect", fields={PASSWORD_FIELD: [message]})


class EmailChanges:
    def __init__(self, accounts: Accounts, mailer: Mailer, *, frontend_url: str) -> None:
        self._accounts = accounts
        self._mailer = mailer
        self._frontend_url = frontend_url.rstrip("/")

    def revert_link(self, token: str) -> str:
        # The SPA's page posts the token (and a new password) back, as the reset link's page does;
        # a GET that changed the account could be spent by a mail scanner opening links.
        return f"{self._frontend_url}/auth/revert-email?{urlencode({'token': token})}"

    async def update_profile(
        self, user: asyncpg.Record, fields: dict[str, Any], current_password_hex: str | None, *, name: str | None
    ) -> asyncpg.Record:
        """The profile update: other fields as given; a new email only with the right current
        password (422 on `current_password_hash` otherwise; callers throttle it like a sign-in)."""
        fields = dict(fields)
        email = fields.pop("email", None)
        moving = changes_email(user, {"email": email})
        if moving:
            if current_password_hex is None:
                raise _bad_password("The current password hash is required to change the email.")
            if not await self._accounts.check_password(user["id"], current_password_hex):
                raise _bad_password("Current password is incorrect")
        revert, verify = new_secret(), new_secret()
        now = datetime.now(UTC)
        async with self._accounts.pool.acquire() as conn, conn.transaction():
            row = await users_sql.update(conn, user["id"], fields) if fields else user
            if email is not None and email != user["email"]:
                # another letter case is the same mailbox: its verification stands
                keep = not moving and user["email_verified_at"] is not None
                row = await users_sql.change_email(conn, user["id"], email, verified=keep)
            if moving:
                await email_reverts.create(
                    conn,
                    user_id=user["id"],
                    old_email=user["email"],
                    new_email=row["email"],
                    token_hash=sha256_hex(revert),
                    expires_at=now + timedelta(days=REVERT_TTL_DAYS),
                )
                await verification_tokens.create(
                    conn, user["id"], sha256_hex(verify), now + timedelta(hours=VERIFICATION_TTL_HOURS)
                )
        if moving:
            await self._accounts.user_changed(user["id"])  # cached credentials carry `email_verified`
            await self._mailer.send(self._changed_message(user["email"], row["email"], revert, name))
            await self._mailer.send_verification(row["email"], verify, name=name)
        return row

    async def revert(self, token: str, password_hex: str) -> asyncpg.Record:
        """Spends a revert token: the old address back (verified: the link went to it), the new
        password set. None of the account's credentials survive it; the gateway ends its
        sessions (`gateway.kernel.auth.revocation`). 422 on `token` for a bad, used or expired one."""
        async with self._accounts.pool.acquire() as conn, conn.transaction():
            row = await email_reverts.take(conn, sha256_hex(token))
            user = await users_sql.get(conn, row["user_id"]) if row is not None else None
            if row is None or user is None:
                message = "Invalid or expired token"
                raise Invalid(message, code="invalid_revert_token", fields={"token": [message]})
            await email_reverts.delete_for_user(conn, user["id"])
            restored = await users_sql.change_email(conn, user["id"], row["old_email"], verified=True)
        await self._accounts.set_password(user["id"], password_hex)
        return restored

    def _changed_message(self, old_email: str, new_email: str, token: str, name: str | None) -> Message:
        link = self.revert_link(token)
        greeting = f"Hello {name}," if name else "Hello,"
        text = (
            f"{greeting}\n\n"
            f"The email address of your account was changed from {old_email} to {new_email}.\n\n"
            "If you did this, there is nothing to do.\n"
            f"If you did not, open this link within {REVERT_TTL_DAYS} days: it puts your address back, "
            "lets you choose a new password and signs everyone else out of the account:\n\n"
            f"{link}\n"
        )
        return Message(old_email, "Your email address was changed", text, None, "email_changed", (token,))
