"""Request and response models of 001's commerce routes: the catalogue, purchase intents, the
ledger and the webhook receipts (gateway/events/purchases.py, ledger.py, webhooks.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.ledger import EntryType
from domain.purchases import PurchaseStatus, app_user_id
from gateway.events.common_schemas import Moment, Page
from gateway.events.pagination import PageQuery

ProductKind = Literal["package", "credits"]


def _decimal(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


class ProductPublic(BaseModel):
    product_id: str = Field(description="The provider's product id (what the store sells).")
    kind: ProductKind
    package: str | None = Field(description="The package a `package` product gives (its slug).")
    credits: int = Field(description="Credits a `credits` product gives (0 for packages).")
    amount_cents: int = Field(description="The price in minor units.")
    amount: str = Field(description="The price as a decimal string, e.g. `19.00`.", examples=["19.00"])
    currency: str = Field(description="ISO 4217.", examples=["EUR"])
    period_days: int | None = Field(description="A subscription's period; null: bought once, for good.")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ProductPublic:
        return cls(
            product_id=row["provider_product_id"],
            kind=row["kind"],
            package=row["package_slug"],
            credits=row["credits"],
            amount_cents=row["amount_cents"],
            amount=_decimal(row["amount_cents"]),
            currency=row["currency"],
            period_days=row["period_days"],
        )


class PurchaseCreate(BaseModel):
    """What a tenant wants to buy: a catalogue product by the provider's id (the price comes from
    the catalogue, never from the request)."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:-]+$", examples=["roost.credits.10"])


class PurchasePublic(BaseModel):
    id: int
    status: PurchaseStatus = Field(
        description="pending → completed | failed | expired; completed → refunded | expired."
    )
    product_id: str
    kind: ProductKind
    package: str | None
    credits: int
    amount_cents: int
    amount: str
    currency: str
    provider: Literal["revenuecat"]
    provider_app_user_id: str = Field(
        description="The app user id to give the provider's SDK (and `roost_purchase_id` = this id as a "
        "subscriber attribute), so its webhook names this tenant and this intent."
    )
    expires_at: Moment = Field(description="A pending intent not paid by then becomes `expired`.")
    completed_at: Moment | None
    created_at: Moment
    updated_at: Moment

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PurchasePublic:
        return cls(
            id=row["id"],
            status=row["status"],
            product_id=row["provider_product_id"],
            kind=row["product_kind"],
            package=row["package_slug"],
            credits=row["credits"],
            amount_cents=row["amount_cents"],
            amount=_decimal(row["amount_cents"]),
            currency=row["currency"],
            provider=row["provider"],
            provider_app_user_id=app_user_id(row["tenant_id"]),
            expires_at=row["expires_at"],
            completed_at=row["completed_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


class PurchaseListQuery(PageQuery):
    status: PurchaseStatus | None = None


class LedgerQuery(PageQuery):
    """Filters of the ledger list (`from` and `to` compare the entry's `occurred_at`)."""

    model_config = ConfigDict(populate_by_name=True)

    type: str | None = Field(
        default=None,
        description="One type or several, comma-separated: purchase, refund, package_change, expiry, cancellation.",
        examples=["purchase,refund"],
    )
    from_: datetime | None = Field(
        default=None, alias="from", description="ISO 8601 date or date-time (UTC when it has no offset); inclusive."
    )
    to: datetime | None = Field(default=None, description="ISO 8601 date (the whole day) or date-time; inclusive.")


class LedgerEntryPublic(BaseModel):
    id: int
    type: EntryType
    credits: int = Field(description="Credits this entry moved: positive credits the tenant, negative debits it.")
    balance_after: int = Field(description="The tenant's credit balance after this entry.")
    amount_cents: int = Field(description="Money that moved with it, minor units (negative on a refund).")
    amount: str
    currency: str | None
    package: str = Field(description="The tenant's package after this entry (its slug).")
    package_expires_at: Moment | None
    purchase_id: int | None
    description: str
    occurred_at: Moment = Field(description="When it happened at the provider.")
    created_at: Moment

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LedgerEntryPublic:
        return cls(
            id=row["id"],
            type=row["type"],
            credits=row["credits"],
            balance_after=row["balance_after"],
            amount_cents=row["amount_cents"],
            amount=_decimal(row["amount_cents"]),
            currency=row["currency"],
            package=row["package_slug"],
            package_expires_at=row["package_expires_at"],
            purchase_id=row["purchase_id"],
            description=row["description"],
            occurred_at=row["occurred_at"],
            created_at=row["created_at"],
        )


class LedgerBalance(BaseModel):
    credits: int = Field(description="The sum of every entry's credits.")
    package: str = Field(description="The package the tenant holds now (its slug).")
    last_entry_id: int | None


class LedgerPage(Page[LedgerEntryPublic]):
    """The paginated entries, newest first, and the balance they add up to."""

    balance: LedgerBalance


class WebhookReceived(BaseModel):
    received: Literal[True] = True
    duplicate: bool = Field(description="True: this event id was stored by an earlier delivery; nothing changed.")
    id: int = Field(description="Our id of the stored event.")
