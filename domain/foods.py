"""002's foods: each group's shared food database, with the reference's rules and words.

- Every member of a group (creator, member, viewer) reads its foods; creators and members add,
  change and delete them, viewers cannot. Someone outside the group gets a 403 for the group and
  for any of its foods (the reference's status; a food id that names nothing, or a deleted food,
  is a 404 "Food not found").
- Protein, fat, moisture and carbohydrate percentages may sum to at most 105 (5 points of
  tolerance for how labels round); more is a 400. An update is checked on the food as it will be.
- `calories_per_unit` is calories per 100 g x unit weight / 100, computed by PostgreSQL
  (a generated column), so meals read the same figure.
- Deleting is soft: the food answers 404 from then on, and meals logged from it keep their rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import asyncpg

from domain.errors import BadRequest, Forbidden, NotFound
from domain.inputs import parse_positive_int
from storage import foods as foods_sql
from storage import groups as groups_sql
from storage.errors import domain_errors

FOOD_TYPES: Final = ("dry_food", "wet_food")
TARGET_PETS: Final = ("dog", "cat", "bird", "fish", "rabbit", "other")
PERCENTAGES: Final = ("protein_percentage", "fat_percentage", "moisture_percentage", "carbohydrate_percentage")
# labels round each figure, so their sum may pass 100 a little (the reference's tolerance)
MAX_PERCENT_TOTAL: Final = Decimal(105)
FOOD_WRITERS: Final = frozenset({"creator", "member"})
# a search box wants the best few; a group's whole database is /foods/list
SEARCH_LIMIT: Final = 100

# a run of letters or digits (\w without the underscore, which the parser splits at)
_WORD: Final = re.compile(r"[^\W_]+")
# a keyword is at most 100 characters; past a few words a search box has said enough
MAX_KEYWORD_WORDS: Final = 10

NOT_MEMBER = "You must be a member of this group to access its food database"


def food_not_found() -> NotFound:
    return NotFound("Food not found", code="food_not_found")


def not_member() -> Forbidden:
    return Forbidden(NOT_MEMBER, code="not_group_member")


def parse_food_id(raw: str) -> int:
    """A path's food id; anything but a positive integer names no food (404)."""
    value = parse_positive_int(raw)
    if value is None:
        raise food_not_found()
    return value


def parse_group_id(raw: str) -> int:
    """A query's group id: one that cannot name a group is 0, which no group has, so it is
    refused as any group the caller is not in."""
    return parse_positive_int(raw) or 0


@dataclass(frozen=True, slots=True)
class Food:
    """A foods row (storage/foods.py's columns: group and creator names, the caller's role)."""

    row: asyncpg.Record

    @property
    def role(self) -> str | None:
        return self.row["user_role"]

    @property
    def label(self) -> str:
        """How the reference's messages name a food: `Brand - Product`."""
        return f"{self.row['brand']} - {self.row['product_name']}"


def keyword_query(keyword: str) -> str | None:
    """The keyword as a prefix tsquery, `word:* & word:*`: each run of letters and digits in it,
    lower-cased, must start a word of the brand or the product name. The 'simple' parser that
    built search_vector splits at the same places (punctuation, `'`, `-`, `_`; a hyphenated word
    also yields its parts), so "Hill's" and "science-diet" find what they say. Only letters and
    digits reach the tsquery, so no keyword can be an operator. None when it has no word."""
    words = _WORD.findall(keyword.lower())[:MAX_KEYWORD_WORDS]
    return " & ".join(f"'{word}':*" for word in words) or None


def check_percentages(values: Mapping[str, Any]) -> None:
    total = sum((Decimal(str(values.get(name) or 0)) for name in PERCENTAGES), Decimal(0))
    if total > MAX_PERCENT_TOTAL:
        raise BadRequest(
            f"Nutritional percentages cannot exceed 100% (total: {total:.1f}%)",
            code="nutrition_over_limit",
            meta={"total": float(total), "max": float(MAX_PERCENT_TOTAL)},
        )


