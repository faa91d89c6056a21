"""002's meals: request bodies and query strings (the reference's names, which name 422 details),
the response models (OpenAPI components) and their builders.

Both vocabularies in every answer: the document's `fed_at`, `fed_by`, `meals_count`,
`total_calories_consumed`, `target_achievement_percentage`, `meal_type_breakdown` and `meals[]`
beside the reference's `timestamp`, `user_id`, `total_meals`, `total_calories`,
`calorie_target_percentage` and `*_count`. A body may say `fed_at` or `timestamp`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from domain.meal_totals import MAX_SERVING, NOTES_MAX, MealEntry, target_percentage
from domain.meals import MealChanges, MealInput, MealQuery, Today
from gateway.kernel.account_views import IsoZ

MealType = Literal["breakfast", "lunch", "dinner", "snack"]
ServingType = Literal["units", "grams"]

_ID = "Opaque string id (clients must not parse it)."


def _utc(value: datetime) -> datetime:
    # a time without a zone is UTC, as the document's examples write it (and 002's pets read it)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _id_text(value: object) -> object:
    # ids are strings; a number is taken too (one field, so a 422 names just it)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IdIn = Annotated[str, BeforeValidator(_id_text), StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
FedAt = Annotated[datetime, AfterValidator(_utc)]
Amount = Annotated[float, Field(gt=0, le=MAX_SERVING, allow_inf_nan=False)]
Notes = Annotated[str, StringConstraints(max_length=NOTES_MAX)]
QueryId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class MealCreateIn(BaseModel):
    pet_id: IdIn = Field(description="The pet fed.")
    food_id: IdIn = Field(description="A food of the pet's group.")
    fed_at: FedAt | None = Field(
        default=None,
        validation_alias=AliasChoices("fed_at", "timestamp"),
        description="When the pet was fed (ISO 8601; no zone means UTC); `timestamp` is taken too. Default: now.",
    )
    meal_type: MealType | None = None
    serving_type: ServingType = Field(description="`grams`: the amount is the weight; `units`: × the unit weight.")
    serving_amount: Amount
    notes: Notes | None = None

    def input(self) -> MealInput:
        return MealInput(self.pet_id, self.food_id, self.fed_at, self.meal_type, self.serving_type,
                         self.serving_amount, self.notes)


class MealUpdateIn(BaseModel):
    """Every field optional; absent or null leaves it as it is. A new food or serving recalculates."""

    food_id: IdIn | None = None
    fed_at: FedAt | None = Field(default=None, validation_alias=AliasChoices("fed_at", "timestamp"))
    meal_type: MealType | None = None
    serving_type: ServingType | None = None
    serving_amount: Amount | None = None
    notes: Notes | None = None

    def changes(self) -> MealChanges:
        given = {name: getattr(self, name) for name in self.model_fields_set if getattr(self, name) is not None}
        return MealChanges(given)


_PET_Q = Field(default=None, description="A pet the caller can reach (wins over `group_id`).")
_GROUP_Q = Field(default=None, description="A group the caller is in: the meals of the pets in it now.")
_FED_BY_Q = Field(default=None, description="Only meals this user logged.")
_TYPE_Q = Field(default=None, description="Only meals of this type.")


class MealListQuery(BaseModel):
    pet_id: QueryId | None = _PET_Q
    group_id: QueryId | None = _GROUP_Q
    fed_by: QueryId | None = _FED_BY_Q
    date_from: date | None = Field(default=None, description="First local day (YYYY-MM-DD) in the group's zone.")
    date_to: date | None = Field(default=None, description="Last local day (YYYY-MM-DD), included.")
    meal_type: MealType | None = _TYPE_Q
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)

    def query(self) -> MealQuery:
        return MealQuery(self.pet_id, self.group_id, self.fed_by, self.date_from, self.date_to, self.meal_type,
                         self.limit, self.offset)


class MealTodayQuery(BaseModel):
    pet_id: QueryId | None = _PET_Q
    group_id: QueryId | None = _GROUP_Q
    fed_by: QueryId | None = _FED_BY_Q
    meal_type: MealType | None = _TYPE_Q

    def query(self) -> MealQuery:
        return MealQuery(self.pet_id, self.group_id, self.fed_by, meal_type=self.meal_type)


class MealSummaryQuery(BaseModel):
    pet_id: QueryId | None = _PET_Q
    group_id: QueryId | None = _GROUP_Q
    date_from: date = Field(description="Required. First local day (YYYY-MM-DD) in the group's zone.")
    date_to: date = Field(description="Required. Last local day (YYYY-MM-DD), included.")
    fed_by: QueryId | None = _FED_BY_Q
    meal_type: MealType | None = _TYPE_Q

    def query(self) -> MealQuery:
        return MealQuery(self.pet_id, self.group_id, self.fed_by, self.date_from, self.date_to, self.meal_type)


class TimezoneIn(BaseModel):
    timezone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = Field(
        description="An IANA zone name (`Asia/Ho_Chi_Minh`); null or empty: the server's zone again."
    )


# ---- responses ----


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MealPublic(Out):
    """A meal (create, details, update, and each entry of `GET /meals`)."""

    id: str = Field(description=_ID)
    pet_id: str
    pet_name: str
    food_id: str
    food_name: str = Field(description="`brand - product_name`.")
    food_brand: str
    food_product_name: str
    fed_at: IsoZ
    timestamp: IsoZ = Field(description="The reference's name for `fed_at`.")
    meal_type: MealType | None
    serving_type: ServingType
    serving_amount: float
    actual_weight_g: float
    calories: float = Field(description="calories_per_100g × actual_weight_g / 100.")
    protein_g: float
    fat_g: float
    moisture_g: float
    carbohydrate_g: float
    fed_by: str | None = Field(description="Who logged it (null once their account is gone).")
    user_id: str | None = Field(description="The reference's name for `fed_by`.")
    fed_by_name: str
    notes: str | None
    group_id: str | None = Field(description="The group the pet was in when the meal was logged.")
    group_name: str | None
    created_at: IsoZ
    updated_at: IsoZ
    is_active: bool


class MealDeleted(Out):
    message: str
    meal_id: str


class TodayMeal(Out):
    id: str
    pet_id: str
    pet_name: str
    fed_at: IsoZ
    meal_type: MealType | None
    food_id: str
    food_name: str
    calories: float
    actual_weight_g: float
    fed_by: str | None
    fed_by_name: str


class MealTypeCounts(Out):
    breakfast: int
    lunch: int
    dinner: int
    snack: int


class TodaySummary(Out):
    """The day so far (a pet's, or a group's: `pets_fed_count`), in the scope's local day."""

    date: str = Field(description="The local day (YYYY-MM-DD).")
    timezone: str = Field(description="The zone that day is in (the group's, else the server's).")
    pet_id: str | None
    pet_name: str | None
    group_id: str | None
    daily_calorie_target: int | None
    total_meals: int
    meals_count: int
    total_calories: float
    total_calories_consumed: float
    total_weight_g: float
    total_protein_g: float
    total_fat_g: float
    total_moisture_g: float
    total_carbohydrate_g: float
    breakfast_count: int
    lunch_count: int
    dinner_count: int
    snack_count: int
    meal_type_breakdown: MealTypeCounts
    calorie_target_percentage: float | None
    target_achievement_percentage: float | None
    pets_fed_count: int | None = Field(description="Different pets fed (a group's day; null for a pet).")
    meals: list[TodayMeal] = Field(description="The day's meals in feeding order.")


