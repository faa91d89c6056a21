"""Who may do what with a pet (000's rules; 002's group roles arrive with the pet care issue).

The owner and editors change a pet and all its records; viewers read the pet; administrators also
read vaccinations and microchips. Weights and medical records are readable by owner or editor only,
whatever the document calls public (the reference's behaviour). A deleted pet does not exist.
A pet's type says which record kinds it has at all (the pet-type gate, a 422 whoever asks).
The row comes from storage/pet_access.py; what it allows is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg

from domain.errors import Forbidden, Invalid, NotFound
from domain.inputs import parse_positive_int
from storage import pet_access as pet_access_sql

Role = Literal["owner", "editor", "viewer", "admin", "none"]
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
    return PetAccess(row, role_of(row["owner_id"], row["access_role"], user_id, is_admin=is_admin))


def role_of(owner_id: int, access_role: Role | None, user_id: int | None, *, is_admin: bool) -> Role:
    """The caller's role: owning beats a per-pet grant, a grant beats being an administrator."""
    if user_id is not None and owner_id == user_id:
        return "owner"
    if access_role is not None:
        return access_role
    return "admin" if is_admin else "none"
