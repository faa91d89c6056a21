"""Request bodies of 000's pet endpoints (Laravel-worded 422 messages via gateway.kernel.validation)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from domain.errors import Invalid
from domain.inputs import parse_int
from gateway.kernel.validation import optional_description, trimmed_name
from storage.pets import utc_today

NAME_MAX = 255
# 000's description limit (the column's check allows the same)
DESCRIPTION_MAX = 5000
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")

Sex = Literal["male", "female", "not_specified"]
# `deleted` is reachable only through DELETE /api/pets/{pet}
SettableStatus = Literal["active", "lost", "deceased"]


def _name(value: Any) -> Any:
    return trimmed_name(value, NAME_MAX)


def _country(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("The country must be a string.")
    if not value.strip():
        raise ValueError("The country field is required.")
    if not _COUNTRY.match(value.strip()):
        raise ValueError("The country must be a 2-letter ISO 3166-1 alpha-2 code.")
    return value.strip().upper()


def _birthday(value: Any) -> Any:
    """A date (Y-m-d, or an ISO datetime whose date part counts) not after today (UTC)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("The birthday is not a valid date.")
    text = value.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            day = datetime.fromisoformat(text).date()
        except ValueError:
            raise ValueError("The birthday is not a valid date.") from None
    if day > utc_today():
        raise ValueError("The birthday must be a date before or equal to today.")
    return day


def _description(value: Any) -> Any:
    return optional_description(value, DESCRIPTION_MAX)


def _type_id(value: Any) -> Any:
    # pydantic's lax int would take `true` as 1 (the cat type) and 2.0 as 2
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("The pet type id must be an integer.")
    if isinstance(value, str):
        number = parse_int(value.strip())
        if number is None:
            raise ValueError("The pet type id must be an integer.")
        return number
    return value


def _required(check, field: str):
    def validator(value: Any) -> Any:
        if value is None:
            raise ValueError(f"The {field} field is required.")
        return check(value)

    return validator


Name = Annotated[str | None, BeforeValidator(_name)]
Country = Annotated[str | None, BeforeValidator(_country)]
Birthday = Annotated[date | None, BeforeValidator(_birthday)]
Description = Annotated[str | None, BeforeValidator(_description)]
PetTypeId = Annotated[int | None, BeforeValidator(_type_id)]


class PetCreate(BaseModel):
    name: Annotated[str, BeforeValidator(_required(_name, "name"))]
    country: Annotated[str, BeforeValidator(_required(_country, "country"))]
    birthday: Birthday = None
    description: Description = None
    # absent or null: the cat type (000's default)
    pet_type_id: PetTypeId = None
    sex: Sex = "not_specified"


class PetUpdate(BaseModel):
    """PUT changes only the fields it is given; `birthday` and `description` may be cleared with
    null, the others may not be null."""

    name: Name = None
    country: Country = None
    birthday: Birthday = None
    description: Description = None
    pet_type_id: PetTypeId = None
    sex: Sex | None = None

    def changes(self) -> dict[str, Any]:
        given = {name: getattr(self, name) for name in self.model_fields_set}
        _require(self, tuple(n for n in ("name", "country", "pet_type_id", "sex") if n in given))
        return given


class PetStatusIn(BaseModel):
    status: SettableStatus


def _require(model: BaseModel, names: tuple[str, ...]) -> None:
    missing = [n for n in names if getattr(model, n) is None]
    if missing:
        raise Invalid(fields={n: [f"The {n.replace('_', ' ')} field is required."] for n in missing})


class MyPetsQuery(BaseModel):
    """GET /api/my-pets' query (documentation only: the handler reads it directly, a hot path)."""

    pet_type: str | None = Field(
        default=None, description="A pet type's slug: only pets of that type; an unknown slug lists none."
    )
