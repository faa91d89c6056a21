"""000: a pet's medical records, `/api/pets/{pet}/medical-records[/{record}]`.

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

RecordType = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=2000)]
VetName = Annotated[str, StringConstraints(max_length=255)]


class MedicalFields(HealthIn):
    @field_validator("record_date", mode="before", check_fields=False)
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> Any:
        return not_future(parse_date(value, field_of(info)), field_of(info))


class MedicalRecordCreate(MedicalFields):
    required_fields: ClassVar[tuple[str, ...]] = ("record_type", "record_date")
    record_type: RecordType
    description: Description | None = None
    record_date: date
    vet_name: VetName | None = None


class MedicalRecordUpdate(MedicalFields):
    record_type: RecordType | None = None
    description: Description | None = None
    record_date: date | None = None
    vet_name: VetName | None = None


class MedicalRecordPublic(RecordPublic):
    id: int
    pet_id: int
    record_type: str
    description: str | None
    record_date: date
    vet_name: str | None
    created_at: LaravelTime
    updated_at: LaravelTime


class MedicalRecordPage(RecordPage[MedicalRecordPublic]):
    """A page of a pet's medical records, newest record date first."""


MEDICAL_RECORDS = HealthRecords(
    kind="medical_records",
    record="record",
    create_model=MedicalRecordCreate,
    update_model=MedicalRecordUpdate,
    public=MedicalRecordPublic,
    page_model=MedicalRecordPage,
    noun="Medical record",
)
