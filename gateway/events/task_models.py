"""Request bodies of the emotion and task routes (gateway/events/tasks.py), limits as the columns',
and their response models."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints, field_validator

from gateway.events.common_schemas import Moment, no_default
from gateway.kernel.fields import blank_is_none

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# bigint's range: a larger id names nothing and must fail validation, not overflow in the database
MAX_ID = 2**63 - 1
# sort orders are small integers in practice; bounded so one can never overflow the column
SORT_MIN, SORT_MAX = -1_000_000, 1_000_000
# more than any event offers; bounds the work one request can ask for
MAX_EVENT_TASKS = 500


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(
            "The slug may only contain lowercase letters, digits and dashes, "
            "start with a letter or digit, and be at most 63 characters."
        )
    return value


Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_slug)]
EmotionName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Emoji = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)] | None, BeforeValidator(blank_is_none)
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
SortOrder = Annotated[int, Field(ge=SORT_MIN, le=SORT_MAX)]


class EmotionCreate(BaseModel):
    slug: Slug
    name: EmotionName
    emoji: Emoji = None
    sort_order: SortOrder = 0


class TaskCreate(BaseModel):
    title: Title
    description: Description = None
    emotion_id: Id | None = None
    sort_order: SortOrder = 0


class TaskUpdate(BaseModel):
    """Only the fields sent change (see `model_fields_set`); a title or sort order cannot be null.
    `description: null` clears it (on a global task: back to the library's)."""

    # a placeholder for "not sent" (model_fields_set says which were), never a value to document
    title: Title = Field(default="", json_schema_extra=no_default)
    description: Description = None
    emotion_id: Id | None = None
    sort_order: SortOrder = 0


class EventTasksIn(BaseModel):
    task_ids: list[Id] = Field(max_length=MAX_EVENT_TASKS)

    @field_validator("task_ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("The task ids must be distinct.")
        return value


# -- responses ------------------------------------------------------------------------------------

Source = Literal["global", "tenant"]
_SOURCE = "`global`: the shared library's (read-only but for the tenant's override); `tenant`: the tenant's own."


def _source(row: Mapping[str, Any]) -> str:
    return "global" if row["tenant_id"] is None else "tenant"


class EmotionPublic(BaseModel):
    id: int
    slug: str
    name: str
    emoji: str | None
    sort_order: int
    source: Source = Field(description=_SOURCE)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EmotionPublic:
        return cls.model_validate({**row, "source": _source(row)})


class TaskPublic(BaseModel):
    """A library task as the tenant sees it (a global one with the tenant's override applied)."""

    id: int
    title: str
    description: str | None
    emotion_id: int | None
    sort_order: int
    source: Source = Field(description=_SOURCE)
    hidden: bool = Field(description="A global task the tenant hid from its events.")
    overridden: bool = Field(description="A global task whose title or description the tenant changed.")
    created_at: Moment
    updated_at: Moment

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TaskPublic:
        return cls.model_validate({**row, "source": _source(row)})


class EventTasksMeta(BaseModel):
    scoped: bool = Field(description="false: the event has no list of its own and offers the whole library.")


class EventTasks(BaseModel):
    """The tasks an event offers, in order."""

    data: list[TaskPublic]
    meta: EventTasksMeta


class GuestTaskPublic(BaseModel):
    id: int
    title: str
    description: str | None
    emotion_id: int | None
    sort_order: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GuestTaskPublic:
        return cls.model_validate(dict(row))


class GuestEmotionPublic(BaseModel):
    id: int
    slug: str
    name: str
    emoji: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GuestEmotionPublic:
        return cls.model_validate(dict(row))
