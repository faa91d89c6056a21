"""000's pet endpoints: pet types, the caller's pets (with list-view health summaries), and one
pet's create / show / update / status / soft delete.

Order of checks on every route, as the reference answers: authentication and the token's ability
(401/403), then the pet (404 for missing, deleted or non-numeric ids), then the caller's role on
it (403 "Access forbidden."), then the body (422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from aiohttp import web

from domain import pet_access
from domain.errors import Forbidden, Invalid, NotFound
from gateway.kernel import api_envelope as envelope
from gateway.kernel.auth.guards import require_abilities
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.keys import pool_key
from gateway.kernel.openapi.operation import NO_BODY, documented
from gateway.kernel.validation import parse, read_body, validate
from gateway.pethealth.openapi import READ, WRITE
from gateway.pethealth.pet_models import MyPetsQuery, PetCreate, PetStatusIn, PetUpdate
from gateway.pethealth.pet_schemas import PetDetail, PetListed, PetPublic, PetSections, PetTypePublic
from gateway.pethealth.pet_views import pet_detail, pet_public, pet_view, summary_view, type_public
from storage import pets as pets_sql
from storage.errors import domain_errors

DEFAULT_TYPE_SLUG = "cat"
_BAD_TYPE = "The selected pet type id is invalid."
PET = {"pet": "The pet's id; anything but a positive integer, or a deleted pet, is a 404."}


def _pool(request: web.Request) -> asyncpg.Pool:
    return request.config_dict[pool_key]


async def _pet_type_id(conn: asyncpg.Connection, given: int | None) -> int:
    """The type a pet gets: the given one (422 on `pet_type_id` if unknown) or cat."""
    if given is None:
        row = await pets_sql.type_by_slug(conn, DEFAULT_TYPE_SLUG)
    else:
        row = await pets_sql.get_type(conn, given)
    if row is None:
        raise Invalid(fields={"pet_type_id": [_BAD_TYPE]})
    return row["id"]


async def _listed(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    """Pets for a list view: each with its health summary, all summaries from one query."""
    summaries = await pets_sql.health_summaries(conn, [r["id"] for r in rows])
    return [{**pet_view(r), "health_summary": summary_view(summaries.get(r["id"]))} for r in rows]


@documented("List pet types", response=list[PetTypePublic])
async def pet_types(request: web.Request) -> web.Response:
    """GET /api/pet-types: public, every type with its capability flags."""
    async with _pool(request).acquire() as conn:
        rows = await pets_sql.list_types(conn)
    return envelope.success([type_public(r).model_dump(mode="json") for r in rows], "Pet types retrieved successfully.")


@documented("List the caller's pets", response=list[PetListed], query=MyPetsQuery, errors=(403,), auth=READ)
async def my_pets(request: web.Request) -> web.Response:
    """GET /api/my-pets[?pet_type=<slug>]: the caller's own pets, flat; an unknown slug lists
    nothing (a filter that matches no pet, not an error)."""
    identity = require_abilities(request, "read")
    slug = request.query.get("pet_type") or None
    async with _pool(request).acquire() as conn:
        rows = await pets_sql.list_owned(conn, identity.user_id, pet_type_slug=slug)
        data = await _listed(conn, rows)
    return envelope.success(data, "Pets retrieved successfully.")


@documented("The caller's pets by section", response=PetSections, errors=(403,), auth=READ)
async def my_pets_sections(request: web.Request) -> web.Response:
    """GET /api/my-pets/sections. Roost has no fostering or transfers: those sections are empty."""
    identity = require_abilities(request, "read")
    async with _pool(request).acquire() as conn:
        rows = await pets_sql.list_owned(conn, identity.user_id)
        owned = await _listed(conn, rows)
    data = {"owned": owned, "fostering_active": [], "fostering_past": [], "transferred_away": []}
    return envelope.success(data, "Pets retrieved successfully.")


@documented("Create a pet", response=PetPublic, status=201, body=PetCreate, errors=(403, 409), auth=WRITE)
async def create_pet(request: web.Request) -> web.Response:
    """POST /api/pets (token ability `create`): `pet_type_id` absent or null is the cat type."""
    identity = require_abilities(request, "create")
    body = await parse(request, PetCreate)
    async with _pool(request).acquire() as conn, conn.transaction():
        type_id = await _pet_type_id(conn, body.pet_type_id)
        with domain_errors():
            row = await pets_sql.create(
                conn,
                owner_id=identity.user_id,
                pet_type_id=type_id,
                name=body.name,
                country=body.country,
                birthday=body.birthday,
                description=body.description,
                sex=body.sex,
            )
    return envelope.success(pet_public(row).model_dump(mode="json"), "Pet created successfully.", status=201)


async def _access(request: web.Request, conn: asyncpg.Connection) -> pet_access.PetAccess:
    identity = identity_of(request)
    pet_id = pet_access.parse_id(request.match_info["pet"])
    return await pet_access.load(conn, pet_id, identity.user_id, is_admin=identity.is_admin)


@documented(
    "Show a pet", response=PetDetail, errors=(403, 404), auth=READ, auth_optional=True, path_params=PET
)
async def show_pet(request: web.Request) -> web.Response:
    """GET /api/pets/{pet}: owner, editors, viewers and admins; no ability in the document's table
    and no public pets in Roost, so anyone else (anonymous too) gets 403."""
    async with _pool(request).acquire() as conn:
        access = await _access(request, conn)
    access.require_view()
    return envelope.success(pet_detail(access).model_dump(mode="json"), "Pet retrieved successfully.")


async def _change(
    request: web.Request, build: Callable[[dict[str, Any]], dict[str, Any]], message: str
) -> web.Response:
    """Read the body, then in one transaction: the pet and the caller's role (so a stranger learns
    nothing from a 422), the body's validation, the update."""
    raw = await read_body(request)
    async with _pool(request).acquire() as conn, conn.transaction():
        access = await _access(request, conn)
        access.require_edit()
        fields = build(raw)
        if "pet_type_id" in fields:
            fields["pet_type_id"] = await _pet_type_id(conn, fields["pet_type_id"])
        with domain_errors():
            row = await pets_sql.update(conn, access.pet["id"], fields)
    if row is None:  # deleted by a concurrent request
        raise NotFound()
    return envelope.success(pet_public(row).model_dump(mode="json"), message)


