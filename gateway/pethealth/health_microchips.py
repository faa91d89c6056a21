"""000: a pet's microchips, `/api/pets/{pet}/microchips[/{microchip}]`.

A chip number identifies one chip in the world: it is unique across all pets, not per pet.
"""

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

KIND = "microchips"

ChipNumber = Annotated[str, StringConstraints(min_length=10, max_length=20)]
Issuer = Annotated[str, StringConstraints(max_length=255)]


class MicrochipFields(HealthIn):
    @field_validator("implanted_at", mode="before", check_fields=False)
    @classmethod
    def _implanted(cls, value: Any, info: ValidationInfo) -> Any:
        return not_future(parse_date(value, info.field_name), info.field_name)


class MicrochipCreate(MicrochipFields):
    required_fields: ClassVar[tuple[str, ...]] = ("chip_number",)
    chip_number: ChipNumber
    issuer: Issuer | None = None
    implanted_at: date | None = None


class MicrochipUpdate(MicrochipFields):
    chip_number: ChipNumber | None = None
    issuer: Issuer | None = None
    implanted_at: date | None = None


def microchip_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "pet_id": row["pet_id"],
        "chip_number": row["chip_number"],
        "issuer": row["issuer"],
        "implanted_at": day(row["implanted_at"]),
        **stamps(row),
    }


async def list_microchips(request: web.Request) -> web.Response:
    page = page_of(request)
    async with open_pet(request, KIND, ability=None) as (conn, access, _):
        rows, total = await records.list_page(conn, KIND, access.pet["id"], limit=page.per_page, offset=page.offset)
    settings = request.config_dict[settings_key]
    return envelope.success(paginated(request, settings.app_url, page, [microchip_view(r) for r in rows], total))


async def show_microchip(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability=None, record="microchip") as (conn, access, rid):
        row = await records.get(conn, KIND, access.pet["id"], rid)
    if row is None:
        raise NotFound()
    return envelope.success(microchip_view(row))


async def create_microchip(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="create") as (conn, access, _):
        body = await parse(request, MicrochipCreate)
        row = await records.insert(conn, KIND, access.pet["id"], body.model_dump())
    return envelope.success(microchip_view(row), "Microchip record created successfully.", status=201)


async def update_microchip(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="update", record="microchip") as (conn, access, rid):
        if await records.get(conn, KIND, access.pet["id"], rid) is None:
            raise NotFound()
        body = await parse(request, MicrochipUpdate)
        row = await records.update(conn, KIND, access.pet["id"], rid, body.changes(required=("chip_number",)))
    if row is None:
        raise NotFound()
    return envelope.success(microchip_view(row), "Microchip record updated successfully.")


async def delete_microchip(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="delete", record="microchip") as (conn, access, rid):
        if not await records.delete(conn, KIND, access.pet["id"], rid):
            raise NotFound()
    return envelope.success(True, "Microchip record deleted successfully.")
