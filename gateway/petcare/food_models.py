"""002's foods: request bodies and queries, the response models (OpenAPI components), and the
builders from domain/foods.py's rows.

The document and the reference name the nutrition fields differently, and clients of both exist
(NOTES 002): `unit_weight_g` / `unit_weight`, `calories_per_100g` / `calories`, and
`protein_percentage` / `protein` (fat, moisture, carbohydrate alike). A body may use either name
(the document's wins when both are sent); every answer carries both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from domain.foods import Food
from gateway.kernel.account_views import IsoZ

FoodType = Literal["dry_food", "wet_food"]
TargetPet = Literal["dog", "cat", "bird", "fish", "rabbit", "other"]

Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
UnitWeight = Annotated[float, Field(gt=0, le=5000, allow_inf_nan=False)]
Calories = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]

# document name -> the reference's, for the fields named twice; the document's is the column
TWIN_NAMES = {
    "unit_weight_g": "unit_weight",
    "calories_per_100g": "calories",
    "protein_percentage": "protein",
    "fat_percentage": "fat",
    "moisture_percentage": "moisture",
    "carbohydrate_percentage": "carbohydrate",
}
_ID = "Opaque string id (clients must not parse it)."


def _both(name: str) -> AliasChoices:
    return AliasChoices(name, TWIN_NAMES[name])


def _twin(description: str, name: str) -> str:
    return f"{description} Also accepted as `{TWIN_NAMES[name]}` (the reference's name)."


def _columns(body: BaseModel, given: set[str]) -> dict[str, Any]:
    """The fields given (and not null) as `foods` columns, numbers as exact decimals."""
    columns: dict[str, Any] = {}
    for name in given:
        value = getattr(body, name)
        if value is None:
            continue
        columns[name] = Decimal(str(value)) if isinstance(value, float) else value
    return columns


class FoodCreateIn(BaseModel):
    brand: Text100
    product_name: Text100
    food_type: FoodType
    target_pet: TargetPet
    unit_weight_g: UnitWeight = Field(
        validation_alias=_both("unit_weight_g"), description=_twin("Grams in one unit.", "unit_weight_g")
    )
    calories_per_100g: Calories = Field(
        validation_alias=_both("calories_per_100g"), description=_twin("kcal per 100 g.", "calories_per_100g")
    )
    protein_percentage: Percent = Field(
        validation_alias=_both("protein_percentage"), description=_twin("Percent.", "protein_percentage")
    )
    fat_percentage: Percent = Field(
        validation_alias=_both("fat_percentage"), description=_twin("Percent.", "fat_percentage")
    )
    moisture_percentage: Percent = Field(
        validation_alias=_both("moisture_percentage"), description=_twin("Percent.", "moisture_percentage")
    )
    carbohydrate_percentage: Percent = Field(
        validation_alias=_both("carbohydrate_percentage"),
        description=_twin("Percent. The four percentages may sum to at most 105.", "carbohydrate_percentage"),
    )

    def columns(self) -> dict[str, Any]:
        return _columns(self, set(type(self).model_fields))


class FoodUpdateIn(BaseModel):
    """Every field optional; absent or null leaves it as it is."""

    brand: Text100 | None = None
    product_name: Text100 | None = None
    food_type: FoodType | None = None
    target_pet: TargetPet | None = None
    unit_weight_g: UnitWeight | None = Field(
        default=None, validation_alias=_both("unit_weight_g"), description=_twin("Grams in one unit.", "unit_weight_g")
    )
    calories_per_100g: Calories | None = Field(
        default=None,
        validation_alias=_both("calories_per_100g"),
        description=_twin("kcal per 100 g.", "calories_per_100g"),
    )
    protein_percentage: Percent | None = Field(
        default=None, validation_alias=_both("protein_percentage"), description=_twin("Percent.", "protein_percentage")
    )
    fat_percentage: Percent | None = Field(
        default=None, validation_alias=_both("fat_percentage"), description=_twin("Percent.", "fat_percentage")
    )
    moisture_percentage: Percent | None = Field(
        default=None,
        validation_alias=_both("moisture_percentage"),
        description=_twin("Percent.", "moisture_percentage"),
    )
    carbohydrate_percentage: Percent | None = Field(
        default=None,
        validation_alias=_both("carbohydrate_percentage"),
        description=_twin("Percent. The four percentages, as they will be, may sum to at most 105.",
                          "carbohydrate_percentage"),
    )

    def columns(self) -> dict[str, Any]:
        return _columns(self, self.model_fields_set)


class GroupQuery(BaseModel):
    group_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = Field(
        description="The group whose food database this is; one the caller is not a member of is a 403."
    )


class FoodListQuery(GroupQuery):
    food_type: FoodType | None = Field(default=None, description="Only foods of this type.")
    target_pet: TargetPet | None = Field(default=None, description="Only foods for this species.")


class FoodSearchQuery(FoodListQuery):
    keyword: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        description="Required. Every word must start a word of the brand or the product name (case-insensitive, "
        "search-as-you-type); brand matches rank first. At most 100 results."
    )


# ---- responses ----


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FoodPublic(Out):
    """A food with both field-name sets (every food answer: create, list, info, details, update)."""

    id: str = Field(description=_ID)
    group_id: str
    group_name: str
    brand: str
    product_name: str
    food_type: FoodType
    target_pet: TargetPet
    unit_weight_g: float
    unit_weight: float = Field(description="`unit_weight_g`, by the reference's name.")
    calories_per_100g: float
    calories: float = Field(description="`calories_per_100g`, by the reference's name.")
    calories_per_unit: float = Field(description="calories_per_100g x unit_weight_g / 100.")
    protein_percentage: float
    protein: float
    fat_percentage: float
    fat: float
    moisture_percentage: float
    moisture: float
    carbohydrate_percentage: float
    carbohydrate: float
    has_photo: bool
    photo_url: str = Field(description="Where the photo is served (`/static/food_photos/...`); empty when none.")
    creator_id: str | None = Field(description="Who added it; null once their account is gone.")
    creator_name: str | None
    created_at: IsoZ
    updated_at: IsoZ
    is_active: bool


class FoodDeleted(Out):
    message: str
    food_id: str
    food_name: str = Field(description="`Brand - Product`.")


def photo_url(key: str | None) -> str:
    return f"/static/{key}" if key else ""


def _number(value: Decimal | float) -> float:
    return float(value)


def food_public(food: Food) -> dict[str, Any]:
    row = food.row
    numbers = {name: _number(row[name]) for name in TWIN_NAMES}
    data = FoodPublic(
        id=str(row["id"]),
        group_id=str(row["group_id"]),
        group_name=row["group_name"],
        brand=row["brand"],
        product_name=row["product_name"],
        food_type=row["food_type"],
        target_pet=row["target_pet"],
        **numbers,
        **{TWIN_NAMES[name]: value for name, value in numbers.items()},
        calories_per_unit=_number(row["calories_per_unit"]),
        has_photo=row["photo_path"] is not None,
        photo_url=photo_url(row["photo_path"]),
        creator_id=str(row["created_by"]) if row["created_by"] is not None else None,
        creator_name=row["creator_name"] if row["created_by"] is not None else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        is_active=row["deleted_at"] is None,
    )
    return data.model_dump(mode="json")


def food_deleted(food: Food) -> dict[str, Any]:
    return FoodDeleted(
        message="Food has been deleted from the group database", food_id=str(food.row["id"]), food_name=food.label
    ).model_dump(mode="json")
