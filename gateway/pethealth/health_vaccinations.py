"""000: a pet's vaccinations, `/api/pets/{pet}/vaccinations[/{record}[/renew]]`.

A vaccination is open until it is renewed: renewing completes it (`completed_at`) and records the
next dose under the same vaccine name, in one transaction. Lists show open ones by default
(`?status=active`), or `completed`, or `all`.
Its request models, its view and its `HealthRecords` (the five handlers are health_records.py's,
with this kind's list filter and update rule), and renew.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from domain.errors import NotFound
from gateway.kernel import api_envelope as envelope
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse
from gateway.pethealth.health_common import (
    HealthIn,
    LaravelTime,
    RecordPage,
    RecordPublic,
    field_of,
    invalid,
    not_future,
    open_pet,
    parse_date,
)
from gateway.pethealth.health_records import HealthRecords
from gateway.pethealth.openapi import WRITE
from storage import health_records as records

DUE_MESSAGE = "The due at field must be a date after or equal to administered at."

VaccineName = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Notes = Annotated[str, StringConstraints(max_length=1000)]


class VaccinationFields(HealthIn):
    @field_validator("administered_at", mode="before", check_fields=False)
    @classmethod
    def _administered(cls, value: Any, info: ValidationInfo) -> Any:
        return not_future(parse_date(value, field_of(info)), field_of(info))

    @field_validator("due_at", mode="before", check_fields=False)
    @classmethod
    def _due(cls, value: Any, info: ValidationInfo) -> Any:
        return parse_date(value, field_of(info))

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


class VaccinationPublic(RecordPublic):
    id: int
    pet_id: int
    vaccine_name: str
    administered_at: date
    due_at: date | None
    notes: str | None
    completed_at: LaravelTime | None = Field(description="When it was renewed; null while it is open.")
    created_at: LaravelTime
    updated_at: LaravelTime


class VaccinationPage(RecordPage[VaccinationPublic]):
    """A page of a pet's vaccinations, newest administered first."""


class VaccinationListQuery(BaseModel):
    """The vaccination list's query (documentation: the handler reads it after the pet's checks)."""

    page: int = Field(default=1, description="The page, from 1; anything else reads as page 1.")
    status: Literal["active", "completed", "all"] = Field(
        default="active", description="`active`: not yet renewed; `completed`: renewed; `all`."
    )


def _list_status(request: web.Request) -> str:
    status = request.query.get("status", "active")
    if status not in records.VACCINATION_FILTERS:
        raise invalid("status", "The selected status is invalid.")
    return status


def _due_after_administered(current: asyncpg.Record, changes: dict[str, Any]) -> None:
    # the rule holds for the record as it will be, not only for the fields sent
    administered = changes.get("administered_at", current["administered_at"])
    due = changes.get("due_at", current["due_at"])
    if due is not None and due < administered:
        raise invalid("due_at", DUE_MESSAGE)


VACCINATIONS = HealthRecords(
    kind="vaccinations",
    record="record",
    create_model=VaccinationCreate,
    update_model=VaccinationUpdate,
    public=VaccinationPublic,
    page_model=VaccinationPage,
    list_query=VaccinationListQuery,
    noun="Vaccination record",
    list_status=_list_status,
    check_update=_due_after_administered,
)


@documented(
    "Renew a vaccination",
    response=VaccinationPublic,
    status=201,
    body=VaccinationRenew,
    errors=(403, 404),
    auth=WRITE,
    path_params=VACCINATIONS.path_params,
)
async def renew_vaccination(request: web.Request) -> web.Response:
    """POST /api/pets/{pet}/vaccinations/{record}/renew: complete it and record the next dose."""
    kind, record = VACCINATIONS.kind, VACCINATIONS.record
    async with open_pet(request, kind, ability="create", record=record) as (conn, access, rid):
        body = await parse(request, VaccinationRenew)
        old, new = await records.renew_vaccination(conn, access.pet["id"], rid, body.model_dump())
    if old is None:
        raise NotFound()
    if new is None:
        raise invalid("record", "This vaccination record has already been completed.")
    data = VaccinationPublic.from_row(new).model_dump(mode="json")
    return envelope.success(data, "Vaccination renewed successfully.", status=201)