async def _group_role(conn: asyncpg.Connection, group_id: int, user_id: int) -> str:
    role = await groups_sql.role_in(conn, group_id, user_id) if group_id else None
    if role is None:
        raise not_member()
    return role


async def reach(conn: asyncpg.Connection, food_id: int, user_id: int) -> Food:
    """The food and the caller's role in its group: 404 when missing or deleted, 403 outside it."""
    row = await foods_sql.get_for(conn, food_id, user_id)
    if row is None:
        raise food_not_found()
    food = Food(row)
    if food.role is None:
        raise not_member()
    return food


async def reach_for_write(conn: asyncpg.Connection, food_id: int, user_id: int, refusal: str) -> Food:
    """`reach`, and the role to change the food (403 `refusal` for a viewer)."""
    food = await reach(conn, food_id, user_id)
    if food.role not in FOOD_WRITERS:
        raise Forbidden(refusal, code="food_forbidden")
    return food


async def _reload(conn: asyncpg.Connection, food_id: int, user_id: int) -> Food:
    row = await foods_sql.get_for(conn, food_id, user_id)
    if row is None:  # deleted by a concurrent request
        raise food_not_found()
    return Food(row)


async def create(pool: asyncpg.Pool, user_id: int, group_id: int, fields: Mapping[str, Any]) -> Food:
    async with pool.acquire() as conn, conn.transaction():
        role = await _group_role(conn, group_id, user_id)
        if role not in FOOD_WRITERS:
            raise Forbidden("Only group creators and members can add foods to the database", code="food_forbidden")
        check_percentages(fields)
        with domain_errors():
            food_id = await foods_sql.create(conn, group_id, user_id, fields)
        return await _reload(conn, food_id, user_id)


async def in_group(
    pool: asyncpg.Pool, user_id: int, group_id: int, *, food_type: str | None, target_pet: str | None
) -> list[Food]:
    async with pool.acquire() as conn:
        await _group_role(conn, group_id, user_id)
        rows = await foods_sql.in_group(conn, group_id, user_id, food_type=food_type, target_pet=target_pet)
    return [Food(row) for row in rows]


async def search(
    pool: asyncpg.Pool,
    user_id: int,
    group_id: int,
    keyword: str,
    *,
    food_type: str | None,
    target_pet: str | None,
) -> list[Food]:
    async with pool.acquire() as conn:
        await _group_role(conn, group_id, user_id)
        query = keyword_query(keyword)
        if query is None:  # nothing in it to look for: no food matches
            return []
        rows = await foods_sql.search(
            conn, group_id, user_id, query, food_type=food_type, target_pet=target_pet, limit=SEARCH_LIMIT
        )
    return [Food(row) for row in rows]


async def details(pool: asyncpg.Pool, food_id: int, user_id: int) -> Food:
    async with pool.acquire() as conn:
        return await reach(conn, food_id, user_id)


async def update(pool: asyncpg.Pool, food_id: int, user_id: int, fields: Mapping[str, Any]) -> Food:
    """Only the fields given change; the percentages are checked as they will be."""
    async with pool.acquire() as conn, conn.transaction():
        await reach_for_write(conn, food_id, user_id, "You don't have permission to modify this food")
        current = await foods_sql.lock(conn, food_id)
        if current is None:
            raise food_not_found()
        check_percentages({name: fields.get(name, current[name]) for name in PERCENTAGES})
        if fields:
            with domain_errors():
                if not await foods_sql.update(conn, food_id, fields):
                    raise food_not_found()
        return await _reload(conn, food_id, user_id)


async def delete(pool: asyncpg.Pool, food_id: int, user_id: int, now: datetime) -> Food:
    """Soft delete; the food as it was."""
    async with pool.acquire() as conn, conn.transaction():
        food = await reach_for_write(conn, food_id, user_id, "You don't have permission to delete this food")
        if not await foods_sql.soft_delete(conn, food_id, now):
            raise food_not_found()
    return food
