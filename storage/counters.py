"""Durable totals of the counter shard actors (one writer per key: its owning shard)."""

from __future__ import annotations

import asyncpg


async def load(conn: asyncpg.Connection, kind: str, keys: list[str]) -> dict[str, int]:
    rows = await conn.fetch(
        "select key, value from actor_counters where kind = $1 and key = any($2::text[])", kind, keys
    )
    return {r["key"]: r["value"] for r in rows}


async def save(conn: asyncpg.Connection, kind: str, writes: list[tuple[str, int]]) -> None:
    # Absolute values, not deltas: re-saving the same batch after a retry is harmless.
    await conn.execute(
        """
        insert into actor_counters (kind, key, value)
        select $1, w.key, w.value from unnest($2::text[], $3::bigint[]) as w(key, value)
        on conflict (kind, key) do update set value = excluded.value, updated_at = now()
        """,
        kind,
        [k for k, _ in writes],
        [v for _, v in writes],
    )


async def prune_stale(conn: asyncpg.Connection, kind: str, older_than_days: int) -> int:
    """Delete a kind's rows untouched for that many days (keys of past periods, e.g. quota days)."""
    status = await conn.execute(
        "delete from actor_counters where kind = $1 and updated_at < now() - make_interval(days => $2)",
        kind,
        older_than_days,
    )
    return int(status.split()[-1])
