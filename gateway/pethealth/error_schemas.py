"""000's error body: the /api error envelope with what 000 adds to it (its machine-readable codes).

000 carries a code of its own in two answers only: the pet-type gate's top-level `error_code`
(a 422, domain/pet_access.py) and the daily quota's `data.error_code` (a 429, quota.py).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.kernel.api_envelope import ApiError


class PetHealthErrorCode(StrEnum):
    FEATURE_NOT_AVAILABLE_FOR_PET_TYPE = "FEATURE_NOT_AVAILABLE_FOR_PET_TYPE"
    API_DAILY_QUOTA_EXCEEDED = "API_DAILY_QUOTA_EXCEEDED"


class QuotaState(BaseModel):
    limit: int = Field(description="Requests a day for this user.")
    used: int
    remaining: int
    reset_at_utc: str = Field(
        description="The next UTC midnight, `YYYY-MM-DDT00:00:00+00:00`.", json_schema_extra={"format": "date-time"}
    )


class QuotaExceeded(BaseModel):
    """`data` of the daily quota's 429."""

    error_code: Literal[PetHealthErrorCode.API_DAILY_QUOTA_EXCEEDED]
    quota: QuotaState


class PetHealthError(ApiError):
    """Every error body of 000's routes."""

    model_config = ConfigDict(extra="forbid")

    data: QuotaExceeded | None = Field(description="Null, except on the daily quota's 429.")
    error_code: Literal[PetHealthErrorCode.FEATURE_NOT_AVAILABLE_FOR_PET_TYPE] | None = Field(
        default=None,
        description="Only on the pet-type gate's 422 (the pet's type has no such health records; "
        "`errors.pet_type` says which).",
    )
