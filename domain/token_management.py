"""Personal access tokens a person manages: which kinds, which permissions, which rows.

000's token endpoints (`/api/user/api-tokens`) and the /developer page manage the same tokens with
the same permission list; the GPT bridge grants all of them. The other kinds ('login', 'oauth',
'tenant') belong to their sign-in flows and are never listed or changed here.
"""

from __future__ import annotations

import asyncpg

from domain.errors import NotFound
from storage import tokens as tokens_sql

# Jetstream's permission list, in its order: clients render the checkboxes from it.
AVAILABLE_PERMISSIONS = (
    "pet:read",
    "pet:write",
    "health:read",
    "health:write",
    "profile:read",
    "create",
    "read",
    "update",
    "delete",
)
DEFAULT_PERMISSIONS = ("read",)
# What a person manages on /developer; 'login', 'oauth' and 'tenant' tokens belong to their flows.
MANAGED_KINDS = frozenset({"api", "gpt"})


def valid_permissions(given: list[str]) -> list[str]:
    """The known permissions among `given`, in the order given, each once; unknown ones dropped."""
    seen: list[str] = []
    for p in given:
        if p in AVAILABLE_PERMISSIONS and p not in seen:
            seen.append(p)
    return seen


async def managed_tokens(pool: asyncpg.Pool, user_id: int) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        rows = await tokens_sql.list_for_user(conn, user_id)
    return [r for r in rows if r["kind"] in MANAGED_KINDS]


async def managed_token(conn: asyncpg.Connection, user_id: int, token_id: int) -> asyncpg.Record:
    """The caller's own managed token; 404 for unknown ids and other people's tokens alike."""
    row = await tokens_sql.get_for_user(conn, user_id, token_id)
    if row is None or row["kind"] not in MANAGED_KINDS:
        raise NotFound()
    return row
