"""001's OpenAPI document: what it says about itself (the operations come from routes.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gateway.kernel.openapi.builder import ContractSpec


class ErrorBody(BaseModel):
    code: str
    title: str
    message: str
    meta: dict[str, Any]


class EventsError(BaseModel):
    """Every 001 error: `message` in the client's language (Accept-Language)."""

    error: ErrorBody


def _bare(data: dict[str, Any]) -> dict[str, Any]:
    return data  # 001 answers the resource itself, no envelope


SPEC = ContractSpec(
    key="events",
    title="Roost events API (001)",
    version="1.0.0",
    description="Tenants, events, guest photos and their moderation, galleries, and the guest polls.",
    server="/api/v1",
    envelope=_bare,
    error_model=EventsError,
)
