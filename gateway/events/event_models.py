"""Request bodies of the tenant event routes (POST /tenant/events, PUT /tenant/events/{event}).

Fields and limits match 0008's columns, so a body that passes here never trips a CHECK.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator

from domain import events as rules
from domain.errors import Invalid
from gateway.kernel.validation import optional_description, trimmed_name

NAME_MAX = 255
DESCRIPTION_MAX = 5000

Moderation = Literal["auto", "manual"]


def _name(value: Any) -> Any:
    return trimmed_name(value, NAME_MAX)


def _slug(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("The slug must be a string.")
    value = value.strip()
    if not rules.SLUG.fullmatch(value):
        raise ValueError(
            "The slug may only contain lowercase letters, digits and hyphens, must start with a letter or digit "
            f"and may not be greater than {rules.SLUG_MAX} characters."
        )
    return value


def _description(value: Any) -> Any:
    return optional_description(value, DESCRIPTION_MAX)


def _moment(label: str):
    def validator(value: Any) -> Any:
        """An ISO 8601 date-time; one without an offset is taken as UTC. Stored in UTC."""
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError(f"The {label} must be an ISO 8601 date-time string.")
        try:
            moment = datetime.fromisoformat(value.strip())
            if moment.tzinfo is None:
                return moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
        except (ValueError, OverflowError):
            raise ValueError(f"The {label} is not a valid ISO 8601 date-time.") from None

    return validator


def _required_name(value: Any) -> Any:
    if value is None:
        raise ValueError("The name field is required.")
    return _name(value)


Name = Annotated[str | None, BeforeValidator(_name)]
Slug = Annotated[str | None, BeforeValidator(_slug)]
Description = Annotated[str | None, BeforeValidator(_description)]
StartsAt = Annotated[datetime | None, BeforeValidator(_moment("starts at"))]
EndsAt = Annotated[datetime | None, BeforeValidator(_moment("ends at"))]


class EventCreate(BaseModel):
    name: Annotated[str, BeforeValidator(_required_name)]
    # absent: derived from the name (and numbered if the tenant already uses it)
    slug: Slug = None
    description: Description = None
    starts_at: StartsAt = None
    ends_at: EndsAt = None
    moderation: Moderation = "auto"

    def fields(self) -> dict[str, Any]:
        return self.model_dump()


class EventUpdate(BaseModel):
    """PUT changes only the fields it is given; description, starts_at and ends_at may be cleared
    with null, the others may not be null."""

    name: Name = None
    slug: Slug = None
    description: Description = None
    starts_at: StartsAt = None
    ends_at: EndsAt = None
    moderation: Moderation | None = None

    def changes(self) -> dict[str, Any]:
        given = {name: getattr(self, name) for name in self.model_fields_set}
        missing = [n for n in ("name", "slug", "moderation") if n in given and given[n] is None]
        if missing:
            raise Invalid(fields={n: [f"The {n} field is required."] for n in missing})
        return given
