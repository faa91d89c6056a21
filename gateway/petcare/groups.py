"""002's group endpoints: create, invite, join, my_groups, members, update_role, remove, and a
group's pets. The rules and their messages are domain/groups.py's. A personal access token needs
an ability for the act, in 000's names: `read` to look, `create` to make a group, an invitation or
a membership, `update` to change a role, `delete` to remove a member."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from aiohttp import web

from domain import groups
from gateway.kernel.keys import clock_key, pool_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse
from gateway.petcare.envelope import success
from gateway.petcare.group_models import (
    GroupCreateIn,
    GroupJoined,
    GroupPublic,
    InvitationPublic,
    JoinIn,
    MemberRemoved,
    MemberRemoveIn,
    Membership,
    MyGroup,
    RoleUpdated,
    RoleUpdateIn,
    group_joined,
    group_public,
    invitation_public,
    member_removed,
    membership,
    my_group,
    role_updated,
)
from gateway.petcare.guards import require_petcare_abilities
from gateway.petcare.openapi import TAG_GROUPS
from gateway.petcare.pet_models import PetListed, pet_listed
from gateway.petcare.pets import READERS, WRITERS

GROUP = {"group_id": "The group's id; one the caller is not a member of (or that names none) is a 403."}


def _pool(request: web.Request) -> asyncpg.Pool:
    return request.config_dict[pool_key]


def _now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.config_dict[clock_key].time(), UTC)


def _group_id(request: web.Request) -> int:
    return groups.parse_group_id(request.match_info["group_id"])


@documented(
    "Create a group",
    tags=(TAG_GROUPS,),
    description=f"The caller becomes its creator. At most {groups.MAX_CREATED} groups per user, the personal "
    "group counted (400 past that).",
    response=GroupPublic,
    body=GroupCreateIn,
    auth=WRITERS,
    errors=(403,),
)
async def create_group(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "create")
    body = await parse(request, GroupCreateIn)
    group = await groups.create(_pool(request), identity.user_id, body.name)
    return success(group_public(group, identity.user_id), "Group created successfully")


@documented(
    "Make an invitation code",
    tags=(TAG_GROUPS,),
    description=f"Any member (viewers too). The code admits one user and lasts {groups.INVITE_DAYS} days.",
    response=InvitationPublic,
    auth=WRITERS,
    errors=(403,),
    path_params=GROUP,
)
async def invite(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "create")
    invitation = await groups.invite(_pool(request), _group_id(request), identity.user_id, _now(request))
    return success(invitation_public(invitation), "Invitation created successfully")


@documented(
    "Join a group with a code",
    tags=(TAG_GROUPS,),
    description="Joins as a member. An unknown, expired or spent code is a 404; joining a group one is in "
    "already is a 400 (the code stays unspent).",
    response=GroupJoined,
    body=JoinIn,
    auth=WRITERS,
    errors=(403, 404),
)
async def join(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "create")
    body = await parse(request, JoinIn)
    group = await groups.join(_pool(request), body.invite_code, identity.user_id, _now(request))
    return success(group_joined(group, identity.user_id), "Successfully joined group")


@documented(
    "The caller's groups",
    tags=(TAG_GROUPS,),
    description="Every group the caller belongs to, with their role in it; oldest membership first.",
    response=list[MyGroup],
    auth=READERS,
    errors=(403,),
)
async def my_groups(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    rows = await groups.my_groups(_pool(request), identity.user_id)
    return success([my_group(row) for row in rows], f"Found {len(rows)} groups")


@documented(
    "A group's members",
    tags=(TAG_GROUPS,),
    description="For members (any role): the creator first, then by the time they joined.",
    response=list[Membership],
    auth=READERS,
    errors=(403,),
    path_params=GROUP,
)
async def members(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    rows = await groups.members(_pool(request), _group_id(request), identity.user_id)
    return success([membership(row) for row in rows], f"Found {len(rows)} members")


@documented(
    "Change a member's role",
    tags=(TAG_GROUPS,),
    description="The creator only, to `member` or `viewer`: never to or from `creator` (400). A user who is "
    "not a member is a 404.",
    response=RoleUpdated,
    body=RoleUpdateIn,
    auth=WRITERS,
    errors=(403, 404),
    path_params=GROUP,
)
async def update_role(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    body = await parse(request, RoleUpdateIn)
    group_id = _group_id(request)
    target = await groups.update_role(_pool(request), group_id, identity.user_id, body.user_id, body.new_role)
    return success(role_updated(group_id, target, body.new_role, identity.user_id), "Role updated successfully")


@documented(
    "Remove a member",
    tags=(TAG_GROUPS,),
    description="The creator only; never the creator (400). The member's access to the group's pets ends at once.",
    response=MemberRemoved,
    body=MemberRemoveIn,
    auth=WRITERS,
    errors=(403, 404),
    path_params=GROUP,
)
async def remove(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "delete")
    body = await parse(request, MemberRemoveIn)
    group_id = _group_id(request)
    target = await groups.remove(_pool(request), group_id, identity.user_id, body.user_id)
    return success(member_removed(group_id, target, identity.user_id, _now(request)), "Member removed successfully")


@documented(
    "A group's pets",
    tags=(TAG_GROUPS,),
    description="For members (any role): each pet with the caller's `user_permission` on it; newest first.",
    response=list[PetListed],
    auth=READERS,
    errors=(403,),
    path_params=GROUP,
)
async def group_pets(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "read")
    pets = await groups.pets(_pool(request), _group_id(request), identity.user_id)
    return success([pet_listed(pet) for pet in pets], f"Found {len(pets)} pets in group")
