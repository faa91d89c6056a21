"""The arithmetic of 002's meals, pure: what a serving of a food comes to, which local day a
meal belongs to, and a day's running totals. Used by the meal services (domain/meals.py), the
meal_aggregate actors (actors/meal_aggregate.py) and the gateway's today view alike, so all three
agree to the milligram.

- A serving is `grams` (the amount is the weight) or `units` (amount × the food's unit weight).
- calories = calories_per_100g × grams / 100; each nutrient = its percentage × grams / 100
  (NOTES 002; the document's example says 190 kcal for 500 g of a 380 kcal/100 g food, which is
  1900).
- A meal's day is the local date of `fed_at` in its group's time zone (groups.timezone, else the
  server's zone), so a family in Hanoi gets its own midnight.
- Totals are kept in integer thousandths (DayTotals), so adding and removing meals in any order
  gives exactly what summing them afresh gives: an aggregate updated a thousand times never
  drifts from the rows it stands for.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MEAL_TYPES: Final = ("breakfast", "lunch", "dinner", "snack")
SERVING_TYPES: Final = ("units", "grams")
MAX_SERVING: Final = 10_000
NOTES_MAX: Final = 500
# nutrition is stored to the milligram (and the kcal to a thousandth): finer is noise
_PLACES = 3
_SCALE = 1000
NUTRIENTS: Final = ("protein_g", "fat_g", "moisture_g", "carbohydrate_g")


# ---- nutrition -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FoodFacts:
    """What a food's row says per 100 g (storage/meals.py reads it from `foods`)."""

    unit_weight_g: float
    calories_per_100g: float
    protein_percentage: float
    fat_percentage: float
    moisture_percentage: float
    carbohydrate_percentage: float

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> FoodFacts:
        return cls(**{f.name: float(row[f.name]) for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class Nutrition:
    actual_weight_g: float
    calories: float
    protein_g: float
    fat_g: float
    moisture_g: float
    carbohydrate_g: float


def nutrition(food: FoodFacts, serving_type: str, serving_amount: float) -> Nutrition:
    """What `serving_amount` of `food` (in grams, or in the food's units) comes to."""
    if serving_type not in SERVING_TYPES:
        raise ValueError(f"serving_type {serving_type!r}")
    grams = serving_amount if serving_type == "grams" else serving_amount * food.unit_weight_g
    per_gram = grams / 100
    return Nutrition(
        actual_weight_g=round(grams, _PLACES),
        calories=round(food.calories_per_100g * per_gram, _PLACES),
        protein_g=round(food.protein_percentage * per_gram, _PLACES),
        fat_g=round(food.fat_percentage * per_gram, _PLACES),
        moisture_g=round(food.moisture_percentage * per_gram, _PLACES),
        carbohydrate_g=round(food.carbohydrate_percentage * per_gram, _PLACES),
    )


# ---- days and zones ------------------------------------------------------------------------


def valid_zone(name: str) -> bool:
    """An IANA zone name zoneinfo knows (PostgreSQL ships the same database)."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def server_zone() -> str:
    """The server's own zone, as an IANA name: what the reference's day follows (its server's
    local date). TZ when it names a zone, else /etc/timezone or /etc/localtime's link, else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    return next((name for name in candidates if valid_zone(name)), "UTC")


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(ts: float, zone: str) -> date:
    """The local date of Unix time `ts` in `zone`."""
    return datetime.fromtimestamp(ts, _zone(zone)).date()


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day in UTC (23 or 25 hours long on a DST change)."""
    tz = _zone(zone)
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


# ---- what an aggregate holds of a meal, and a day's totals ---------------------------------


@dataclass(frozen=True, slots=True)
class MealEntry:
    """A meal as today's view shows it and the aggregates count it (storage/meals.py's
    ENTRY_COLUMNS, one row each)."""

    id: int
    pet_id: int
    pet_name: str
    fed_at: float  # Unix time
    meal_type: str | None
    food_id: int
    food_name: str
    fed_by: int | None
    fed_by_name: str
    actual_weight_g: float
    calories: float
    protein_g: float
    fat_g: float
    moisture_g: float
    carbohydrate_g: float

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> MealEntry:
        fed_at = row["fed_at"]
        return cls(
            id=int(row["id"]),
            pet_id=int(row["pet_id"]),
            pet_name=row["pet_name"],
            fed_at=fed_at.timestamp() if isinstance(fed_at, datetime) else float(fed_at),
            meal_type=row["meal_type"],
            food_id=int(row["food_id"]),
            food_name=row["food_name"],
            fed_by=row["fed_by"],
            fed_by_name=row["fed_by_name"] or "",
            actual_weight_g=float(row["actual_weight_g"]),
            calories=float(row["calories"]),
            protein_g=float(row["protein_g"]),
            fat_g=float(row["fat_g"]),
            moisture_g=float(row["moisture_g"]),
            carbohydrate_g=float(row["carbohydrate_g"]),
        )


def _milli(value: float) -> int:
    return round(value * _SCALE)


@dataclass(slots=True)
class DayTotals:
    """One day's running totals for a pet or a group, in thousandths (exact under add/remove)."""

    meals: int = 0
    weight_m: int = 0
    calories_m: int = 0
    nutrients_m: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NUTRIENTS, 0))
    by_type: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEAL_TYPES, 0))
    # meals per pet: how many different pets were fed (a group's `pets_fed_count`)
    per_pet: dict[int, int] = field(default_factory=dict)

    def add(self, entry: MealEntry, sign: int = 1) -> None:
        self.meals += sign
        self.weight_m += sign * _milli(entry.actual_weight_g)
        self.calories_m += sign * _milli(entry.calories)
        for name in NUTRIENTS:
            self.nutrients_m[name] += sign * _milli(getattr(entry, name))
        if entry.meal_type in self.by_type:
            self.by_type[entry.meal_type] += sign
        n = self.per_pet.get(entry.pet_id, 0) + sign
        if n > 0:
            self.per_pet[entry.pet_id] = n
        else:
            self.per_pet.pop(entry.pet_id, None)

    def remove(self, entry: MealEntry) -> None:
        self.add(entry, -1)

    @classmethod
    def of(cls, entries: Iterable[MealEntry]) -> DayTotals:
        totals = cls()
        for entry in entries:
            totals.add(entry)
        return totals

    def public(self) -> dict[str, Any]:
        """Plain numbers (kcal and grams to two places), ready for either vocabulary."""
        return {
            "meals": self.meals,
            "calories": round(self.calories_m / _SCALE, 2),
            "weight_g": round(self.weight_m / _SCALE, 2),
            **{name: round(value / _SCALE, 2) for name, value in self.nutrients_m.items()},
            "by_type": dict(self.by_type),
            "pets_fed": len(self.per_pet),
        }


def target_percentage(calories: float, target: int | None) -> float | None:
    """Calories as a percentage of the pet's daily target (None without a target)."""
    if not target or target <= 0:
        return None
    return round(calories * 100 / target, 1)
