"""002's OpenAPI document: what it says about itself (the operations come from routes.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gateway.kernel.openapi.builder import ContractSpec


class ErrorDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    error_type: str
    field_errors: list[str]


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class PetcareError(BaseModel):
    """Every 002 error: the document's shape and FastAPI's `detail` in one body (envelope.py)."""

    status: Literal[0]
    data: None
    message: str
    details: ErrorDetails
    detail: str | list[FieldProblem]


def envelope_schema(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status", "data", "message"],
        "properties": {"status": {"const": 1}, "data": data, "message": {"type": "string"}},
    }


SPEC = ContractSpec(
    key="petcare",
    title="Roost pet care API (002)",
    version="1.0.0",
    description="Accounts, pets, groups, foods and meals of the pet care app.",
    server="",
    envelope=envelope_schema,
    error_model=PetcareError,
)
