"""000's health-record routes, written once: list, show, create, update and delete of one record
kind under `/api/pets/{pet}/<kind>[/{record}]`, over the one table-driven storage module
(storage/health_records.py).

Each kind (health_weights.py, health_medical.py, health_vaccinations.py, health_microchips.py)
is a `HealthRecords`: its storage kind, the route's record segment, its request models, its view
and the noun its messages name; routes.py routes each URL to one of its five handlers. What a kind
has beyond them stays in its module (a vaccination's list filter, its update rule, renew). The
minute throttles on creates are keyed by route pattern in throttles.py, like every write limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from domain.errors import NotFound
from domain.pet_access import RecordKind
from gateway.kernel import api_envelope as envelope
from gateway.kernel.keys import settings_key
from gateway.kernel.openapi.operation import Operation
from gateway.kernel.pagination import page_of, paginated
from gateway.kernel.validation import parse
from gateway.pethealth.health_common import HealthIn, RecordPage, RecordPublic, open_pet
from gateway.pethealth.openapi import READ, WRITE
from storage import health_records as records


class PageQuery(BaseModel):
    page: int = Field(default=1, description="The page, from 1; anything else reads as page 1.")


@dataclass(frozen=True)
class HealthRecords:
    """One record kind and its five handlers: bound methods, so routes.py names them directly,
    with the names of the reference's (Laravel) resource controllers."""

    kind: RecordKind
    # the route's record segment: `{weight}` in /api/pets/{pet}/weights/{weight}
    record: str
    create_model: type[HealthIn]
    update_model: type[HealthIn]
    public: type[RecordPublic]  # one record's response model
    page_model: type[RecordPage[Any]]  # the list's
    # what the messages call one record: "Weight record" created / updated / deleted successfully.
    noun: str
    # the list's `?status=` filter (a key of records.VACCINATION_FILTERS), read after the pet's
    # checks so a bad value never tells a stranger anything; None: the kind has no filter
    list_status: Callable[[web.Request], str] | None = None
    # a rule across fields (current row, changes) that must hold for the record as it will be:
    # when set, an update locks the row for the check and the write
    check_update: Callable[[asyncpg.Record, dict[str, Any]], None] | None = None
    # the list's query parameters, for the document (the handlers read the query themselves)
    list_query: type[BaseModel] = PageQuery

    @property
    def required(self) -> tuple[str, ...]:
        """What a create requires may not be cleared by an update (sent as null: a 422)."""
        return self.create_model.required_fields

    def message(self, done: str) -> str:
        return f"{self.noun} {done} successfully."

    def view(self, row: asyncpg.Record) -> dict[str, Any]:
        return self.public.from_row(row).model_dump(mode="json")

    @property
    def path_params(self) -> dict[str, str]:
        return {
            "pet": "The pet's id; anything but a positive integer, or a deleted pet, is a 404.",
            self.record: f"The {self.noun.lower()}'s id; one of another pet is a 404.",
        }

    def operation_for(self, name: str) -> Operation | None:
        """Each handler's entry in 000's document (gateway/kernel/openapi/operation.py's doc_of).

        Reads take an optional credential (anonymous callers reach the policy: 403); every route
        answers the pet-type gate's 422 when the pet's type has no such records."""
        one, many = self.noun.lower(), self.noun.lower() + "s"
        pet_only = {"pet": self.path_params["pet"]}
        ops = {
            "index": Operation(
                f"List a pet's {many}",
                response=self.page_model,
                query=self.list_query,
                errors=(403, 404, 422),
                auth=READ,
                auth_optional=True,
                path_params=pet_only,
            ),
            "show": Operation(
                f"Show a {one}",
                response=self.public,
                errors=(403, 404, 422),
                auth=READ,
                auth_optional=True,
                path_params=self.path_params,
            ),
            "store": Operation(
                f"Add a {one}",
                response=self.public,
                status=201,
                body=self.create_model,
                errors=(403, 404),
                auth=WRITE,
                path_params=pet_only,
            ),
            "update": Operation(
                f"Change a {one}",
                description="Changes only the fields sent; a required field sent as null is a 422.",
                response=self.public,
                body=self.update_model,
                errors=(403, 404),
                auth=WRITE,
                path_params=self.path_params,
            ),
            "destroy": Operation(
                f"Delete a {one}",
                description="Answers 200 with `data: true` (not 204, unlike deleting a pet).",
                response=Literal[True],
                errors=(403, 404, 422),
                auth=WRITE,
                path_params=self.path_params,
            ),
        }
        return ops.get(name)

    async def index(self, request: web.Request) -> web.Response:
        page = page_of(request)
        async with open_pet(request, self.kind, ability=None) as (conn, access, _):
            status = self.list_status(request) if self.list_status is not None else None
            rows, total = await records.list_page(
                conn, self.kind, access.pet["id"], limit=page.per_page, offset=page.offset, status=status
            )
        settings = request.config_dict[settings_key]
        return envelope.success(paginated(request, settings.app_url, page, [self.view(r) for r in rows], total))

    async def show(self, request: web.Request) -> web.Response:
        async with open_pet(request, self.kind, ability=None, record=self.record) as (conn, access, rid):
            row = await records.get(conn, self.kind, access.pet["id"], rid)
        if row is None:
            raise NotFound()
        return envelope.success(self.view(row))

    async def store(self, request: web.Request) -> web.Response:
        async with open_pet(request, self.kind, ability="create") as (conn, access, _):
            body = await parse(request, self.create_model)
            row = await records.insert(conn, self.kind, access.pet["id"], body.model_dump())
        return envelope.success(self.view(row), self.message("created"), status=201)

    async def update(self, request: web.Request) -> web.Response:
        async with open_pet(request, self.kind, ability="update", record=self.record) as (conn, access, rid):
            pet_id = access.pet["id"]
            if self.check_update is None:
                # the record is looked up before the body is read: another pet's record is a 404,
                # whatever the body holds
                if await records.get(conn, self.kind, pet_id, rid) is None:
                    raise NotFound()
                body = await parse(request, self.update_model)
                row = await records.update(conn, self.kind, pet_id, rid, body.changes(required=self.required))
            else:
                async with conn.transaction():
                    current = await records.get(conn, self.kind, pet_id, rid, for_update=True)
                    if current is None:
                        raise NotFound()
                    body = await parse(request, self.update_model)
                    changes = body.changes(required=self.required)
                    self.check_update(current, changes)
                    row = await records.update(conn, self.kind, pet_id, rid, changes)
        if row is None:
            raise NotFound()
        return envelope.success(self.view(row), self.message("updated"))

    async def destroy(self, request: web.Request) -> web.Response:
        async with open_pet(request, self.kind, ability="delete", record=self.record) as (conn, access, rid):
            if not await records.delete(conn, self.kind, access.pet["id"], rid):
                raise NotFound()
        return envelope.success(True, self.message("deleted"))