class Feeder(Out):
    user_id: str | None
    user_name: str
    meal_count: int


class FoodUse(Out):
    food_id: str
    food_name: str
    usage_count: int
    calories: float


class TargetAchievement(Out):
    daily_calorie_target: int
    days_fed: int
    days_on_target: int = Field(description="Days within 90-110 % of the target.")
    average_target_percentage: float = Field(description="The period's calories over target × days.")


class MealStatistics(Out):
    date_from: str
    date_to: str
    timezone: str
    pet_id: str | None
    group_id: str | None
    total_days: int
    total_meals: int
    total_calories: float
    total_weight_g: float
    total_protein_g: float
    total_fat_g: float
    total_moisture_g: float
    total_carbohydrate_g: float
    average_meals_per_day: float
    average_calories_per_day: float
    average_protein_g_per_day: float
    average_fat_g_per_day: float
    average_moisture_g_per_day: float
    average_carbohydrate_g_per_day: float
    meal_type_distribution: dict[str, int] = Field(description="Meals per type (`unspecified` for none).")
    most_active_feeders: list[Feeder] = Field(description="The top five.")
    most_used_foods: list[FoodUse] = Field(description="The top five.")
    target_achievement: TargetAchievement | None = Field(description="A pet with a daily calorie target only.")


class GroupTimezone(Out):
    group_id: str
    timezone: str
    is_default: bool = Field(description="Whether this is the server's zone (the group set none).")


# ---- builders ----


def _sid(value: Any) -> str | None:
    return str(value) if value is not None else None


def meal_public(row: Any) -> dict[str, Any]:
    fed_at = row["fed_at"]
    return MealPublic(
        id=str(row["id"]), pet_id=str(row["pet_id"]), pet_name=row["pet_name"], food_id=str(row["food_id"]),
        food_name=row["food_name"], food_brand=row["food_brand"], food_product_name=row["food_product_name"],
        fed_at=fed_at, timestamp=fed_at, meal_type=row["meal_type"], serving_type=row["serving_type"],
        serving_amount=row["serving_amount"], actual_weight_g=row["actual_weight_g"], calories=row["calories"],
        protein_g=row["protein_g"], fat_g=row["fat_g"], moisture_g=row["moisture_g"],
        carbohydrate_g=row["carbohydrate_g"], fed_by=_sid(row["fed_by"]), user_id=_sid(row["fed_by"]),
        fed_by_name=row["fed_by_name"] or "", notes=row["notes"], group_id=_sid(row["group_id"]),
        group_name=row["group_name"], created_at=row["created_at"], updated_at=row["updated_at"], is_active=True,
    ).model_dump(mode="json")


