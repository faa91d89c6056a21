"""Purchase intents, and what a RevenueCat event does to a tenant's purchases, subscription and
ledger.

Purchase intents. A tenant asks to buy a catalogue product (a package subscription or a pack of
credits) by the provider's product id; the price and currency come from the catalogue, never from
the request. The intent is `pending` until the provider's webhook says the store took the money
(`completed`), or the first payment failed (`failed`), or the money went back (`refunded`); a
pending intent nobody paid for within INTENT_TTL becomes `expired`. An `Idempotency-Key` makes
the POST safe to retry: the same key with the same body answers the same intent; the same key with
another body is a 422 (a client bug that must not buy the wrong thing silently).

RevenueCat events (processed by the `webhooks.process` job, all in one transaction with the
webhook row's lock and the tenant's ledger locks):
- INITIAL_PURCHASE, RENEWAL, NON_RENEWING_PURCHASE: money in. A credits product credits its
  credits; a package product gives the tenant the package until `expiration_at_ms`. The payment
  completes the intent the app named (subscriber attribute `roost_purchase_id`) or the oldest
  payable one for that product; a payment no intent announced is recorded as a completed purchase.
- CANCELLATION with cancel_reason CUSTOMER_SUPPORT is RevenueCat's refund: the money and the
  credits go back, a refunded subscription ends at once (the tenant returns to its earlier
  package). Any other CANCELLATION turns auto-renew off: recorded, nothing moves until EXPIRATION.
- EXPIRATION: the subscription ends; the tenant returns to the package it had before it.
- UNCANCELLATION: auto-renew back on. BILLING_ISSUE: the subscription is marked, a first
  payment that failed fails its intent, and the tenant gets a `payment_failed` alert
  (domain/notifications.py) in the same transaction.
- Others (TEST, TRANSFER, PRODUCT_CHANGE, which RevenueCat follows with the real purchase event,
  SUBSCRIPTION_PAUSED, ...) are stored and marked ignored.
Out of order: a subscription's state only moves to an event newer (event_timestamp_ms) than the
one that set it. An older event still books the money it carries (a renewal paid is paid) but
never changes the package or the subscription's status and expiry.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import asyncpg
import orjson

from domain import notifications
from domain.errors import Invalid, NotFound, RoostError
from domain.ledger import EntryType, Posting, post
from storage import ledger as ledger_sql
from storage import purchases as purchases_sql

PROVIDER = "revenuecat"
# long enough for a store checkout with a bank's 3-D Secure step; an abandoned intent then lapses
INTENT_TTL = timedelta(hours=24)
# the app user id a tenant app gives RevenueCat, so its events name the tenant
APP_USER_PREFIX = "roost-tenant-"
_APP_USER = re.compile(r"^roost-tenant-([1-9][0-9]{0,17})$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# the outcome of a state event older than the subscription's state (it changed nothing)
STALE_STATE = "older than the subscription's state: kept the newer state"


class PurchaseStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUNDED = "refunded"
    EXPIRED = "expired"


STATUSES = tuple(s.value for s in PurchaseStatus)


def app_user_id(tenant_id: int) -> str:
    return f"{APP_USER_PREFIX}{tenant_id}"


def request_hash(body: dict[str, Any]) -> str:
    """What "the same body" means: the parsed request, keys sorted, so whitespace or key order
    in a retry changes nothing."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def idempotency_key_reused() -> Invalid:
    return Invalid(
        "This Idempotency-Key was used with a different request body.",
        code="idempotency_key_reused",
        fields={"Idempotency-Key": ["The key was already used with a different request body."]},
    )


def check_idempotency_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not IDEMPOTENCY_KEY.match(raw):
        raise Invalid(
            code="idempotency_key_invalid",
            fields={"Idempotency-Key": ["The key must be 1 to 255 printable ASCII characters without spaces."]},
        )
    return raw


@dataclass(frozen=True, slots=True)
class Intent:
    purchase: asyncpg.Record
    # False: an earlier request with the same Idempotency-Key made it
    created: bool


