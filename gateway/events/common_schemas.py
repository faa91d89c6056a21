"""Shapes every 001 answer shares: the wire time, `{data: ...}` around one resource or a list, and
the paginator's `{data, links, meta}` (gateway/events/pagination.py renders it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from gateway.kernel.timeutil import iso_z

T = TypeVar("T")

# What iso_z writes: UTC, whole seconds, a `Z` (never an offset, never fractions).
Moment = Annotated[
    datetime,
    PlainSerializer(iso_z, return_type=str),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2025-11-28T12:34:56Z"]}, mode="serialization"
    ),
]


def no_default(schema: dict[str, Any]) -> None:
    """`json_schema_extra` of a field that is absent rather than null: its None default is how the
    model says "absent", not a value the wire carries."""
    schema.pop("default", None)


def _name(params: tuple[Any, ...], suffix: str) -> str:
    inner = params[0]
    return f"{getattr(inner, '__name__', str(inner))}{suffix}"


class Item(BaseModel, Generic[T]):
    """`{data: <one resource>}`."""

    data: T

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return _name(params, "Item")  # component names must be plain words, not `Item[X]`


class Items(BaseModel, Generic[T]):
    """`{data: [<resources>]}`, not paginated."""

    data: list[T]

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return _name(params, "List")


class PageLinks(BaseModel):
    """Absolute URLs; `per_page` and any filter are kept in them."""

    first: str
    last: str
    prev: str | None
    next: str | None


class PageMeta(BaseModel):
    current_page: int
    from_: int | None = Field(alias="from", description="Position of the first item on this page; null when empty.")
    last_page: int
    per_page: int
    to: int | None = Field(description="Position of the last item on this page; null when empty.")
    total: int
    path: str


class Page(BaseModel, Generic[T]):
    """Laravel's length-aware paginator (`?page=&per_page=`, per_page at most 100)."""

    data: list[T]
    links: PageLinks
    meta: PageMeta

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return _name(params, "Page")


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def dump_all(models: Iterable[BaseModel]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json", by_alias=True) for m in models]
