"""002's pets: request bodies (the reference's field names, which name 422 details) and the
response models (OpenAPI components), with the builders from domain/care_pets.py's rows.

One pet body carries both the document's names and the reference's: `group_id` and `photo_url`
(document) beside `age`, `owner_name`, `group_name` (reference), and `user_permission`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from domain import care_pets
from domain.care_pets import Assignment, CarePet, PetChanges
from gateway.kernel.account_views import IsoZ
from gateway.petcare.account_models import Name

PetType = Literal["dog", "cat", "bird", "fish", "rabbit", "other"]
Gender = Literal["male", "female", "unknown"]
Permission = Literal["owner", "creator", "member", "viewer"]
GroupRole = Literal["creator", "member", "viewer"]

_ID = "Opaque string id (clients must not parse it)."


def _day(value: datetime) -> date:
    # a time without a zone is UTC, as the document's examples write it
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC).date()


# ISO 8601 date or date-time (the document), or Unix seconds (the reference's update); stored as a date
BirthDate = Annotated[datetime, AfterValidator(_day)]
Kg = Annotated[float, Field(ge=0.1, le=200, allow_inf_nan=False)]
Cm = Annotated[float, Field(ge=1, le=200, allow_inf_nan=False)]
Kcal = Annotated[int, Field(ge=50, le=5000)]
Breed = Annotated[str, StringConstraints(max_length=100)]
Microchip = Annotated[str, StringConstraints(max_length=50)]
Notes = Annotated[str, StringConstraints(max_length=1000)]

# request field -> pets column, for the fields stored as sent
_PLAIN = {
    "name": "name",
    "breed": "breed",
    "birth_date": "birthday",
    "target_weight_kg": "target_weight_kg",
    "height_cm": "height_cm",
    "is_spayed": "is_spayed",
    "microchip_id": "microchip_id",
    "daily_calorie_target": "daily_calorie_target",
    "notes": "notes",
}


def _changes(body: BaseModel, given: set[str]) -> PetChanges:
    """The fields given (and not null) as `pets` columns; pet_type, gender and the weight mapped."""
    values = {name: getattr(body, name) for name in given if getattr(body, name) is not None}
    fields: dict[str, Any] = {_PLAIN[name]: value for name, value in values.items() if name in _PLAIN}
    if "gender" in values:
        fields["sex"] = care_pets.sex_of(values["gender"])
    return PetChanges(fields=fields, pet_type=values.get("pet_type"), weight_kg=values.get("current_weight_kg"))


class PetCreateIn(BaseModel):
    name: Name
    pet_type: PetType
    breed: Breed | None = None
    gender: Gender = "unknown"
    birth_date: BirthDate | None = Field(
        default=None, description="ISO 8601 date or date-time, or Unix seconds; kept as a date."
    )
    current_weight_kg: Kg | None = Field(default=None, description="Recorded as today's weight.")
    target_weight_kg: Kg | None = None
    height_cm: Cm | None = None
    is_spayed: bool | None = False
    microchip_id: Microchip | None = None
    daily_calorie_target: Kcal | None = None
    notes: Notes | None = None

    def changes(self) -> PetChanges:
        return _changes(self, set(type(self).model_fields))


class PetUpdateIn(BaseModel):
    """Every field optional; absent or null leaves it as it is."""

    name: Name | None = None
    pet_type: PetType | None = None
    breed: Breed | None = None
    gender: Gender | None = None
    birth_date: BirthDate | None = Field(
        default=None, description="ISO 8601 date or date-time, or Unix seconds (the reference's form)."
    )
    current_weight_kg: Kg | None = Field(default=None, description="Recorded as today's weight.")
    target_weight_kg: Kg | None = None
    height_cm: Cm | None = None
    is_spayed: bool | None = None
    microchip_id: Microchip | None = None
    daily_calorie_target: Kcal | None = None
    notes: Notes | None = None

    def changes(self) -> PetChanges:
        return _changes(self, self.model_fields_set)


class AssignGroupIn(BaseModel):
    group_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | int = Field(
        description="The target group (a string id; a number is taken too)."
    )


# ---- responses ----


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PetListed(Out):
    """A pet in a list (`/pets/accessible`, `/groups/{group_id}/pets`)."""

    id: str = Field(description=_ID)
    name: str
    pet_type: PetType
    breed: str | None
    gender: Gender
    current_weight_kg: float | None = Field(description="The latest weight record (000's latest weight too).")
    owner_id: str
    owner_name: str
    group_id: str | None
    group_name: str | None
    user_permission: Permission = Field(
        description="The caller's relation: owner, else their group role; a 000 editor is `member`, "
        "a 000 viewer `viewer`."
    )
    created_at: IsoZ
    updated_at: IsoZ
    is_active: bool
    photo_url: str = Field(description="Where the photo is served; empty when there is none.")


class PetDetail(PetListed):
    """One pet with everything (create, details, update)."""

    birth_date: IsoZ | None = Field(description="Midnight UTC of the birth date.")
    age: int | None = Field(description="Whole years since the birth date.")
    target_weight_kg: float | None
    height_cm: float | None
    is_spayed: bool | None
    microchip_id: str | None
    daily_calorie_target: int | None
    notes: str | None


class PetDeleted(Out):
    message: str
    pet_id: str
    pet_name: str


class PetGroupAssignment(Out):
    """The pet's group and the caller's place in it (nulls when the pet is in no group)."""

    pet_id: str
    pet_name: str
    group_id: str | None
    group_name: str | None
    user_role_in_group: GroupRole | None = Field(description="The caller's role in that group; null when not a member.")
    user_permission: Permission
    member_count: int | None
    is_creator: bool = Field(description="Whether the caller created that group.")
    assigned_at: IsoZ | None = Field(description="When the pet entered the group.")


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None


def _opt_id(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _photo_url(row: Any) -> str:
    return f"/static/{row['photo_path']}" if row["photo_path"] else ""


def _listed_fields(pet: CarePet) -> dict[str, Any]:
    row = pet.row
    assert pet.role is not None  # every listed pet is one the caller reaches
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "pet_type": care_pets.pet_type_of(row["pet_type_slug"]),
        "breed": row["breed"],
        "gender": care_pets.gender_of(row["sex"]),
        "current_weight_kg": _number(row["current_weight_kg"]),
        "owner_id": str(row["owner_id"]),
        "owner_name": row["owner_name"],
        "group_id": _opt_id(row["group_id"]),
        "group_name": row["group_name"],
        "user_permission": pet.role,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "is_active": row["status"] != "deleted",
        "photo_url": _photo_url(row),
    }


def pet_listed(pet: CarePet) -> dict[str, Any]:
    return PetListed(**_listed_fields(pet)).model_dump(mode="json")


def pet_detail(pet: CarePet, today: date) -> dict[str, Any]:
    row = pet.row
    birthday: date | None = row["birthday"]
    detail = PetDetail(
        **_listed_fields(pet),
        birth_date=datetime(birthday.year, birthday.month, birthday.day, tzinfo=UTC) if birthday else None,
        age=care_pets.age_in_years(birthday, today),
        target_weight_kg=_number(row["target_weight_kg"]),
        height_cm=_number(row["height_cm"]),
        is_spayed=row["is_spayed"],
        microchip_id=row["microchip_id"],
        daily_calorie_target=row["daily_calorie_target"],
        notes=row["notes"],
    )
    return detail.model_dump(mode="json")


def pet_deleted(pet: CarePet) -> dict[str, Any]:
    return PetDeleted(
        message="Pet has been deleted successfully", pet_id=str(pet.row["id"]), pet_name=pet.row["name"]
    ).model_dump(mode="json")


def assignment(info: Assignment, user_id: int) -> dict[str, Any]:
    row, group = info.pet.row, info.group
    assert info.pet.role is not None
    return PetGroupAssignment(
        pet_id=str(row["id"]),
        pet_name=row["name"],
        group_id=_opt_id(row["group_id"]),
        group_name=row["group_name"],
        user_role_in_group=row["group_role"],
        user_permission=info.pet.role,
        member_count=group["member_count"] if group is not None else None,
        is_creator=group is not None and group["creator_id"] == user_id,
        assigned_at=row["group_assigned_at"],
    ).model_dump(mode="json")
