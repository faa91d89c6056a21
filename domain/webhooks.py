"""Signed webhooks from outside providers: the signature rules, what a delivery must carry, and
storing a verified delivery once with the job that processes it.

Signature (`X-Signature`), checked over the raw body bytes before anything parses them:
- `t=<unix seconds>,sha256=<hex>`: HMAC-SHA256 of `<t>.<body>`; the timestamp is signed, so a
  delivery whose `t` is further than the tolerance from now (either way) is a replay and refused.
- `sha256=<hex>` or a bare 64-digit hex: HMAC-SHA256 of the body.
- `sha1=<hex>` or a bare 40-digit hex: HMAC-SHA1 of the body, the older scheme (refused when the
  operator turns it off with WEBHOOK_ALLOW_SHA1=false).
Comparisons are `hmac.compare_digest` over the digests, so the time taken says nothing about how
much of a forged signature was right. Any other algorithm name, a malformed header, or a digest of
the wrong length for its algorithm is refused like a wrong signature: 401, nothing stored.

A verified delivery is stored once per (provider, event id) together with its job, in one
transaction: a redelivery of the same event id answers 200 and changes nothing, however many
arrive at once (the unique index decides, not a read before the write).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import asyncpg
import orjson

from domain.errors import BadRequest, Unauthenticated
from domain.moderation import PhotoModeration
from storage import jobs as jobs_sql
from storage import webhook_events as events_sql
from storage.errors import domain_errors

HEADER = "X-Signature"


class Provider(StrEnum):
    REVENUECAT = "revenuecat"
    MEDIA = "media"
    DELETION = "deletion"


class Scheme(StrEnum):
    SHA256_TIMESTAMPED = "sha256+timestamp"
    SHA256 = "sha256"
    SHA1 = "sha1"


class EventStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


_DIGESTS = {"sha256": (hashlib.sha256, 64), "sha1": (hashlib.sha1, 40)}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_DIGITS = re.compile(r"^[0-9]{1,12}$")
# a header longer than any valid one (t, two digests, separators) is not parsed at all
MAX_HEADER_CHARS = 300
# an event id as providers write them (RevenueCat: a UUID); stored and indexed, so bounded
_EVENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,255}$")
_EVENT_TYPE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class SignatureError(Unauthenticated):
    code, title, message = "webhook_signature_invalid", "Invalid Signature", "The webhook signature is not valid."


def signature_missing() -> SignatureError:
    return SignatureError("The webhook has no X-Signature header.", code="webhook_signature_missing")


def signature_expired(age_s: int, tolerance_s: int) -> SignatureError:
    return SignatureError(
        "The webhook's signed timestamp is outside the tolerance window (a replay?).",
        code="webhook_signature_expired",
        meta={"tolerance_s": tolerance_s},
    )


@dataclass(frozen=True, slots=True)
class Verified:
    scheme: Scheme
    # the signed delivery time, when the scheme signs one
    signed_at: datetime | None


def sign(secret: str, body: bytes, *, algorithm: str = "sha256", timestamp: int | None = None) -> str:
    """The X-Signature value a provider sends (used by tests, fakes and the load test)."""
    digest, _ = _DIGESTS[algorithm]
    message = body if timestamp is None else f"{timestamp}.".encode() + body
    mac = hmac.new(secret.encode(), message, digest).hexdigest()
    return f"{algorithm}={mac}" if timestamp is None else f"t={timestamp},{algorithm}={mac}"


def _parse_header(header: str) -> tuple[str, str, int | None]:
    """(algorithm, hex digest, timestamp or None); SignatureError for anything malformed."""
    header = header.strip()
    if len(header) > MAX_HEADER_CHARS or not header:
        raise SignatureError()
    if "=" not in header:  # a bare hex digest: its length names the algorithm
        for name, (_, length) in _DIGESTS.items():
            if len(header) == length and _HEX.match(header):
                return name, header.lower(), None
        raise SignatureError()
    parts: dict[str, str] = {}
    for piece in header.split(","):
        key, sep, value = piece.strip().partition("=")
        key = key.strip().lower()
        if not sep or key in parts:  # a repeated element could smuggle a second digest past us
            raise SignatureError()
        parts[key] = value.strip()
    timestamp_raw = parts.pop("t", None)
    if len(parts) != 1:
        raise SignatureError()  # no digest, or two, or an element we do not know
    ((algorithm, value),) = parts.items()
    known = _DIGESTS.get(algorithm)
    if known is None or len(value) != known[1] or not _HEX.match(value):
        raise SignatureError(meta={"reason": "unsupported_algorithm" if known is None else "malformed"})
    timestamp: int | None = None
    if timestamp_raw is not None:
        if not _DIGITS.match(timestamp_raw):
            raise SignatureError()
        timestamp = int(timestamp_raw)
    return algorithm, value.lower(), timestamp


def verify(
    secret: str, header: str | None, body: bytes, *, now: datetime, tolerance_s: int, allow_sha1: bool
) -> Verified:
    """Check `header` against `body` (raw bytes); raises SignatureError (401) on any failure."""
    if header is None or not header.strip():
        raise signature_missing()
    algorithm, given, timestamp = _parse_header(header)
    if algorithm == "sha1" and not allow_sha1:
        raise SignatureError(meta={"reason": "sha1_disabled"})
    digest, _ = _DIGESTS[algorithm]
    message = body if timestamp is None else f"{timestamp}.".encode() + body
    expected = hmac.new(secret.encode(), message, digest).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError()
    if timestamp is None:
        return Verified(Scheme.SHA1 if algorithm == "sha1" else Scheme.SHA256, None)
    # only after the MAC: an unsigned timestamp would tell nothing, and a forger learns nothing
    # from which check failed
    age = int(now.timestamp()) - timestamp
    if abs(age) > tolerance_s:
        raise signature_expired(age, tolerance_s)
    return Verified(Scheme.SHA256_TIMESTAMPED, datetime.fromtimestamp(timestamp, UTC))


# -- what a verified delivery must carry ---------------------------------------------------------


class PayloadError(BadRequest):
    code, title, message = "webhook_payload_invalid", "Invalid Webhook", "The webhook body is not a valid event."


@dataclass(frozen=True, slots=True)
class Delivery:
    provider: Provider
    event_id: str
    event_type: str
    # the event object we store and the job reads (RevenueCat's `event`, the others' whole body)
    payload: dict[str, Any]


def parse_delivery(provider: Provider, body: bytes) -> Delivery:
    """The event a verified body carries. RevenueCat: `{api_version, event: {id, type, ...}}`; the
    media pipeline and deletion callbacks: `{id, type, data: {...}, occurred_at_ms?}`."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise PayloadError("The webhook body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise PayloadError()
    event = document.get("event") if provider is Provider.REVENUECAT else document
    if not isinstance(event, dict):
        raise PayloadError("The webhook body has no event object.", meta={"field": "event"})
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
        raise PayloadError("The webhook event has no usable id.", meta={"field": "id"})
    if not isinstance(event_type, str) or not _EVENT_TYPE.match(event_type):
        raise PayloadError("The webhook event has no usable type.", meta={"field": "type"})
    if _holds_nul(event):  # jsonb refuses NUL: a bad body (400), not a database error (500)
        raise PayloadError("The webhook body contains a NUL character.")
    return Delivery(provider, event_id, event_type, event)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


