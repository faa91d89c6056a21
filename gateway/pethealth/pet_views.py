"""How 000 shows a pet, its type and its list-view health summary."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from domain.pet_access import PetAccess
from gateway.kernel.timeutil import iso_z
from storage.pets import empty_summary, weight_number

_FLAGS = ("has_weights", "has_medical_records", "has_vaccinations", "has_microchips")


def type_view(row: asyncpg.Record) -> dict[str, Any]:
    """A pet_types row: `{id, slug, name, has_weights, has_medical_records, has_vaccinations,
    has_microchips}`."""
    return {"id": row["id"], "slug": row["slug"], "name": row["name"], **{f: row[f] for f in _FLAGS}}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def pet_view(row: asyncpg.Record) -> dict[str, Any]:
    """A pet as storage.pets returns it (with its type's slug, name and flags joined in)."""
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
    """storage.pets.health_summaries' entry as JSON; never null (a pet without records gets Nones
    and "unknown")."""
    s = summary or empty_summary()
    return {
        "latest_weight_kg": weight_number(s["latest_weight_kg"]),
        "latest_weight_record_date": _day(s["latest_weight_record_date"]),
        "previous_weight_kg": weight_number(s["previous_weight_kg"]),
        "previous_weight_record_date": _day(s["previous_weight_record_date"]),
        "vaccination_status": s["vaccination_status"],
    }


def viewer_permissions(access: PetAccess) -> dict[str, Any]:
    """What the caller may do with the pet, so clients can show or hide controls."""
    owner = access.role == "owner"
    return {
        "role": access.role,
        "is_owner": owner,
        "can_view": access.can_view,
        "can_edit": access.can_edit,
        "can_change_status": access.can_edit,
        "can_delete": owner,
        "can_manage_health": access.can_edit,
        "can_view_weights": access.can_read_records("weights"),
        "can_view_medical_records": access.can_read_records("medical_records"),
        "can_view_vaccinations": access.can_read_records("vaccinations"),
        "can_view_microchips": access.can_read_records("microchips"),
        "can_manage_access": owner,
    }
