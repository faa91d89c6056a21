"""How 000 shows a pet, its type and its list-view health summary.

Single pets are models (pet_schemas.py) built here. The lists keep the dict builders `pet_view`
and `summary_view`: `/api/my-pets` is a measured hot path (benchmark `my_pets`), and building and
dumping a model per pet would cost it; tests/pethealth/test_my_pets.py proves their output is
exactly what `PetListed` renders.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from domain.pet_access import PetAccess
from gateway.kernel.timeutil import iso_z
from gateway.pethealth.pet_schemas import PetDetail, PetPublic, PetTypePublic, ViewerPermissions
from storage.pets import empty_summary, weight_number

_FLAGS = ("has_weights", "has_medical_records", "has_vaccinations", "has_microchips")


def type_public(row: asyncpg.Record) -> PetTypePublic:
    """A pet_types row."""
    return PetTypePublic(id=row["id"], slug=row["slug"], name=row["name"], **{f: row[f] for f in _FLAGS})


def _pet_type(row: asyncpg.Record) -> PetTypePublic:
    """The type joined into a pet row (storage.pets' columns)."""
    return PetTypePublic(
        id=row["pet_type_id"], slug=row["pet_type_slug"], name=row["pet_type_name"], **{f: row[f] for f in _FLAGS}
    )


def _pet_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "birthday": row["birthday"],
        "country": row["country"],
        "description": row["description"],
        "pet_type_id": row["pet_type_id"],
        "pet_type": _pet_type(row),
        "created_by": row["owner_id"],
        "status": row["status"],
        "sex": row["sex"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def pet_public(row: asyncpg.Record) -> PetPublic:
    """A pet as storage.pets returns it (with its type's slug, name and flags joined in)."""
    return PetPublic(**_pet_fields(row))


def viewer_permissions(access: PetAccess) -> ViewerPermissions:
    """What the caller may do with the pet, so clients can show or hide controls."""
    owner = access.role == "owner"
    return ViewerPermissions(
        role=access.role,
        is_owner=owner,
        can_view=access.can_view,
        can_edit=access.can_edit,
        can_change_status=access.can_edit,
        can_delete=owner,
        can_manage_health=access.can_edit,
        can_view_weights=access.can_read_records("weights"),
        can_view_medical_records=access.can_read_records("medical_records"),
        can_view_vaccinations=access.can_read_records("vaccinations"),
        can_view_microchips=access.can_read_records("microchips"),
        can_manage_access=owner,
    )


def pet_detail(access: PetAccess) -> PetDetail:
    return PetDetail(**_pet_fields(access.pet), viewer_permissions=viewer_permissions(access))


# ---- the list views' fast path (PetListed's shape, as plain dicts) -----------------------------


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def pet_view(row: asyncpg.Record) -> dict[str, Any]:
    """`PetPublic`'s JSON for a pet row, without the model (the lists format many)."""
    return {
        "id": row["id"],
        "name": row["name"],
        "birthday": _day(row["birthday"]),
        "country": row["country"],
        "description": row["description"],
        "pet_type_id": row["pet_type_id"],
        "pet_type": {
            "id": row["pet_type_id"],
            "slug": row["pet_type_slug"],
            "name": row["pet_type_name"],
            **{f: row[f] for f in _FLAGS},
        },
        "created_by": row["owner_id"],
        "status": row["status"],
        "sex": row["sex"],
        "created_at": iso_z(row["created_at"]),
        "updated_at": iso_z(row["updated_at"]),
    }


def summary_view(summary: dict[str, Any] | None) -> dict[str, Any]:
    """`HealthSummary`'s JSON for storage.pets.health_summaries' entry; never null (a pet without
    records gets Nones and "unknown")."""
    s = summary or empty_summary()
    return {
        "latest_weight_kg": weight_number(s["latest_weight_kg"]),
        "latest_weight_record_date": _day(s["latest_weight_record_date"]),
        "previous_weight_kg": weight_number(s["previous_weight_kg"]),
        "previous_weight_record_date": _day(s["previous_weight_record_date"]),
        "vaccination_status": s["vaccination_status"],
    }