def meal_deleted(row: Any) -> dict[str, Any]:
    return MealDeleted(message="Meal record has been deleted successfully", meal_id=str(row["id"])).model_dump()


def _today_meal(e: MealEntry) -> dict[str, Any]:
    return {
        "id": str(e.id), "pet_id": str(e.pet_id), "pet_name": e.pet_name,
        "fed_at": datetime.fromtimestamp(e.fed_at, UTC).isoformat().replace("+00:00", "Z"),
        "meal_type": e.meal_type, "food_id": str(e.food_id), "food_name": e.food_name, "calories": e.calories,
        "actual_weight_g": e.actual_weight_g, "fed_by": _sid(e.fed_by), "fed_by_name": e.fed_by_name,
    }


def today_summary(today: Today) -> dict[str, Any]:
    """Built as a plain dict (a warm read's whole cost is this and the JSON); TodaySummary
    documents it and the contract tests hold every answer to it."""
    scope, totals = today.scope, today.totals
    is_pet = scope.kind == "pet"
    target = scope.calorie_target if is_pet else None
    pct = target_percentage(totals["calories"], target)
    by_type = totals["by_type"]
    return {
        "date": today.day,
        "timezone": scope.zone,
        "pet_id": str(scope.id) if is_pet else None,
        "pet_name": scope.name if is_pet else None,
        "group_id": _sid(scope.group_id),
        "daily_calorie_target": target,
        "total_meals": totals["meals"],
        "meals_count": totals["meals"],
        "total_calories": totals["calories"],
        "total_calories_consumed": totals["calories"],
        "total_weight_g": totals["weight_g"],
        "total_protein_g": totals["protein_g"],
        "total_fat_g": totals["fat_g"],
        "total_moisture_g": totals["moisture_g"],
        "total_carbohydrate_g": totals["carbohydrate_g"],
        **{f"{name}_count": by_type[name] for name in ("breakfast", "lunch", "dinner", "snack")},
        "meal_type_breakdown": dict(by_type),
        "calorie_target_percentage": pct,
        "target_achievement_percentage": pct,
        "pets_fed_count": None if is_pet else totals["pets_fed"],
        "meals": [_today_meal(e) for e in today.meals],
    }


def _r(value: Any, places: int = 2) -> float:
    return round(float(value), places)


def statistics(result: dict[str, Any], date_from: date, date_to: date) -> dict[str, Any]:
    scope, days, t = result["scope"], result["days"], result["totals"]
    per_day = {name: _r(float(t[name]) / days) for name in ("calories", "protein_g", "fat_g", "moisture_g",
                                                            "carbohydrate_g")}
    achievement = None
    days_row = result["target_days"]
    if days_row is not None and scope.calorie_target:
        achievement = TargetAchievement(
            daily_calorie_target=scope.calorie_target,
            days_fed=days_row["days_fed"],
            days_on_target=days_row["days_on_target"],
            average_target_percentage=_r(float(t["calories"]) * 100 / (scope.calorie_target * days), 1),
        )
    return MealStatistics(
        date_from=date_from.isoformat(), date_to=date_to.isoformat(), timezone=scope.zone,
        pet_id=str(scope.id) if scope.kind == "pet" else None, group_id=_sid(scope.group_id),
        total_days=days, total_meals=t["meals"], total_calories=_r(t["calories"]), total_weight_g=_r(t["weight_g"]),
        total_protein_g=_r(t["protein_g"]), total_fat_g=_r(t["fat_g"]), total_moisture_g=_r(t["moisture_g"]),
        total_carbohydrate_g=_r(t["carbohydrate_g"]),
        average_meals_per_day=_r(t["meals"] / days), average_calories_per_day=per_day["calories"],
        average_protein_g_per_day=per_day["protein_g"], average_fat_g_per_day=per_day["fat_g"],
        average_moisture_g_per_day=per_day["moisture_g"], average_carbohydrate_g_per_day=per_day["carbohydrate_g"],
        meal_type_distribution={r["meal_type"]: r["n"] for r in result["types"]},
        most_active_feeders=[Feeder(user_id=_sid(r["fed_by"]), user_name=r["name"] or "Unknown", meal_count=r["n"])
                             for r in result["feeders"]],
        most_used_foods=[FoodUse(food_id=str(r["food_id"]), food_name=r["food_name"], usage_count=r["n"],
                                 calories=_r(r["calories"])) for r in result["foods"]],
        target_achievement=achievement,
    ).model_dump(mode="json")


def group_timezone(group_id: int, zone: str, is_default: bool) -> dict[str, Any]:
    return GroupTimezone(group_id=str(group_id), timezone=zone, is_default=is_default).model_dump()
