"""Request and response models of 001's tenant notifications (gateway/events/notifications.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.notification_webhooks import MAX_URL_CHARS, SIGNATURE_HEADER
from domain.notifications import NotificationStatus, NotificationType
from gateway.events.common_schemas import Moment
from gateway.events.pagination import PageQuery
from gateway.kernel.fields import Email


class NotificationLogQuery(PageQuery):
    type: NotificationType | None = Field(default=None, description="One type (any other value is a 422).")
    status: NotificationStatus | None = Field(default=None, description="One status (any other value is a 422).")


class ChannelState(BaseModel):
    """One channel's outcome: where it went, and how the last try there ended."""

    model_config = ConfigDict(extra="allow")

    status: Literal["delivered", "failed"]
    target: str = Field(description="The mail address or the webhook URL it was sent to.")
    delivered_at: str | None = None
    error: str | None = None
    http_status: int | None = Field(default=None, description="The webhook's answer.")
    permanent: bool | None = Field(default=None, description="True: a refusal no retry changes (not retried).")


class NotificationPublic(BaseModel):
    id: int
    type: NotificationType
    status: NotificationStatus = Field(
        description="pending (queued, or waiting to retry) → sending → delivered | failed (attempts used up, "
        "or a refusal no retry changes)."
    )
    event_id: int | None = Field(description="The event a photo limit alert is about.")
    data: dict[str, Any] = Field(description="What the alert says (the webhook's `data`).")
    channels: dict[str, ChannelState] = Field(description="`email` and `webhook`, each as its last try left it.")
    attempts: int = Field(description="Delivery attempts so far.")
    last_error: str | None = Field(description="The last failed attempt's error, per channel.")
    next_attempt_at: Moment | None = Field(description="When the next attempt is due, while a retry waits.")
    created_at: Moment
    updated_at: Moment
    delivered_at: Moment | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> NotificationPublic:
        return cls(
            id=row["id"],
            type=row["type"],
            status=row["status"],
            event_id=row["event_id"],
            data=row["payload"],
            channels=row["channels"] or {},
            attempts=row["attempts"],
            last_error=row["last_error"],
            next_attempt_at=row["next_attempt_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            delivered_at=row["delivered_at"],
        )


class NotificationSettingsUpdate(BaseModel):
    """Both fields are set as sent: null (or absent) clears one."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = Field(default=None, description="Where alerts are mailed; null: the tenant owner's address.")
    webhook_url: str | None = Field(
        default=None,
        min_length=10,
        max_length=MAX_URL_CHARS,
        description="An absolute https URL that gets every alert as a signed JSON POST; null: none. Private, "
        "loopback and link-local addresses are refused.",
        examples=["https://hooks.example.com/roost"],
    )


class NotificationSettingsPublic(BaseModel):
    email: str | None = Field(description="The address set for alerts (null: the default below).")
    effective_email: str | None = Field(description="Where alerts are mailed now.")
    webhook_url: str | None
    webhook_secret_set: bool = Field(description="Whether a signing secret exists (it is shown only once).")
    secret_rotated_at: Moment | None
    webhook_secret: str | None = Field(
        default=None,
        description=f"Null except in the answer that made it: the HMAC-SHA256 key of the `{SIGNATURE_HEADER}` header "
        "(`t=<unix>,sha256=<hex of HMAC(secret, \"<t>.<body>\")>`). Store it now; it is never shown again.",
    )

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, secret: str | None = None) -> NotificationSettingsPublic:
        return cls(
            email=row["email"],
            effective_email=row["email"] or row["default_email"],
            webhook_url=row["webhook_url"],
            webhook_secret_set=row["webhook_secret"] is not None,
            secret_rotated_at=row["secret_rotated_at"],
            webhook_secret=secret,
        )


class WebhookSecretPublic(BaseModel):
    webhook_secret: str = Field(description="The new signing secret; shown this once. The old one stops at once.")
    secret_rotated_at: Moment
