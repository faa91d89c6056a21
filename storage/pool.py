"""The asyncpg pool, with JSON codecs registered once per connection."""

from __future__ import annotations

import asyncpg
import orjson


def _encode_json(value) -> str:
    return orjson.dumps(value).decode()


async def init_connection(conn: asyncpg.Connection) -> None:
    # jsonb and json both round-trip Python values; orjson because the feeds and job payloads are hot.
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, schema="pg_catalog", encoder=_encode_json, decoder=orjson.loads, format="text"
        )


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        # statement cache stays on: every query here is a fixed string with $n parameters
        command_timeout=60,
    )


async def connect(dsn: str) -> asyncpg.Connection:
    """A single connection with the same codecs, for Ray tasks and actors that need one briefly."""
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    return conn
