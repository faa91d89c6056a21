"""003's newsletter, with double opt-in rather than the reference's stub.

`sign_up` records the address as pending and mails a confirmation with a one-time link (its
token random, only its SHA-256 stored, valid CONFIRM_TTL_HOURS); `confirm` follows that link and
mails a welcome; `unsubscribe` ends the subscription. Every mail carries an unsubscribe link and
the List-Unsubscribe headers (RFC 2369, and RFC 8058's one-click POST). Unsubscribe links are an
HMAC of the row id under APP_KEY: nothing to store, valid for every mail ever sent, and nobody
can unsubscribe an address without having received a mail for it.

The sign-up answer is the same whatever the address's state (new, pending, confirmed,
unsubscribed), so it cannot be used to learn who reads the newsletter; an address gets at most
one confirmation mail per RESEND_AFTER_S, so it cannot be used to flood someone's mailbox.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.inputs import parse_positive_int
from domain.mailer import Mailer, Message
from domain.tokens import new_secret, sha256_hex
from storage import newsletter as newsletter_sql

if TYPE_CHECKING:
    import asyncpg

CONFIRM_TTL_HOURS = 48
# one confirmation mail per address per this long, whoever asks
RESEND_AFTER_S = 300
TOKEN_MAX = 512  # ours are 43 (confirm) and about 85 (unsubscribe) characters
_UNSUBSCRIBE_CONTEXT = b"roost newsletter unsubscribe:"


@dataclass(frozen=True)
class NewsletterLinks:
    """Where the mailed links point (this backend's /api routes) and the key unsubscribe links
    are signed with."""

    app_url: str
    app_key: str

    def confirm_link(self, token: str) -> str:
        return f"{self.app_url.rstrip('/')}/api/mail/newsletter/confirm/{token}"

    def unsubscribe_token(self, subscription_id: int) -> str:
        mac = hmac.new(self.app_key.encode(), _UNSUBSCRIBE_CONTEXT + str(subscription_id).encode(), hashlib.sha256)
        return f"{subscription_id}.{mac.hexdigest()}"

    def unsubscribe_link(self, subscription_id: int) -> str:
        return f"{self.app_url.rstrip('/')}/api/mail/newsletter/unsubscribe/{self.unsubscribe_token(subscription_id)}"

    def subscription_of(self, token: str) -> int | None:
        """The subscription an unsubscribe token names, or None when it is not one of ours."""
        raw_id, _, _ = token.partition(".")
        subscription_id = parse_positive_int(raw_id)
        if subscription_id is None or len(token) > TOKEN_MAX:
            return None
        return subscription_id if hmac.compare_digest(token, self.unsubscribe_token(subscription_id)) else None


def _footer(unsubscribe: str) -> str:
    return (
        f"\n--\nYou get this email because this address was entered for our newsletter.\nUnsubscribe: {unsubscribe}\n"
    )


def _list_headers(unsubscribe: str) -> tuple[tuple[str, str], ...]:
    return (("List-Unsubscribe", f"<{unsubscribe}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))


def confirmation_message(email: str, confirm: str, unsubscribe: str, secrets: tuple[str, ...]) -> Message:
    text = (
        "Hello,\n\n"
        "Please confirm that you want our newsletter at this address by opening this link "
        f"(it works once, for {CONFIRM_TTL_HOURS} hours):\n\n"
        f"{confirm}\n\n"
        "If you did not sign up, ignore this email: without a confirmation you will get nothing more.\n"
        + _footer(unsubscribe)
    )
    return Message(
        email,
        "Confirm your newsletter subscription",
        text,
        None,
        "newsletter_confirm",
        secrets,
        _list_headers(unsubscribe),
    )


def welcome_message(email: str, unsubscribe: str, secrets: tuple[str, ...]) -> Message:
    text = "Hello,\n\nYour newsletter subscription is confirmed. Welcome!\n" + _footer(unsubscribe)
    return Message(
        email,
        "Your newsletter subscription is confirmed",
        text,
        None,
        "newsletter_welcome",
        secrets,
        _list_headers(unsubscribe),
    )


async def sign_up(conn: asyncpg.Connection, mailer: Mailer, links: NewsletterLinks, email: str) -> bool:
    """Record the sign-up and mail the confirmation; False when no mail was due (see the module)."""
    token = new_secret()
    row = await newsletter_sql.sign_up(conn, email, sha256_hex(token), RESEND_AFTER_S)
    if row is None:
        return False
    unsubscribe = links.unsubscribe_token(row["id"])
    await mailer.send(
        confirmation_message(
            row["email"], links.confirm_link(token), links.unsubscribe_link(row["id"]), (token, unsubscribe)
        )
    )
    return True


async def confirm(conn: asyncpg.Connection, mailer: Mailer, links: NewsletterLinks, token: str) -> bool:
    """Follow a confirmation link: True (and a welcome mail) if it was live, else False."""
    if not token or len(token) > TOKEN_MAX:
        return False
    row = await newsletter_sql.confirm(conn, sha256_hex(token), CONFIRM_TTL_HOURS * 3600)
    if row is None:
        return False
    unsubscribe = links.unsubscribe_token(row["id"])
    # one welcome per subscription: the job is keyed by it, so a retried confirm cannot send two
    await mailer.send(
        welcome_message(row["email"], links.unsubscribe_link(row["id"]), (unsubscribe,)),
        idempotency_key=f"newsletter-welcome-{row['id']}-{sha256_hex(token)[:16]}",
    )
    return True


async def unsubscribe(conn: asyncpg.Connection, links: NewsletterLinks, token: str) -> bool:
    """Follow an unsubscribe link: True if it named a subscription (again: still True)."""
    subscription_id = links.subscription_of(token)
    if subscription_id is None:
        return False
    return await newsletter_sql.unsubscribe(conn, subscription_id) is not None
