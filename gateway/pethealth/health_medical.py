"""000: a pet's medical records, `/api/pets/{pet}/medical-records[/{record}]`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

import asyncpg
from aiohttp import web
from pydantic import StringConstraints, ValidationInfo, field_validator

from domain.errors import NotFound
from gateway.kernel import api_envelope as envelope
from gateway.pethealth.health_common import HealthIn, day, not_future, open_pet, parse_date, stamps
from gateway.kernel.pagination import page_of, paginated
from gateway.kernel.keys import settings_key
from gateway.kernel.validation import parse
from storage import health_records as records

KIND = "medical_records"

RecordType = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=2000)]
VetName = Annotated[str, StringConstraints(max_length=255)]


class MedicalFields(HealthIn):
    @field_validator("record_date", mode="before", check_fields=False)
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> Any:
        return not_future(parse_date(value, info.field_name), info.field_name)


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


def medical_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "pet_id": row["pet_id"],
        "record_type": row["record_type"],
        "description": row["description"],
        "record_date": day(row["record_date"]),
        "vet_name": row["vet_name"],
        **stamps(row),
    }


async def list_records(request: web.Request) -> web.Response:
    page = page_of(request)
    async with open_pet(request, KIND, ability=None) as (conn, access, _):
        rows, total = await records.list_page(conn, KIND, access.pet["id"], limit=page.per_page, offset=page.offset)
    settings = request.config_dict[settings_key]
    return envelope.success(paginated(request, settings.app_url, page, [medical_view(r) for r in rows], total))


async def show_record(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability=None, record="record") as (conn, access, rid):
        row = await records.get(conn, KIND, access.pet["id"], rid)
    if row is None:
        raise NotFound()
    return envelope.success(medical_view(row))


async def create_record(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="create") as (conn, access, _):
        body = await parse(request, MedicalRecordCreate)
        row = await records.insert(conn, KIND, access.pet["id"], body.model_dump())
    return envelope.success(medical_view(row), "Medical record created successfully.", status=201)


async def update_record(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="update", record="record") as (conn, access, rid):
        if await records.get(conn, KIND, access.pet["id"], rid) is None:
            raise NotFound()
        body = await parse(request, MedicalRecordUpdate)
        changes = body.changes(required=("record_type", "record_date"))
        row = await records.update(conn, KIND, access.pet["id"], rid, changes)
    if row is None:
        raise NotFound()
    return envelope.success(medical_view(row), "Medical record updated successfully.")


async def delete_record(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="delete", record="record") as (conn, access, rid):
        if not await records.delete(conn, KIND, access.pet["id"], rid):
            raise NotFound()
    return envelope.success(True, "Medical record deleted successfully.")
