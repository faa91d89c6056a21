"""000: a pet's weights, `/api/pets/{pet}/weights[/{weight}]`.

One weight per pet and day. The latest row (by record_date, then id) is the pet's current weight
for every contract; nothing else stores it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

import asyncpg
from aiohttp import web
from pydantic import ValidationInfo, field_validator

from domain.errors import NotFound
from gateway.kernel import api_envelope as envelope
from gateway.pethealth.health_common import HealthIn, day, open_pet, parse_date, parse_number, stamps
from gateway.kernel.pagination import page_of, paginated
from gateway.kernel.keys import settings_key
from gateway.kernel.validation import parse
from storage import health_records as records

KIND = "weights"
# numeric(7, 3): the largest weight the column holds
MAX_KG = 9999.999


class WeightFields(HealthIn):
    @field_validator("weight_kg", mode="before", check_fields=False)
    @classmethod
    def _number(cls, value: Any, info: ValidationInfo) -> Any:
        number = parse_number(value, info.field_name)
        # checked here, not with Field(ge=...): pydantic would print the bound as "0.0"
        if number is not None and number < 0:
            raise ValueError("The weight kg must be at least 0.")
        if number is not None and number > MAX_KG:
            raise ValueError(f"The weight kg may not be greater than {MAX_KG}.")
        return number

    @field_validator("record_date", mode="before", check_fields=False)
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> Any:
        return parse_date(value, info.field_name)


class WeightCreate(WeightFields):
    required_fields: ClassVar[tuple[str, ...]] = ("weight_kg", "record_date")
    weight_kg: float
    record_date: date


class WeightUpdate(WeightFields):
    weight_kg: float | None = None
    record_date: date | None = None


def weight_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "pet_id": row["pet_id"],
        "weight_kg": float(row["weight_kg"]),
        "record_date": day(row["record_date"]),
        **stamps(row),
    }


async def list_weights(request: web.Request) -> web.Response:
    page = page_of(request)
    async with open_pet(request, KIND, ability=None) as (conn, access, _):
        rows, total = await records.list_page(conn, KIND, access.pet["id"], limit=page.per_page, offset=page.offset)
    settings = request.config_dict[settings_key]
    return envelope.success(paginated(request, settings.app_url, page, [weight_view(r) for r in rows], total))


async def show_weight(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability=None, record="weight") as (conn, access, rid):
        row = await records.get(conn, KIND, access.pet["id"], rid)
    if row is None:
        raise NotFound()
    return envelope.success(weight_view(row))


async def create_weight(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="create") as (conn, access, _):
        body = await parse(request, WeightCreate)
        row = await records.insert(conn, KIND, access.pet["id"], body.model_dump())
    return envelope.success(weight_view(row), "Weight record created successfully.", status=201)


async def update_weight(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="update", record="weight") as (conn, access, rid):
        if await records.get(conn, KIND, access.pet["id"], rid) is None:
            raise NotFound()
        body = await parse(request, WeightUpdate)
        row = await records.update(
            conn, KIND, access.pet["id"], rid, body.changes(required=("weight_kg", "record_date"))
        )
    if row is None:
        raise NotFound()
    return envelope.success(weight_view(row), "Weight record updated successfully.")


async def delete_weight(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="delete", record="weight") as (conn, access, rid):
        if not await records.delete(conn, KIND, access.pet["id"], rid):
            raise NotFound()
    return envelope.success(True, "Weight record deleted successfully.")
