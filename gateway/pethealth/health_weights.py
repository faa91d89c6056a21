"""000: a pet's weights, `/api/pets/{pet}/weights[/{weight}]`.

One weight per pet and day. The latest row (by record_date, then id) is the pet's current weight
for every contract; nothing else stores it.
Its request models, its view and its `HealthRecords` (the five handlers are health_records.py's).
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator

from gateway.pethealth.health_common import (
    HealthIn,
    LaravelTime,
    RecordPage,
    RecordPublic,
    field_of,
    parse_date,
    parse_number,
)
from gateway.pethealth.health_records import HealthRecords

# numeric(7, 3): the largest weight the column holds
MAX_KG = 9999.999


class WeightFields(HealthIn):
    @field_validator("weight_kg", mode="before", check_fields=False)
    @classmethod
    def _number(cls, value: Any, info: ValidationInfo) -> Any:
        number = parse_number(value, field_of(info))
        # checked here, not with Field(ge=...): pydantic would print the bound as "0.0"
        if number is not None and number < 0:
            raise ValueError("The weight kg must be at least 0.")
        if number is not None and number > MAX_KG:
            raise ValueError(f"The weight kg may not be greater than {MAX_KG}.")
        return number

    @field_validator("record_date", mode="before", check_fields=False)
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> Any:
        return parse_date(value, field_of(info))


class WeightCreate(WeightFields):
    required_fields: ClassVar[tuple[str, ...]] = ("weight_kg", "record_date")
    weight_kg: float
    record_date: date


class WeightUpdate(WeightFields):
    weight_kg: float | None = None
    record_date: date | None = None


class WeightPublic(RecordPublic):
    id: int
    pet_id: int
    weight_kg: float
    record_date: date
    created_at: LaravelTime
    updated_at: LaravelTime


class WeightPage(RecordPage[WeightPublic]):
    """A page of a pet's weights, newest record date first."""


WEIGHTS = HealthRecords(
    kind="weights",
    record="weight",
    create_model=WeightCreate,
    update_model=WeightUpdate,
    public=WeightPublic,
    page_model=WeightPage,
    noun="Weight record",
)
