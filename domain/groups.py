"""002 groups: who may create, invite, join, see members, change roles and remove members, with
the reference's words (its clients compare them).

- A user creates at most MAX_CREATED groups, their personal group counted. The count is checked
  behind the user's row lock, in the transaction that inserts, so concurrent creates cannot pass it.
- Any member (viewers too) makes invitation codes; a code lasts INVITE_DAYS and admits one user
  (row-locked when taken: of concurrent joiners exactly one gets in). A spent, expired or unknown
  code is the same 404; joining a group one already belongs to is a 400 and leaves the code unspent.
- Only the creator changes roles (to member or viewer; never to or from creator) and removes
  members (never the creator).
- Someone outside a group learns nothing about it: a group that does not exist answers as one
  they are not a member of (403).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from domain.care_pets import CarePet, of_rows
from domain.errors import BadRequest, Forbidden, NotFound
from domain.inputs import parse_positive_int
from storage import care_pets as care_pets_sql
from storage import groups as groups_sql

MAX_CREATED = 10
INVITE_DAYS = 7
# secrets.token_urlsafe(8): 11 characters, 64 bits, as the reference's codes; single use and a
# week's life keep guessing one hopeless
INVITE_CODE_BYTES = 8
# longer than any code we make: not worth a lookup
INVITE_CODE_MAX = 64
CREATOR, MEMBER, VIEWER = "creator", "member", "viewer"


def not_member() -> Forbidden:
    return Forbidden("You are not a member of this group", code="not_group_member")


def parse_group_id(raw: str | int) -> int:
    """A group id from a path: one that cannot name a group is 0, which no group has, so each
    route refuses it as it refuses any group the caller is not in."""
    return parse_positive_int(str(raw)) or 0


def target_user_id(raw: str | int) -> int | None:
    """The `user_id` a creator names (None when it cannot name anyone)."""
    return parse_positive_int(str(raw))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Invitation:
    code: str
    row: asyncpg.Record
    group: asyncpg.Record
    inviter_name: str


async def _group_of_member(conn: asyncpg.Connection, group_id: int, user_id: int) -> asyncpg.Record:
    group = await groups_sql.group_for(conn, group_id, user_id)
    if group is None or group["user_role"] is None:
        raise not_member()
    return group


async def create(pool: asyncpg.Pool, user_id: int, name: str) -> asyncpg.Record:
    """A new group with the caller as its creator; 400 past MAX_CREATED."""
    async with pool.acquire() as conn, conn.transaction():
        if not await groups_sql.lock_creator(conn, user_id):
            raise NotFound("User not found", code="user_not_found")
        if await groups_sql.count_created(conn, user_id) >= MAX_CREATED:
            raise BadRequest("You have reached the maximum number of groups", code="group_limit_reached")
        group_id = await groups_sql.create(conn, name, user_id)
        group = await groups_sql.group_for(conn, group_id, user_id)
    assert group is not None  # made in this transaction
    return group


async def invite(pool: asyncpg.Pool, group_id: int, user_id: int, now: datetime) -> Invitation:
    """A fresh single-use code for the group, valid INVITE_DAYS; any member may ask."""
    code = secrets.token_urlsafe(INVITE_CODE_BYTES)
    async with pool.acquire() as conn, conn.transaction():
        group = await _group_of_member(conn, group_id, user_id)
        row = await groups_sql.create_invitation(
            conn, group_id, code_hash(code), user_id, now, now + timedelta(days=INVITE_DAYS)
        )
        inviter = await groups_sql.user_name(conn, user_id)
    return Invitation(code=code, row=row, group=group, inviter_name=inviter or "")


async def join(pool: asyncpg.Pool, code: str, user_id: int, now: datetime) -> asyncpg.Record:
    """Spend the code and become a member; the group as the new member sees it."""
    invalid = NotFound("Invalid or expired invitation code", code="invalid_invitation")
    if not code or len(code) > INVITE_CODE_MAX:
        raise invalid
    async with pool.acquire() as conn, conn.transaction():
        invitation = await groups_sql.take_invitation(conn, code_hash(code), now)
        if invitation is None:
            raise invalid
        group_id = invitation["group_id"]
        if not await groups_sql.add_member(conn, group_id, user_id, MEMBER, invitation["created_by"]):
            # rolled back with the transaction: the code stays unspent for whoever it was meant for
            raise BadRequest("You are already a member of this group", code="already_member")
        await groups_sql.spend_invitation(conn, invitation["id"], user_id, now)
        group = await groups_sql.group_for(conn, group_id, user_id)
    assert group is not None  # its invitation row still pointed at it under the lock
    return group


async def my_groups(pool: asyncpg.Pool, user_id: int) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await groups_sql.memberships_of(conn, user_id)


async def members(pool: asyncpg.Pool, group_id: int, user_id: int) -> list[asyncpg.Record]:
    """The member list, for members only (every role may read it)."""
    async with pool.acquire() as conn:
        if await groups_sql.role_in(conn, group_id, user_id) is None:
            raise Forbidden("You do not have permission to view group members", code="group_members_forbidden")
        return await groups_sql.members(conn, group_id)


async def _creator_and_target(
    conn: asyncpg.Connection, group_id: int, actor_id: int, target_raw: str | int, *, refusal: str
) -> tuple[int, str]:
    """The checks update_role and remove share, in the reference's order: the actor is a member
    (403), the creator (403 `refusal`), the target is a member (404). The target's id and role."""
    actor_role = await groups_sql.role_in(conn, group_id, actor_id)
    if actor_role is None:
        raise not_member()
    if actor_role != CREATOR:
        raise Forbidden(refusal, code="not_group_creator")
    target_id = target_user_id(target_raw)
    target_role = await groups_sql.role_in(conn, group_id, target_id) if target_id is not None else None
    if target_id is None or target_role is None:
        raise NotFound("Target user is not a member of this group", code="target_not_member")
    return target_id, target_role


async def update_role(
    pool: asyncpg.Pool, group_id: int, actor_id: int, target_raw: str | int, new_role: str
) -> int:
    """Give a member another role (member or viewer); the target's id."""
    async with pool.acquire() as conn, conn.transaction():
        target_id, target_role = await _creator_and_target(
            conn, group_id, actor_id, target_raw, refusal="Only group creators can change member roles"
        )
        if new_role == CREATOR:
            raise BadRequest(
                "Cannot assign CREATOR role - only one creator per group", code="creator_role_unassignable"
            )
        if target_role == CREATOR:
            raise BadRequest("Cannot change the creator's role", code="creator_role_fixed")
        await groups_sql.set_role(conn, group_id, target_id, new_role)
    return target_id


async def remove(pool: asyncpg.Pool, group_id: int, actor_id: int, target_raw: str | int) -> int:
    """Take a member out of the group (their access to its pets ends with it); the target's id."""
    async with pool.acquire() as conn, conn.transaction():
        target_id, target_role = await _creator_and_target(
            conn, group_id, actor_id, target_raw, refusal="Only group creators can remove members"
        )
        if target_role == CREATOR:
            raise BadRequest("Cannot remove the group creator", code="creator_not_removable")
        await groups_sql.remove_member(conn, group_id, target_id)
    return target_id


async def pets(pool: asyncpg.Pool, group_id: int, user_id: int) -> list[CarePet]:
    """The group's pets, for its members."""
    async with pool.acquire() as conn:
        if await groups_sql.role_in(conn, group_id, user_id) is None:
            raise not_member()
        rows = await care_pets_sql.in_group(conn, group_id, user_id)
    return of_rows(rows, user_id)