# -- storing once, with its job -------------------------------------------------------------------

JOB_KIND = "webhooks.process"
# a provider outage of ours (database blips, a worker restart) is covered; a handler bug is not
# helped by more tries, and the row keeps the error for an operator
JOB_MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Received:
    webhook_event_id: int
    # False: this event id was stored by an earlier delivery, and nothing changed now
    created: bool
    job_id: int | None


async def store_delivery(
    pool: asyncpg.Pool, delivery: Delivery, verified: Verified, *, accept_sandbox: bool
) -> Received:
    """Store the event and queue its job in one transaction (both or neither)."""
    async with pool.acquire() as conn, conn.transaction():
        row_id = await events_sql.insert_once(
            conn,
            provider=delivery.provider.value,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            payload=delivery.payload,
            scheme=verified.scheme.value,
        )
        if row_id is None:
            existing = await events_sql.id_of(conn, delivery.provider.value, delivery.event_id)
            return Received(webhook_event_id=existing or 0, created=False, job_id=None)
        with domain_errors():
            job_id, _ = await jobs_sql.insert(
                conn,
                JOB_KIND,
                {"webhook_event_id": row_id, "accept_sandbox": accept_sandbox},
                max_attempts=JOB_MAX_ATTEMPTS,
                idempotency_key=f"webhook:{row_id}",
            )
    return Received(webhook_event_id=row_id, created=True, job_id=job_id)


# -- media pipeline status and deletion callbacks -----------------------------------------------

MEDIA_STATUSES = ("processing", "ready", "failed")
_MAX_PHOTO_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    status: EventStatus
    outcome: str
    tenant_id: int | None


def _photo_id(payload: dict[str, Any]) -> int | None:
    data = payload.get("data")
    value = data.get("photo_id") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_PHOTO_ID:
        return None
    return value


async def apply_media_status(conn: asyncpg.Connection, payload: dict[str, Any]) -> CallbackOutcome:
    """`{id, type: "media.status", data: {photo_id, status: processing|ready|failed, reason?}}`.
    A failure of a photo still pending fails it through the moderation service (its package slot
    is freed, as when our own pipeline fails it); other statuses are recorded: the variants guests
    see are the ones our pipeline wrote, never a URL a callback names."""
    photo_id = _photo_id(payload)
    raw_data = payload.get("data")
    data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
    status = data.get("status")
    if photo_id is None or status not in MEDIA_STATUSES:
        return CallbackOutcome(EventStatus.IGNORED, "no photo_id or an unknown status", None)
    photo = await events_sql.photo_owner(conn, photo_id)
    if photo is None:
        return CallbackOutcome(EventStatus.IGNORED, f"no photo {photo_id}", None)
    if status == "failed" and photo["status"] == "pending":
        raw_reason = data.get("reason")
        reason = raw_reason[:100] if isinstance(raw_reason, str) and raw_reason else "media_pipeline_failed"
        await PhotoModeration(conn).processing_failed(photo_id, reason)
        return CallbackOutcome(EventStatus.PROCESSED, f"photo {photo_id} failed", photo["tenant_id"])
    return CallbackOutcome(EventStatus.PROCESSED, f"photo {photo_id}: {status} recorded", photo["tenant_id"])


async def apply_deletion(conn: asyncpg.Connection, payload: dict[str, Any]) -> CallbackOutcome:
    """`{id, type: "deletion.completed", data: {photo_id}}`: a storage provider confirms it deleted
    its copies of a photo. Recorded against the photo's tenant, so the deletion can be shown to
    have happened; nothing of ours is deleted on a callback's word."""
    photo_id = _photo_id(payload)
    if photo_id is None:
        return CallbackOutcome(EventStatus.IGNORED, "no photo_id", None)
    photo = await events_sql.photo_owner(conn, photo_id)
    tenant_id = photo["tenant_id"] if photo is not None else None
    return CallbackOutcome(EventStatus.PROCESSED, f"deletion of photo {photo_id} confirmed", tenant_id)
