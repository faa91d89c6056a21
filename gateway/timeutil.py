"""Time formatting the contracts share."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_z(moment: datetime | None = None) -> str:
    """`2025-11-28T12:34:56Z`, the timestamp shape of the /api envelope."""
    return (moment or utc_now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
