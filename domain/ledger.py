"""The tenant ledger: what a tenant was credited and debited, and the package it holds.

Rules
- Append-only: an entry is never updated or deleted (a database trigger refuses both); a mistake
  is put right by a later entry that moves the other way, as a bookkeeper would.
- Every entry records both sides of what moved: the credits (signed; its `balance_after` is the
  previous entry's plus them) and the money with its currency (negative on a refund), and the
  package the tenant holds after it. The balance row (`tenant_accounts`) and the tenant's package
  (`tenants.package_id`) move in the same transaction as the entry, behind the tenant's row locks,
  so the balance always equals the sum of the entries' credits and `balance_after` never skips.
- Exactly once: each entry names its cause in `source` (unique), e.g. `revenuecat:<event id>`; a
  second attempt to write the same effect writes nothing and reports so.
- A refund of credits already spent may take the balance below zero: that is a debt the ledger
  shows, not an error to hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg

from domain.errors import NotFound
from storage import ledger as ledger_sql


class EntryType(StrEnum):
    PURCHASE = "purchase"  # credits bought, or a package bought or renewed
    REFUND = "refund"  # the provider gave money back: credits debited, a package taken back
    PACKAGE_CHANGE = "package_change"  # a subscription moved to another package
    EXPIRY = "expiry"  # a subscription ran out: the tenant returns to its earlier package
    CANCELLATION = "cancellation"  # auto-renew turned off: nothing moves until it expires


ENTRY_TYPES = tuple(t.value for t in EntryType)


@dataclass(frozen=True, slots=True)
class Posting:
    """One entry to write: what moved, why, and which package the tenant holds afterwards
    (None: the one it holds now)."""

    type: EntryType
    source: str
    occurred_at: datetime
    credits: int = 0
    amount_cents: int = 0
    currency: str | None = None
    package_id: int | None = None
    package_expires_at: datetime | None = None
    purchase_id: int | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Posted:
    entry: asyncpg.Record | None
    # False: `source` had its entry already; nothing was written now
    created: bool


async def post(conn: asyncpg.Connection, tenant_id: int, posting: Posting) -> Posted:
    """Write one entry and move the balance and package with it. The caller's transaction makes
    the entry and whatever caused it (a purchase completed, a subscription synced) one change."""
    if not conn.is_in_transaction():
        raise RuntimeError("ledger.post needs the caller's transaction")
    account = await ledger_sql.lock_account(conn, tenant_id)
    if account is None:
        raise NotFound("No such tenant.", code="not_found")
    if await ledger_sql.source_taken(conn, posting.source):
        return Posted(entry=None, created=False)
    balance = account["credits"] + posting.credits
    package_id = posting.package_id if posting.package_id is not None else account["package_id"]
    entry = await ledger_sql.insert(
        conn,
        tenant_id=tenant_id,
        type_=posting.type.value,
        credits=posting.credits,
        balance_after=balance,
        amount_cents=posting.amount_cents,
        currency=posting.currency,
        package_id=package_id,
        package_expires_at=posting.package_expires_at,
        purchase_id=posting.purchase_id,
        source=posting.source,
        description=posting.description[:500],
        occurred_at=posting.occurred_at,
    )
    if entry is None:  # the source's entry is another tenant's, committed since we looked
        return Posted(entry=None, created=False)
    await ledger_sql.move_balance(conn, tenant_id, credits=balance, entry_id=entry["id"], package_id=package_id)
    return Posted(entry=entry, created=True)
