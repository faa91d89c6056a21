"""What every 000 health-record route shares: who may read or write, the pet-type gate, input
rules that Laravel's validator applies (empty strings are null, dates, numbers) and record dates.
The rules themselves (roles, the pet-type gate) are domain/pet_access.py's.

Order of checks, as the reference runs them: authentication and the token's ability (route
middleware), the pet (404, deleted pets included), the record id's shape (404), the pet policy
(403), the pet-type gate (422), then the record within the pet (404).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationInfo, WithJsonSchema, model_validator

from domain import pet_access
from domain.errors import Forbidden, Invalid
from domain.pet_access import PetAccess, RecordKind
from gateway.kernel.auth.guards import has_ability, require_abilities
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.keys import pool_key

# A token may read health records with the generic `read` or the domain-scoped `health:read`.
READ_ABILITIES = ("read", "health:read")
INVALID = "The given data was invalid."


@asynccontextmanager
async def open_pet(
    request: web.Request, kind: RecordKind, *, ability: str | None, record: str | None = None
) -> AsyncIterator[tuple[asyncpg.Connection, PetAccess, int]]:
    """A connection, the caller's access to the route's pet (every check passed) and the id in
    the route's `record` segment (0 without one).

    `ability=None` is a read: anonymous callers get as far as the policy (403, they are neither
    owner nor editor); tokens need `read` or `health:read`; sessions pass. Otherwise a write: 401
    anonymous, the named ability for tokens, owner or editor.
    """
    if ability is None:
        identity = identity_of(request)
        if identity.authenticated and not has_ability(identity, *READ_ABILITIES):
            raise Forbidden(
                "This personal access token does not have the required read ability.",
                code="missing_ability",
                meta={"required": list(READ_ABILITIES)},
            )
    else:
        identity = require_abilities(request, ability)
    pet_id = pet_access.parse_id(request.match_info["pet"])
    async with request.config_dict[pool_key].acquire() as conn:
        access = await pet_access.load(conn, pet_id, identity.user_id, is_admin=identity.is_admin)
        rid = pet_access.parse_id(request.match_info[record]) if record else 0
        if ability is None:
            access.require_records(kind)
        else:
            access.require_edit()
        access.require_feature(kind)
        yield conn, access, rid


# ---- input rules -------------------------------------------------------------------------------


def today() -> date:
    # the reference's app timezone is UTC, so "today" for before_or_equal:today is the UTC date
    return datetime.now(UTC).date()


def _label(field: str) -> str:
    return field.replace("_", " ")


def field_of(info: ValidationInfo) -> str:
    """The field a field validator is validating (pydantic types it optional: a model validator's
    info has none)."""
    assert info.field_name is not None
    return info.field_name


def parse_date(value: Any, field: str) -> date | None:
    """Laravel's `date` rule for the shapes clients send: Y-m-d or an ISO 8601 date-time."""
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise ValueError(f"The {_label(field)} field must be a valid date.")


def not_future(value: date | None, field: str) -> date | None:
    if value is not None and value > today():
        raise ValueError(f"The {_label(field)} field must be a date before or equal to today.")
    return value


def parse_number(value: Any, field: str) -> float | None:
    """Laravel's `numeric`: numbers and numeric strings; never booleans, NaN or infinities."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"The {_label(field)} field must be a number.")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            # float() reads any Unicode digits ("１２.５" is 12.5); a number is spelt in ASCII
            number = float(text) if text.isascii() and "_" not in text else math.nan
        except ValueError:
            number = math.nan
    else:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"The {_label(field)} field must be a number.")
    return number


class HealthIn(BaseModel):
    """Base of the record bodies: unknown fields ignored, strings trimmed and empty ones null
    (Laravel's TrimStrings and ConvertEmptyStringsToNull), and a null required field counts as
    missing ("is required")."""

    model_config = ConfigDict(extra="ignore")
    required_fields: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _empty_is_null(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned = {k: ((v.strip() or None) if isinstance(v, str) else v) for k, v in data.items()}
        for name in cls.required_fields:
            if name in cleaned and cleaned[name] is None:
                del cleaned[name]
        return cleaned

    def changes(self, *, required: tuple[str, ...] = ()) -> dict[str, Any]:
        """The fields an update sent ("sometimes"): a sent-but-null required field is a 422."""
        sent = {name: getattr(self, name) for name in self.model_fields_set}
        missing = {n: [f"The {_label(n)} field is required."] for n in required if n in sent and sent[n] is None}
        if missing:
            raise Invalid(INVALID, fields=missing)
        return sent


def invalid(field: str, message: str) -> Invalid:
    return Invalid(INVALID, fields={field: [message]})


# ---- output ------------------------------------------------------------------------------------


def moment(value: datetime) -> str:
    """Laravel's JSON timestamps: `2025-01-02T03:04:05.000000Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# A record's timestamps on the wire, as Laravel's JSON writes them.
LaravelTime = Annotated[
    datetime,
    PlainSerializer(moment, return_type=str),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "description": "UTC, microseconds: 2025-01-02T03:04:05.000000Z"}
    ),
]


class RecordPublic(BaseModel):
    """Base of the record models: exactly their fields, each a column of the kind's table."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Self:
        return cls.model_validate({name: row[name] for name in cls.model_fields})


class PageLinks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first: str
    last: str
    prev: str | None
    next: str | None


class PageMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_page: int
    from_: int | None = Field(alias="from", description="The first item's position; null on an empty page.")
    last_page: int
    per_page: int
    to: int | None = Field(description="The last item's position; null on an empty page.")
    total: int
    path: str = Field(description="The list's absolute URL, without the query.")


R = TypeVar("R", bound=RecordPublic)


class RecordPage(BaseModel, Generic[R]):
    """Laravel's length-aware paginator (gateway/kernel/pagination.py): 25 records a page, links
    carrying only `?page=N`."""

    model_config = ConfigDict(extra="forbid")

    data: list[R]
    links: PageLinks
    meta: PageMeta
