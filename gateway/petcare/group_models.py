"""002's groups: request bodies and response models, with the builders from domain/groups.py's rows.

The document and the reference name a group's answers differently; each body carries both: a
group has `id`/`name` and `group_id`/`group_name`, `is_creator` and `user_role`, `member_count`.
A membership (`my_groups`, `members`) is the reference's GroupMemberInfo, whose `created_at` is
when the member joined (the reference's meaning; `joined_at` says the same, `group_created_at`
is the group's own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from domain.groups import Invitation
from gateway.kernel.account_views import IsoZ
from gateway.petcare.account_models import Name
from gateway.petcare.pet_models import GroupRole

_ID = "Opaque string id (clients must not parse it)."
UserRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | int


class GroupCreateIn(BaseModel):
    name: Name


class JoinIn(BaseModel):
    invite_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class RoleUpdateIn(BaseModel):
    user_id: UserRef = Field(description="The member whose role changes.")
    new_role: GroupRole = Field(
        default="viewer",
        validation_alias=AliasChoices("new_role", "role"),
        description="`member` or `viewer` (`creator` is refused); `role` is taken too.",
    )


class MemberRemoveIn(BaseModel):
    user_id: UserRef = Field(description="The member to remove.")


# ---- responses ----


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GroupPublic(Out):
    """A group as the caller sees it (create)."""

    id: str = Field(description=_ID)
    name: str
    creator_id: str
    creator_name: str
    created_at: IsoZ
    updated_at: IsoZ
    is_active: bool
    is_personal: bool = Field(description="The group every user gets at registration.")
    member_count: int
    is_creator: bool
    user_role: GroupRole = Field(description="The caller's role in the group.")


class GroupJoined(GroupPublic):
    """The group just joined: the reference's group and the document's names for it."""

    group_id: str
    group_name: str
    joined_at: IsoZ


class Membership(Out):
    """One member of one group (the reference's GroupMemberInfo)."""

    group_id: str
    group_name: str
    user_id: str
    user_name: str
    user_email: str
    role: GroupRole
    created_at: IsoZ = Field(description="When the member joined (the reference's meaning).")
    updated_at: IsoZ
    joined_at: IsoZ
    invited_by: str | None
    invited_by_name: str | None
    is_active: bool


class MyGroup(Membership):
    """A group of the caller's, with their membership in it."""

    id: str = Field(description="The group's id (as `group_id`).")
    name: str = Field(description="The group's name (as `group_name`).")
    creator_id: str
    member_count: int
    is_creator: bool
    user_role: GroupRole = Field(description="The caller's role (as `role`).")
    group_created_at: IsoZ


class InvitationInfo(Out):
    """The reference's nested invitation."""

    id: str
    group_name: str
    invited_by_name: str
    invite_code: str
    created_at: IsoZ
    expires_at: IsoZ


class InvitationPublic(Out):
    invite_code: str = Field(description="Single use; valid for 7 days.")
    group_id: str
    group_name: str
    expires_at: IsoZ
    created_by: str
    created_at: IsoZ
    invitation: InvitationInfo
    share_message: str


class RoleUpdated(Out):
    group_id: str
    user_id: str
    new_role: GroupRole
    updated_by: str


class MemberRemoved(Out):
    removed_group_id: str
    removed_user_id: str
    removed_by: str
    updated_at: IsoZ


def _opt_id(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _group_fields(row: asyncpg.Record, user_id: int) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "creator_id": str(row["creator_id"]),
        "creator_name": row["creator_name"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "is_active": True,
        "is_personal": row["is_personal"],
        "member_count": row["member_count"],
        "is_creator": row["creator_id"] == user_id,
        "user_role": row["user_role"],
    }


def group_public(row: asyncpg.Record, user_id: int) -> dict[str, Any]:
    return GroupPublic(**_group_fields(row, user_id)).model_dump(mode="json")


def group_joined(row: asyncpg.Record, user_id: int) -> dict[str, Any]:
    return GroupJoined(
        **_group_fields(row, user_id), group_id=str(row["id"]), group_name=row["name"], joined_at=row["joined_at"]
    ).model_dump(mode="json")


def _membership_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "group_id": str(row["group_id"]),
        "group_name": row["group_name"],
        "user_id": str(row["user_id"]),
        "user_name": row["user_name"],
        "user_email": row["user_email"],
        "role": row["role"],
        "created_at": row["joined_at"],
        "updated_at": row["updated_at"],
        "joined_at": row["joined_at"],
        "invited_by": _opt_id(row["invited_by"]),
        "invited_by_name": row["invited_by_name"] if row["invited_by"] is not None else None,
        "is_active": True,
    }


def membership(row: asyncpg.Record) -> dict[str, Any]:
    return Membership(**_membership_fields(row)).model_dump(mode="json")


def my_group(row: asyncpg.Record) -> dict[str, Any]:
    return MyGroup(
        **_membership_fields(row),
        id=str(row["group_id"]),
        name=row["group_name"],
        creator_id=str(row["creator_id"]),
        member_count=row["member_count"],
        is_creator=row["creator_id"] == row["user_id"],
        user_role=row["role"],
        group_created_at=row["group_created_at"],
    ).model_dump(mode="json")


def invitation_public(invitation: Invitation) -> dict[str, Any]:
    row, group = invitation.row, invitation.group
    info = InvitationInfo(
        id=str(row["id"]),
        group_name=group["name"],
        invited_by_name=invitation.inviter_name,
        invite_code=invitation.code,
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )
    return InvitationPublic(
        invite_code=invitation.code,
        group_id=str(group["id"]),
        group_name=group["name"],
        expires_at=row["expires_at"],
        created_by=str(row["created_by"]),
        created_at=row["created_at"],
        invitation=info,
        share_message=f"Join my pet care group '{group['name']}' with code: {invitation.code}",
    ).model_dump(mode="json")


def role_updated(group_id: int, user_id: int, new_role: str, actor_id: int) -> dict[str, Any]:
    return RoleUpdated(
        group_id=str(group_id), user_id=str(user_id), new_role=new_role, updated_by=str(actor_id)  # type: ignore[arg-type]
    ).model_dump(mode="json")


def member_removed(group_id: int, user_id: int, actor_id: int, now: datetime) -> dict[str, Any]:
    return MemberRemoved(
        removed_group_id=str(group_id), removed_user_id=str(user_id), removed_by=str(actor_id), updated_at=now
    ).model_dump(mode="json")
