"""000's error body: the /api error envelope with what 000 adds to it (its machine-readable codes).

000 carries a code of its own in two answers only: the pet-type gate's top-level `error_code`
(a 422, domain/pet_access.py) and the daily quota's `data.error_code` (a 429, quota.py).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from gateway.kernel.api_envelope import QUOTA_EXCEEDED_CODE, ApiError, QuotaExceeded


class PetHealthErrorCode(StrEnum):
    FEATURE_NOT_AVAILABLE_FOR_PET_TYPE = "FEATURE_NOT_AVAILABLE_FOR_PET_TYPE"
    # the /api mount's daily quota (the kernel's, since 003's routes count against it too)
    API_DAILY_QUOTA_EXCEEDED = QUOTA_EXCEEDED_CODE


class PetHealthError(ApiError):
    """Every error body of 000's routes."""

    model_config = ConfigDict(extra="forbid")

    data: QuotaExceeded | None = Field(description="Null, except on the daily quota's 429.")
    error_code: Literal[PetHealthErrorCode.FEATURE_NOT_AVAILABLE_FOR_PET_TYPE] | None = Field(
        default=None,
        description="Only on the pet-type gate's 422 (the pet's type has no such health records; "
        "`errors.pet_type` says which).",
    )
