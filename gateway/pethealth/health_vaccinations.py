"""000: a pet's vaccinations, `/api/pets/{pet}/vaccinations[/{record}[/renew]]`.

A vaccination is open until it is renewed: renewing completes it (`completed_at`) and records the
next dose under the same vaccine name, in one transaction. Lists show open ones by default
(`?status=active`), or `completed`, or `all`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

import asyncpg
from aiohttp import web
from pydantic import StringConstraints, ValidationInfo, field_validator, model_validator

from domain.errors import NotFound
from gateway.kernel import api_envelope as envelope
from gateway.pethealth.health_common import (
    HealthIn,
    day,
    invalid,
    moment,
    not_future,
    open_pet,
    parse_date,
    stamps,
)
from gateway.kernel.pagination import page_of, paginated
from gateway.kernel.keys import settings_key
from gateway.kernel.validation import parse
from storage import health_records as records

KIND = "vaccinations"
DUE_MESSAGE = "The due at field must be a date after or equal to administered at."

VaccineName = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Notes = Annotated[str, StringConstraints(max_length=1000)]


class VaccinationFields(HealthIn):
    @field_validator("administered_at", mode="before", check_fields=False)
    @classmethod
    def _administered(cls, value: Any, info: ValidationInfo) -> Any:
        return not_future(parse_date(value, info.field_name), info.field_name)

    @field_validator("due_at", mode="before", check_fields=False)
    @classmethod
    def _due(cls, value: Any, info: ValidationInfo) -> Any:
        return parse_date(value, info.field_name)

    @model_validator(mode="after")
    def _due_after_administered(self):
        administered, due = getattr(self, "administered_at", None), getattr(self, "due_at", None)
        if administered is not None and due is not None and due < administered:
            raise invalid("due_at", DUE_MESSAGE)
        return self


class VaccinationCreate(VaccinationFields):
    required_fields: ClassVar[tuple[str, ...]] = ("vaccine_name", "administered_at")
    vaccine_name: VaccineName
    administered_at: date
    due_at: date | None = None
    notes: Notes | None = None


class VaccinationUpdate(VaccinationFields):
    vaccine_name: VaccineName | None = None
    administered_at: date | None = None
    due_at: date | None = None
    notes: Notes | None = None


class VaccinationRenew(VaccinationFields):
    """The next dose; its name is the renewed record's."""

    required_fields: ClassVar[tuple[str, ...]] = ("administered_at",)
    administered_at: date
    due_at: date | None = None
    notes: Notes | None = None


def vaccination_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "pet_id": row["pet_id"],
        "vaccine_name": row["vaccine_name"],
        "administered_at": day(row["administered_at"]),
        "due_at": day(row["due_at"]),
        "notes": row["notes"],
        "completed_at": moment(row["completed_at"]),
        **stamps(row),
    }


async def list_vaccinations(request: web.Request) -> web.Response:
    page = page_of(request)
    status = request.query.get("status", "active")
    async with open_pet(request, KIND, ability=None) as (conn, access, _):
        if status not in records.VACCINATION_FILTERS:
            raise invalid("status", "The selected status is invalid.")
        rows, total = await records.list_page(
            conn, KIND, access.pet["id"], limit=page.per_page, offset=page.offset, status=status
        )
    settings = request.config_dict[settings_key]
    return envelope.success(paginated(request, settings.app_url, page, [vaccination_view(r) for r in rows], total))


async def show_vaccination(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability=None, record="record") as (conn, access, rid):
        row = await records.get(conn, KIND, access.pet["id"], rid)
    if row is None:
        raise NotFound()
    return envelope.success(vaccination_view(row))


async def create_vaccination(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="create") as (conn, access, _):
        body = await parse(request, VaccinationCreate)
        row = await records.insert(conn, KIND, access.pet["id"], body.model_dump())
    return envelope.success(vaccination_view(row), "Vaccination record created successfully.", status=201)


async def update_vaccination(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="update", record="record") as (conn, access, rid):
        async with conn.transaction():
            current = await records.get(conn, KIND, access.pet["id"], rid, for_update=True)
            if current is None:
                raise NotFound()
            body = await parse(request, VaccinationUpdate)
            changes = body.changes(required=("vaccine_name", "administered_at"))
            # the rule holds for the record as it will be, not only for the fields sent
            administered = changes.get("administered_at", current["administered_at"])
            due = changes.get("due_at", current["due_at"])
            if due is not None and due < administered:
                raise invalid("due_at", DUE_MESSAGE)
            row = await records.update(conn, KIND, access.pet["id"], rid, changes)
    return envelope.success(vaccination_view(row), "Vaccination record updated successfully.")


async def renew_vaccination(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="create", record="record") as (conn, access, rid):
        body = await parse(request, VaccinationRenew)
        old, new = await records.renew_vaccination(conn, access.pet["id"], rid, body.model_dump())
    if old is None:
        raise NotFound()
    if new is None:
        raise invalid("record", "This vaccination record has already been completed.")
    return envelope.success(vaccination_view(new), "Vaccination renewed successfully.", status=201)


async def delete_vaccination(request: web.Request) -> web.Response:
    async with open_pet(request, KIND, ability="delete", record="record") as (conn, access, rid):
        if not await records.delete(conn, KIND, access.pet["id"], rid):
            raise NotFound()
    return envelope.success(True, "Vaccination record deleted successfully.")
