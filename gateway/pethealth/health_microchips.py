"""000: a pet's microchips, `/api/pets/{pet}/microchips[/{microchip}]`.

A chip number identifies one chip in the world: it is unique across all pets, not per pet.
Its request models, its view and its `HealthRecords` (the five handlers are health_records.py's).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import StringConstraints, ValidationInfo, field_validator

from gateway.pethealth.health_common import (
    HealthIn,
    LaravelTime,
    RecordPage,
    RecordPublic,
    field_of,
    not_future,
    parse_date,
)
from gateway.pethealth.health_records import HealthRecords

ChipNumber = Annotated[str, StringConstraints(min_length=10, max_length=20)]
Issuer = Annotated[str, StringConstraints(max_length=255)]


class MicrochipFields(HealthIn):
    @field_validator("implanted_at", mode="before", check_fields=False)
    @classmethod
    def _implanted(cls, value: Any, info: ValidationInfo) -> Any:
        return not_future(parse_date(value, field_of(info)), field_of(info))


class MicrochipCreate(MicrochipFields):
    required_fields: ClassVar[tuple[str, ...]] = ("chip_number",)
    chip_number: ChipNumber
    issuer: Issuer | None = None
    implanted_at: date | None = None


class MicrochipUpdate(MicrochipFields):
    chip_number: ChipNumber | None = None
    issuer: Issuer | None = None
    implanted_at: date | None = None


class MicrochipPublic(RecordPublic):
    id: int
    pet_id: int
    chip_number: str
    issuer: str | None
    implanted_at: date | None
    created_at: LaravelTime
    updated_at: LaravelTime


class MicrochipPage(RecordPage[MicrochipPublic]):
    """A page of a pet's microchips, latest implanted first (no date last)."""


MICROCHIPS = HealthRecords(
    kind="microchips",
    record="microchip",
    create_model=MicrochipCreate,
    update_model=MicrochipUpdate,
    public=MicrochipPublic,
    page_model=MicrochipPage,
    noun="Microchip record",
)
