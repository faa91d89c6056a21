"""RevenueCat's side of the webhook: events shaped as RevenueCat sends them, signed as the 001
document says (X-Signature, HMAC-SHA256 or the older SHA1). Used by the tests and the load test."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from domain.webhooks import sign

TEST_SECRETS = {
    "revenuecat": "rc-test-secret-0123456789abcdef",
    "media": "media-test-secret-0123456789abcdef",
    "deletion": "deletion-test-secret-0123456789ab",
}
HOUR_MS = 3_600_000


def rc_event(
    tenant_id: int,
    type_: str = "NON_RENEWING_PURCHASE",
    *,
    product_id: str = "roost.credits.10",
    at_ms: int | None = None,
    expires_ms: int | None = None,
    transaction_id: str | None = None,
    original_transaction_id: str | None = None,
    price: float | None = 9.99,
    currency: str = "EUR",
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    at_ms = at_ms if at_ms is not None else int(time.time() * 1000)
    transaction_id = transaction_id or f"txn-{uuid.uuid4().hex[:12]}"
    event: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()).upper(),
        "type": type_,
        "app_user_id": f"roost-tenant-{tenant_id}",
        "original_app_user_id": f"roost-tenant-{tenant_id}",
        "aliases": [f"roost-tenant-{tenant_id}"],
        "product_id": product_id,
        "event_timestamp_ms": at_ms,
        "purchased_at_ms": at_ms,
        "expiration_at_ms": expires_ms,
        "environment": "PRODUCTION",
        "store": "APP_STORE",
        "transaction_id": transaction_id,
        "original_transaction_id": original_transaction_id or transaction_id,
        "price": price,
        "price_in_purchased_currency": price,
        "currency": currency,
        "period_type": "NORMAL",
    }
    event.update(extra)
    return {"api_version": "1.0", "event": event}


def body_of(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document)


def signed_headers(
    body: bytes,
    provider: str = "revenuecat",
    *,
    algorithm: str = "sha256",
    timestamp: int | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    value = sign(secret or TEST_SECRETS[provider], body, algorithm=algorithm, timestamp=timestamp)
    return {"X-Signature": value, "Content-Type": "application/json"}