@documented(
    "Update a pet", response=PetPublic, body=PetUpdate, errors=(403, 404, 409), auth=WRITE, path_params=PET
)
async def update_pet(request: web.Request) -> web.Response:
    """PUT /api/pets/{pet}: owner or editor; changes only the fields given."""
    require_abilities(request, "update")
    return await _change(request, lambda raw: validate(PetUpdate, raw).changes(), "Pet updated successfully.")


@documented(
    "Change a pet's status",
    response=PetPublic,
    body=PetStatusIn,
    errors=(403, 404, 409),
    auth=WRITE,
    path_params=PET,
)
async def update_status(request: web.Request) -> web.Response:
    """PUT /api/pets/{pet}/status {status: active|lost|deceased}; `deleted` only through DELETE."""
    require_abilities(request, "update")
    return await _change(
        request, lambda raw: {"status": validate(PetStatusIn, raw).status}, "Pet status updated successfully."
    )


@documented(
    "Delete a pet", response=NO_BODY, status=204, errors=(403, 404), auth=WRITE, path_params=PET
)
async def delete_pet(request: web.Request) -> web.Response:
    """DELETE /api/pets/{pet}: owner only; soft (status `deleted`); 204 with an empty body."""
    require_abilities(request, "delete")
    async with _pool(request).acquire() as conn, conn.transaction():
        access = await _access(request, conn)
        if access.role != "owner":
            raise Forbidden(code="pet_forbidden")
        if not await pets_sql.soft_delete(conn, access.pet["id"]):
            raise NotFound()
    return web.Response(status=204)
