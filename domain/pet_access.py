"""Who may do what with a pet (000's rules; 002's group roles arrive with the pet care issue).

The owner and editors change a pet and all its records; viewers read the pet; administrators also
read vaccinations and microchips. Weights and medical records are readable by owner or editor only,
whatever the document calls public (the reference's behaviour). A deleted pet does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg

from domain.errors import Forbidden, NotFound
from domain.inputs import parse_positive_int

Role = Literal["owner", "editor", "viewer", "admin", "none"]
# what each health record kind lets read besides owner and editor
RecordKind = Literal["weights", "medical_records", "vaccinations", "microchips"]
_ADMIN_READS: frozenset[str] = frozenset({"vaccinations", "microchips"})


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


def parse_id(raw: str) -> int:
    """Route ids: anything but a positive integer is simply not found (never a 500)."""
    value = parse_positive_int(raw)
    if value is None:
        raise NotFound()
    return value


async def load(conn: asyncpg.Connection, pet_id: int, user_id: int | None, *, is_admin: bool) -> PetAccess:
    """The pet (with its type's flags) and the caller's role; 404 for a missing or deleted pet."""
    row = await conn.fetchrow(
        """
        select p.*, t.slug as pet_type_slug, t.name as pet_type_name,
               t.has_weights, t.has_medical_records, t.has_vaccinations, t.has_microchips,
               a.role as access_role
        from pets p
        join pet_types t on t.id = p.pet_type_id
        left join pet_access a on a.pet_id = p.id and a.user_id = $2
        where p.id = $1 and p.status <> 'deleted'
        """,
        pet_id,
        user_id,
    )
    if row is None:
        raise NotFound()
    if user_id is not None and row["owner_id"] == user_id:
        role: Role = "owner"
    elif row["access_role"] is not None:
        role = row["access_role"]
    elif is_admin:
        role = "admin"
    else:
        role = "none"
    return PetAccess(row, role)