async def create_intent(
    pool: asyncpg.Pool,
    *,
    tenant_id: int,
    user_id: int | None,
    product_id: str,
    idempotency_key: str | None,
    body: dict[str, Any],
    now: datetime,
) -> Intent:
    digest = request_hash(body)
    async with pool.acquire() as conn, conn.transaction():
        if idempotency_key is not None:
            # a replay is judged before the product, so a retired product still answers its intent
            existing = await purchases_sql.by_key(conn, tenant_id, idempotency_key)
            if existing is not None:
                return _replay(existing, digest)
        product = await purchases_sql.product(conn, product_id)
        if product is None or not product["active"]:
            raise Invalid(code="product_not_found", fields={"product_id": ["The selected product id is invalid."]})
        new_id = await purchases_sql.insert_intent(
            conn,
            tenant_id=tenant_id,
            product=product,
            idempotency_key=idempotency_key,
            request_hash=digest if idempotency_key is not None else None,
            user_id=user_id,
            expires_at=now + INTENT_TTL,
        )
        if new_id is None:  # a concurrent request with this key committed first
            assert idempotency_key is not None
            existing = await purchases_sql.by_key(conn, tenant_id, idempotency_key)
            if existing is None:
                raise RoostError("The purchase could not be stored.")
            return _replay(existing, digest)
        row = await purchases_sql.get_for_tenant(conn, tenant_id, new_id)
    return Intent(purchase=row, created=True)


def _replay(existing: asyncpg.Record, digest: str) -> Intent:
    if existing["request_hash"] != digest:
        raise idempotency_key_reused()
    return Intent(purchase=existing, created=False)


async def purchase_for_tenant(pool: asyncpg.Pool, tenant_id: int, purchase_id: int, now: datetime) -> asyncpg.Record:
    async with pool.acquire() as conn, conn.transaction():
        await purchases_sql.expire_lapsed(conn, tenant_id, now)
        row = await purchases_sql.get_for_tenant(conn, tenant_id, purchase_id)
    if row is None:
        raise NotFound("Purchase not found.")
    return row


async def purchases_page(
    pool: asyncpg.Pool, tenant_id: int, *, status: str | None, limit: int, offset: int, now: datetime
) -> tuple[list[asyncpg.Record], int]:
    async with pool.acquire() as conn, conn.transaction():
        await purchases_sql.expire_lapsed(conn, tenant_id, now)
        return await purchases_sql.list_for_tenant(conn, tenant_id, status=status, limit=limit, offset=offset)


# -- RevenueCat events ----------------------------------------------------------------------------


class EventKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    CANCELLATION = "cancellation"
    UNCANCELLATION = "uncancellation"
    EXPIRATION = "expiration"
    BILLING_ISSUE = "billing_issue"
    IGNORED = "ignored"


_KINDS = {
    "INITIAL_PURCHASE": EventKind.PAYMENT,
    "RENEWAL": EventKind.PAYMENT,
    "NON_RENEWING_PURCHASE": EventKind.PAYMENT,
    "CANCELLATION": EventKind.CANCELLATION,
    "UNCANCELLATION": EventKind.UNCANCELLATION,
    "EXPIRATION": EventKind.EXPIRATION,
    "BILLING_ISSUE": EventKind.BILLING_ISSUE,
}


class UnusableEvent(Exception):
    """The event cannot be applied as sent (no tenant, unknown product, missing fields): it is
    marked ignored with the reason; retrying would give the same answer."""


@dataclass(frozen=True, slots=True)
class RevenueCatEvent:
    event_id: str
    type: str
    kind: EventKind
    tenant_id: int
    product_id: str
    at: datetime
    expires_at: datetime | None
    transaction_id: str | None
    subscription_key: str | None
    amount_cents: int | None
    currency: str | None
    sandbox: bool
    purchase_hint: int | None


def _ms(value: Any, field: str, *, required: bool) -> datetime | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**14:
        raise UnusableEvent(f"{field} is not a time in milliseconds")
    return datetime.fromtimestamp(value / 1000, UTC)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 255 else None


