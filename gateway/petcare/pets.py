"""002's pet endpoints: create, accessible, details, update, delete, assign_group, current_group.

The pets are the one `pets` table 000 serves too (domain/care_pets.py has the rules and the
mapping between the two contracts). Order of checks, as the reference (FastAPI) answers: the
caller (401), the body (422: validated before any handler runs there), the pet (404 missing or
deleted), the caller's relation to it (403). A personal access token needs 000's ability for the
same act on the same pets (`read`, `create`, `update`, `delete`; 403 without it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg
from aiohttp import web

from domain import care_pets
from domain.inputs import parse_positive_int
from gateway.kernel.keys import clock_key, pool_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse
from gateway.petcare.envelope import success
from gateway.petcare.guards import require_petcare_abilities
from gateway.petcare.openapi import TAG_PETS
from gateway.petcare.pet_models import (
    AssignGroupIn,
    PetCreateIn,
    PetDeleted,
    PetDetail,
    PetGroupAssignment,
    PetListed,
    PetUpdateIn,
    assignment,
    pet_deleted,
    pet_detail,
    pet_listed,
)

READERS = ("oauth2", "jwt", "pat", "session")
WRITERS = ("oauth2", "jwt", "pat", "session+xsrf")
PET = {"pet_id": "The pet's id; one that names no pet (or a deleted one) is a 404."}


def _pool(request: web.Request) -> asyncpg.Pool:
    return request.config_dict[pool_key]


def _today(request: web.Request) -> date:
    """The UTC day by the app's clock: the day a weight given with a pet is recorded on."""
    return datetime.fromtimestamp(request.config_dict[clock_key].time(), UTC).date()


def _pet_id(request: web.Request) -> int:
    return care_pets.parse_pet_id(request.match_info["pet_id"])


@documented(
    "Create a pet",
    tags=(TAG_PETS,),
    description="The caller owns it; it starts in their personal group. A `current_weight_kg` is recorded "
    "as today's weight (000 lists it as the latest).",
    response=PetDetail,
    body=PetCreateIn,
    auth=WRITERS,
    errors=(403,),
)
async def create_pet(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "create")
    body = await parse(request, PetCreateIn)
    pet = await care_pets.create(_pool(request), identity.user_id, body.changes(), _today(request))
    return success(pet_detail(pet, _today(request)), f"Pet '{pet.row['name']}' created successfully")


@documented(
    "The pets the caller can reach",
    tags=(TAG_PETS,),
    description="Owned pets, pets of the caller's groups, and pets shared with them through 000; newest first.",
    response=list[PetListed],
    auth=READERS,
    errors=(403,),
)
async def accessible_pets(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    pets = await care_pets.accessible(_pool(request), identity.user_id)
    return success([pet_listed(pet) for pet in pets], f"Found {len(pets)} accessible pets")


@documented(
    "A pet's details",
    tags=(TAG_PETS,),
    description="Anyone with a relation to the pet (owner, its group, a 000 grant); with `age` in years.",
    response=PetDetail,
    auth=READERS,
    errors=(403, 404),
    path_params=PET,
)
async def pet_details(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    pet = await care_pets.details(_pool(request), _pet_id(request), identity.user_id)
    return success(pet_detail(pet, _today(request)), f"Details for pet '{pet.row['name']}' retrieved successfully")


@documented(
    "Update a pet",
    tags=(TAG_PETS,),
    description="Owner, group creator or member (a 000 editor too); only the fields given change.",
    response=PetDetail,
    body=PetUpdateIn,
    auth=WRITERS,
    errors=(403, 404),
    path_params=PET,
)
async def update_pet(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    body = await parse(request, PetUpdateIn)
    pet = await care_pets.update(_pool(request), _pet_id(request), identity.user_id, body.changes(), _today(request))
    return success(pet_detail(pet, _today(request)), f"Pet '{pet.row['name']}' updated successfully")


@documented(
    "Delete a pet",
    tags=(TAG_PETS,),
    description="Owner only. Soft: the pet leaves its group and every list; its records stay.",
    response=PetDeleted,
    auth=WRITERS,
    errors=(403, 404),
    path_params=PET,
)
async def delete_pet(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "delete")
    pet = await care_pets.delete(_pool(request), _pet_id(request), identity.user_id)
    return success(pet_deleted(pet), "Pet deleted successfully")


@documented(
    "Move a pet to another group",
    tags=(TAG_PETS,),
    description="The pet's owner, into a group they created (404 for a group they are not in, 403 for one "
    "they are not the creator of).",
    response=PetGroupAssignment,
    body=AssignGroupIn,
    auth=WRITERS,
    errors=(403, 404),
    path_params=PET,
)
async def assign_group(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    body = await parse(request, AssignGroupIn)
    group_id = parse_positive_int(str(body.group_id))
    info = await care_pets.assign_group(_pool(request), _pet_id(request), identity.user_id, group_id)
    data = assignment(info, identity.user_id)
    return success(data, f"Pet '{data['pet_name']}' assigned to group '{data['group_name']}'")


@documented(
    "A pet's group",
    tags=(TAG_PETS,),
    description="The group the pet is in and the caller's place in it; nulls when it is in none.",
    response=PetGroupAssignment,
    auth=READERS,
    errors=(403, 404),
    path_params=PET,
)
async def current_group(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    info = await care_pets.current_group(_pool(request), _pet_id(request), identity.user_id)
    return success(assignment(info, identity.user_id), "Group assignment information retrieved")
