"""What 000 answers about pets: the response models (OpenAPI components of 000's document).

Single pets (create, show, update, status) are built as models and dumped; the lists
(`/api/my-pets`, `/api/my-pets/sections`) are a measured hot path and keep pet_views.py's dict
builders, which tests/pethealth/test_my_pets.py proves equal to these models' output.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.pet_access import Role
from gateway.kernel.account_views import IsoZ
from gateway.pethealth.pet_models import Sex

PetStatus = Literal["active", "lost", "deceased", "deleted"]
# storage.pets.health_summaries' aggregate over open vaccinations with a due date
VaccinationStatus = Literal["overdue", "due_soon", "up_to_date", "unknown"]


class Out(BaseModel):
    """A response body of 000: exactly its fields (an unexpected key fails the contract tests)."""

    model_config = ConfigDict(extra="forbid")


class PetTypePublic(Out):
    """A pet type with its capability flags: which health record kinds its pets have."""

    id: int
    slug: str = Field(description="Stable key, e.g. `cat`; `?pet_type=` on /my-pets filters by it.")
    name: str
    has_weights: bool
    has_medical_records: bool
    has_vaccinations: bool
    has_microchips: bool


class PetPublic(Out):
    id: int
    name: str
    birthday: date | None
    country: str | None = Field(description="ISO 3166-1 alpha-2, upper case; null only for pets made through 002.")
    description: str | None
    pet_type_id: int
    pet_type: PetTypePublic
    created_by: int = Field(description="The owner's user id.")
    status: PetStatus
    sex: Sex
    created_at: IsoZ
    updated_at: IsoZ


class HealthSummary(Out):
    """A list view's compact health data, never null: a pet without records has nulls and `unknown`."""

    latest_weight_kg: float | None
    latest_weight_record_date: date | None
    previous_weight_kg: float | None
    previous_weight_record_date: date | None
    vaccination_status: VaccinationStatus = Field(
        description="Over open vaccinations with a due date: `overdue` if any is past due, else `due_soon` "
        "if any is due within 30 days, else `up_to_date` if any is due later, else `unknown`."
    )


class PetListed(PetPublic):
    """A pet in /my-pets and /my-pets/sections."""

    health_summary: HealthSummary


class ViewerPermissions(Out):
    """What the caller may do with the pet, so clients can show or hide controls."""

    role: Role
    is_owner: bool
    can_view: bool
    can_edit: bool
    can_change_status: bool
    can_delete: bool
    can_manage_health: bool
    can_view_weights: bool
    can_view_medical_records: bool
    can_view_vaccinations: bool
    can_view_microchips: bool
    can_manage_access: bool


class PetDetail(PetPublic):
    """GET /api/pets/{pet}: the pet and the caller's permissions on it."""

    viewer_permissions: ViewerPermissions


class PetSections(Out):
    """The caller's pets by relationship. Roost has no fostering or transfers: those lists are empty."""

    owned: list[PetListed]
    fostering_active: list[PetListed]
    fostering_past: list[PetListed]
    transferred_away: list[PetListed]