def _tenant_of(event: dict[str, Any]) -> int:
    names = [event.get("app_user_id"), event.get("original_app_user_id")]
    aliases = event.get("aliases")
    if isinstance(aliases, list):
        names += aliases
    for name in names:
        match = _APP_USER.match(name) if isinstance(name, str) else None
        if match:
            return int(match.group(1))
    raise UnusableEvent("no app user id names a tenant (expected roost-tenant-<id>)")


def _cents(event: dict[str, Any], kind: EventKind) -> tuple[int | None, str | None]:
    price = event.get("price_in_purchased_currency")
    currency = event.get("currency")
    if price is None or not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        return None, None
    try:
        cents = (Decimal(str(price)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return None, None
    if not cents.is_finite() or abs(cents) > 10**12:
        return None, None
    return abs(int(cents)), currency


def _hint(event: dict[str, Any]) -> int | None:
    attributes = event.get("subscriber_attributes")
    if not isinstance(attributes, dict):
        return None
    entry = attributes.get("roost_purchase_id")
    value = entry.get("value") if isinstance(entry, dict) else None
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 18 else None


def read_event(event: dict[str, Any]) -> RevenueCatEvent:
    """The fields we act on, checked; UnusableEvent names what is wrong."""
    type_ = str(event.get("type"))
    kind = _KINDS.get(type_, EventKind.IGNORED)
    if kind is EventKind.CANCELLATION and event.get("cancel_reason") == "CUSTOMER_SUPPORT":
        kind = EventKind.REFUND
    tenant_id = _tenant_of(event)
    product_id = _str(event.get("product_id"))
    if product_id is None and kind is not EventKind.IGNORED:
        raise UnusableEvent("the event names no product_id")
    at = _ms(event.get("event_timestamp_ms"), "event_timestamp_ms", required=True)
    assert at is not None
    amount, currency = _cents(event, kind)
    return RevenueCatEvent(
        event_id=str(event["id"]),
        type=type_,
        kind=kind,
        tenant_id=tenant_id,
        product_id=product_id or "",
        at=at,
        expires_at=_ms(event.get("expiration_at_ms"), "expiration_at_ms", required=False),
        transaction_id=_str(event.get("transaction_id")),
        subscription_key=_str(event.get("original_transaction_id")) or _str(event.get("transaction_id")),
        amount_cents=amount,
        currency=currency,
        sandbox=event.get("environment") == "SANDBOX",
        purchase_hint=_hint(event),
    )


@dataclass(frozen=True, slots=True)
class Applied:
    status: str  # processed | ignored
    outcome: str
    tenant_id: int | None


async def apply_revenuecat(conn: asyncpg.Connection, event: dict[str, Any], *, accept_sandbox: bool) -> Applied:
    """Apply one stored RevenueCat event inside the caller's transaction."""
    try:
        rc = read_event(event)
    except UnusableEvent as exc:
        return Applied("ignored", str(exc), None)
    if rc.kind is EventKind.IGNORED:
        return Applied("ignored", f"{rc.type}: nothing to do", rc.tenant_id)
    if rc.sandbox and not accept_sandbox:
        return Applied("ignored", "a sandbox event, not credited here", rc.tenant_id)
    # the tenant's ledger locks first: every event of one tenant is applied one at a time
    account = await ledger_sql.lock_account(conn, rc.tenant_id)
    if account is None:
        return Applied("ignored", f"no tenant {rc.tenant_id}", None)
    product = await purchases_sql.product(conn, rc.product_id)
    if product is None:
        return Applied("ignored", f"unknown product {rc.product_id}", rc.tenant_id)
    source = f"{PROVIDER}:{rc.event_id}"
    if await ledger_sql.source_taken(conn, source):
        return Applied("processed", "already applied", rc.tenant_id)
    outcome = await _APPLY[rc.kind](conn, rc, product, account, source)
    if rc.kind is EventKind.BILLING_ISSUE and outcome != STALE_STATE:
        # the tenant's alert commits with the event's effect (domain/notifications.py queues it)
        await notifications.payment_failed(
            conn, tenant_id=rc.tenant_id, source=source, product_id=rc.product_id, at=rc.at, detail=outcome
        )
    return Applied("processed", outcome, rc.tenant_id)


def _money(rc: RevenueCatEvent, product: asyncpg.Record) -> tuple[int, str]:
    if rc.amount_cents is not None and rc.currency is not None:
        return rc.amount_cents, rc.currency
    return product["amount_cents"], product["currency"]


async def _sync_subscription(
    conn: asyncpg.Connection, rc: RevenueCatEvent, product: asyncpg.Record, account: asyncpg.Record, status: str
) -> tuple[bool, asyncpg.Record | None]:
    """Move the subscription to `status` if this event is newer than its state. (applied, the
    subscription as it was before)."""
    if rc.subscription_key is None:
        raise UnusableEvent("the event names no transaction")
    sub = await purchases_sql.subscription(conn, PROVIDER, rc.subscription_key)
    if sub is None:
        await purchases_sql.insert_subscription(
            conn,
            tenant_id=rc.tenant_id,
            provider=PROVIDER,
            key=rc.subscription_key,
            product_id=product["id"],
            package_id=product["package_id"],
            fallback_package_id=account["package_id"],
            status=status,
            expires_at=rc.expires_at,
            state_at=rc.at,
            event_id=rc.event_id,
        )
        return True, None
    if sub["tenant_id"] != rc.tenant_id:
        raise UnusableEvent("the subscription belongs to another tenant")
    if rc.at <= sub["state_at"]:
        return False, sub
    await purchases_sql.update_subscription(
        conn,
        sub["id"],
        product_id=product["id"],
        package_id=product["package_id"],
        status=status,
        expires_at=rc.expires_at if rc.expires_at is not None else sub["expires_at"],
        state_at=rc.at,
        event_id=rc.event_id,
    )
    return True, sub


def _holds_package(sub: asyncpg.Record, at: datetime) -> bool:
    return sub["status"] in ("active", "cancelled", "billing_issue") and (
        sub["expires_at"] is None or sub["expires_at"] > at
    )


async def _payment(
    conn: asyncpg.Connection, rc: RevenueCatEvent, product: asyncpg.Record, account: asyncpg.Record, source: str
) -> str:
    amount, currency = _money(rc, product)
    purchase_id: int | None = None
    if rc.transaction_id is not None:
        known = await purchases_sql.by_transaction(conn, rc.tenant_id, rc.transaction_id)
        purchase_id = known["id"] if known is not None else None
    if purchase_id is None:
        pending = await purchases_sql.pending_to_complete(conn, rc.tenant_id, product["id"], rc.purchase_hint, rc.at)
        if pending is not None:
            purchase_id = pending["id"]
            await purchases_sql.complete(
                conn, purchase_id, transaction_id=rc.transaction_id, at=rc.at, amount_cents=amount, currency=currency
            )
        else:
            purchase_id = await purchases_sql.insert_completed(
                conn,
                tenant_id=rc.tenant_id,
                product=product,
                amount_cents=amount,
                currency=currency,
                transaction_id=rc.transaction_id,
                at=rc.at,
            )
    package_id: int | None = None
    expires: datetime | None = None
    if product["kind"] == "package":
        applied, before = await _sync_subscription(conn, rc, product, account, "active")
        if applied:
            package_id, expires = product["package_id"], rc.expires_at
        elif before is not None and _holds_package(before, rc.at):
            # a newer event (a cancellation that overtook this payment) set the state; the
            # subscription it describes still holds its package, which this payment paid for
            package_id, expires = before["package_id"], before["expires_at"]
    await post(
        conn,
        rc.tenant_id,
        Posting(
            type=EntryType.PURCHASE,
            source=source,
            occurred_at=rc.at,
            credits=product["credits"],
            amount_cents=amount,
            currency=currency,
            package_id=package_id,
            package_expires_at=expires,
            purchase_id=purchase_id,
            description=f"{rc.type} {rc.product_id}",
        ),
    )
    if product["kind"] == "package" and package_id is None:
        return "credited; the subscription's newer state kept"
    return "credited"


async def _refund(
    conn: asyncpg.Connection, rc: RevenueCatEvent, product: asyncpg.Record, account: asyncpg.Record, source: str
) -> str:
    amount, currency = _money(rc, product)
    purchase_id: int | None = None
    if rc.transaction_id is not None:
        known = await purchases_sql.by_transaction(conn, rc.tenant_id, rc.transaction_id)
        if known is not None:
            purchase_id = known["id"]
            await purchases_sql.set_status(conn, purchase_id, "refunded", ["completed", "expired"])
    package_id: int | None = None
    if product["kind"] == "package":
        applied, before = await _sync_subscription(conn, rc, product, account, "refunded")
        if applied:
            package_id = before["fallback_package_id"] if before is not None else account["package_id"]
    await post(
        conn,
        rc.tenant_id,
        Posting(
            type=EntryType.REFUND,
            source=source,
            occurred_at=rc.at,
            credits=-product["credits"],
            amount_cents=-amount,
            currency=currency,
            package_id=package_id,
            purchase_id=purchase_id,
            description=f"refund {rc.product_id}",
        ),
    )
    return "refunded"


async def _state_only(
    conn: asyncpg.Connection, rc: RevenueCatEvent, product: asyncpg.Record, account: asyncpg.Record, source: str
) -> str:
    """CANCELLATION, UNCANCELLATION, BILLING_ISSUE, EXPIRATION: no money moves; the subscription's
    state does, if this event is the newest. A stale one writes nothing."""
    if product["kind"] != "package":
        if rc.kind is EventKind.BILLING_ISSUE:
            failed = await purchases_sql.fail_pending(conn, rc.tenant_id, product["id"])
            return f"purchase {failed} failed" if failed else "billing issue recorded"
        return f"{rc.type} of a one-time product: nothing to do"
    status = {
        EventKind.CANCELLATION: "cancelled",
        EventKind.UNCANCELLATION: "active",
        EventKind.BILLING_ISSUE: "billing_issue",
        EventKind.EXPIRATION: "expired",
    }[rc.kind]
    applied, before = await _sync_subscription(conn, rc, product, account, status)
    if not applied:
        return STALE_STATE
    if rc.kind is EventKind.BILLING_ISSUE and before is None:
        await purchases_sql.fail_pending(conn, rc.tenant_id, product["id"])
    if rc.kind is EventKind.EXPIRATION:
        fallback = before["fallback_package_id"] if before is not None else account["package_id"]
        if rc.transaction_id is not None:
            known = await purchases_sql.by_transaction(conn, rc.tenant_id, rc.transaction_id)
            if known is not None:
                await purchases_sql.set_status(conn, known["id"], "expired", ["completed"])
        await post(
            conn,
            rc.tenant_id,
            Posting(
                type=EntryType.EXPIRY,
                source=source,
                occurred_at=rc.at,
                package_id=fallback,
                description=f"{rc.product_id} expired",
            ),
        )
        return "expired"
    if rc.kind is EventKind.CANCELLATION:
        await post(
            conn,
            rc.tenant_id,
            Posting(
                type=EntryType.CANCELLATION,
                source=source,
                occurred_at=rc.at,
                package_expires_at=rc.expires_at if rc.expires_at is not None else (before or {}).get("expires_at"),
                description=f"{rc.product_id} will not renew",
            ),
        )
    return status


_APPLY = {
    EventKind.PAYMENT: _payment,
    EventKind.REFUND: _refund,
    EventKind.CANCELLATION: _state_only,
    EventKind.UNCANCELLATION: _state_only,
    EventKind.BILLING_ISSUE: _state_only,
    EventKind.EXPIRATION: _state_only,
}
