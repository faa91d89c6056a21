"""Who may do what with a pet: one access model, read by both pet contracts.

A caller reaches a pet by owning it, by a per-pet grant (000's `pet_access`: editor or viewer),
or by belonging to the 002 group the pet is in (creator, member or viewer). The two vocabularies
map onto each other (README, "Contract notes"): a group's creator and members are editors in
000's terms, its viewers viewers; a 000 editor is a member in 002's terms (`user_permission`),
a 000 viewer a viewer. Where a caller holds both, the stronger wins.

The owner and editors change a pet and all its records; viewers read the pet; administrators also
read vaccinations and microchips. Weights and medical records are readable by owner or editor only,
whatever the document calls public (the reference's behaviour). A deleted pet does not exist.
A pet's type says which record kinds it has at all (the pet-type gate, a 422 whoever asks).
The row comes from storage/pet_access.py; what it allows is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import asyncpg

from domain.errors import Forbidden, Invalid, NotFound
from domain.inputs import parse_positive_int
from storage import pet_access as pet_access_sql

Role = Literal["owner", "editor", "viewer", "admin", "none"]
# 002's words for a caller's relation to a pet (`user_permission`), strongest first
CareRole = Literal["owner", "creator", "member", "viewer"]
GroupRole = Literal["creator", "member", "viewer"]
# what 002's group roles are as a per-pet role of 000
_GRANT_OF_GROUP_ROLE: dict[str, Role] = {"creator": "editor", "member": "editor", "viewer": "viewer"}
# what 000's per-pet grants are in 002's words
_CARE_OF_GRANT: dict[str, CareRole] = {"editor": "member", "viewer": "viewer"}
_CARE_RANK: dict[str, int] = {"owner": 0, "creator": 1, "member": 2, "viewer": 3}
# who may change a pet in 002 (owner, group creator and members, 000 editors); only the owner deletes
CARE_WRITERS: frozenset[str] = frozenset({"owner", "creator", "member"})
# what each health record kind lets read besides owner and editor
RecordKind = Literal["weights", "medical_records", "vaccinations", "microchips"]
_ADMIN_READS: frozenset[str] = frozenset({"vaccinations", "microchips"})
# the pet type's capability flag for each record kind (pet_types.has_*)
FEATURE_FLAGS: dict[RecordKind, str] = {
    "weights": "has_weights",
    "medical_records": "has_medical_records",
    "vaccinations": "has_vaccinations",
    "microchips": "has_microchips",
}


@dataclass(frozen=True, slots=True)
class PetAccess:
    pet: asyncpg.Record
    role: Role

    @property
    def can_edit(self) -> bool:
        return self.role in ("owner", "editor")

    @property
    def can_view(self) -> bool:
        return self.role in ("owner", "editor", "viewer", "admin")

    def can_read_records(self, kind: RecordKind) -> bool:
        return self.can_edit or (self.role == "admin" and kind in _ADMIN_READS)

    def require_edit(self) -> None:
        if not self.can_edit:
            raise Forbidden("Access forbidden.", code="pet_forbidden")

    def require_view(self) -> None:
        if not self.can_view:
            raise Forbidden("Access forbidden.", code="pet_forbidden")

    def require_records(self, kind: RecordKind) -> None:
        if not self.can_read_records(kind):
            raise Forbidden("Access forbidden.", code="pet_forbidden")

    def has_feature(self, kind: RecordKind) -> bool:
        return bool(self.pet[FEATURE_FLAGS[kind]])

    def require_feature(self, kind: RecordKind) -> None:
        """The pet-type gate: a 422 with the reference's machine-readable `error_code`. Callers
        check it after the policy, so a caller who may not see the pet learns nothing of its type."""
        if not self.has_feature(kind):
            raise Invalid(
                code="feature_not_available_for_pet_type",
                fields={"pet_type": ["Feature not available for this pet type"]},
                extra={"error_code": "FEATURE_NOT_AVAILABLE_FOR_PET_TYPE"},
            )


def parse_id(raw: str) -> int:
    """Route ids: anything but a positive integer is simply not found (never a 500)."""
    value = parse_positive_int(raw)
    if value is None:
        raise NotFound()
    return value


async def load(conn: asyncpg.Connection, pet_id: int, user_id: int | None, *, is_admin: bool) -> PetAccess:
    """The pet (with its type's flags) and the caller's role; 404 for a missing or deleted pet."""
    row = await pet_access_sql.pet_for_caller(conn, pet_id, user_id)
    if row is None:
        raise NotFound()
    grant = per_pet_role(row["access_role"], row["group_role"])
    return PetAccess(row, role_of(row["owner_id"], grant, user_id, is_admin=is_admin))


def per_pet_role(access_role: str | None, group_role: str | None) -> Role | None:
    """The per-pet role (000's words) a caller holds by a grant or by the pet's group, the
    stronger of the two; None when neither."""
    via_group = _GRANT_OF_GROUP_ROLE.get(group_role) if group_role else None
    if "editor" in (access_role, via_group):
        return "editor"
    if "viewer" in (access_role, via_group):
        return "viewer"
    return None


def care_role(owner_id: int, user_id: int, access_role: str | None, group_role: str | None) -> CareRole | None:
    """The caller's relation to a pet in 002's words (`user_permission`): owner, else the stronger
    of their role in the pet's group and their per-pet grant mapped to 002; None when neither."""
    if owner_id == user_id:
        return "owner"
    candidates = [r for r in (group_role, _CARE_OF_GRANT.get(access_role) if access_role else None) if r]
    if not candidates:
        return None
    return cast(CareRole, min(candidates, key=_CARE_RANK.__getitem__))


def role_of(owner_id: int, access_role: Role | None, user_id: int | None, *, is_admin: bool) -> Role:
    """The caller's role: owning beats a per-pet grant, a grant beats being an administrator."""
    if user_id is not None and owner_id == user_id:
        return "owner"
    if access_role is not None:
        return access_role
    return "admin" if is_admin else "none"
