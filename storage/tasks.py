"""The task and emotion library: global rows (tenant_id null) and a tenant's own, the tenant's
overrides of global tasks, and the tasks scoped to one event.

Every query takes the tenant id and reads only global rows and that tenant's own, so one tenant's
tasks, emotions and overrides never reach another.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from domain.errors import Conflict, Invalid
from storage.errors import domain_errors

# -- emotions -------------------------------------------------------------------------------------

_EMOTION_COLUMNS = "id, tenant_id, slug, name, emoji, sort_order, created_at"
# global ones first (the catalogue everyone shares), then the tenant's own, each in its own order
_EMOTION_ORDER = " order by tenant_id is not null, sort_order, id"


async def emotions_page(
    conn: asyncpg.Connection, tenant_id: int, *, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    rows = await conn.fetch(
        f"select {_EMOTION_COLUMNS} from emotions where tenant_id is null or tenant_id = $1"
        + _EMOTION_ORDER
        + " limit $2 offset $3",
        tenant_id,
        limit,
        offset,
    )
    total = await conn.fetchval("select count(*) from emotions where tenant_id is null or tenant_id = $1", tenant_id)
    return rows, total


async def emotions_for_tenant(conn: asyncpg.Connection, tenant_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"select {_EMOTION_COLUMNS} from emotions where tenant_id is null or tenant_id = $1" + _EMOTION_ORDER,
        tenant_id,
    )


async def emotion_for_tenant(conn: asyncpg.Connection, tenant_id: int, emotion_id: int) -> asyncpg.Record | None:
    """A global emotion or one of the tenant's own; None for another tenant's or a missing one."""
    return await conn.fetchrow(
        f"select {_EMOTION_COLUMNS} from emotions where id = $2 and (tenant_id is null or tenant_id = $1)",
        tenant_id,
        emotion_id,
    )


async def create_emotion(
    conn: asyncpg.Connection, tenant_id: int, *, slug: str, name: str, emoji: str | None, sort_order: int
) -> asyncpg.Record:
    """The tenant's own emotion. Its slug may name neither a global emotion nor another of its own
    (guests would see two of the same); either is a 422 on `slug`."""
    taken = await conn.fetchval(
        "select exists (select 1 from emotions where slug = $2 and (tenant_id is null or tenant_id = $1))",
        tenant_id,
        slug,
    )
    try:
        if taken:
            raise Conflict(code="already_exists")
        with domain_errors():
            return await conn.fetchrow(
                f"""
                insert into emotions (tenant_id, slug, name, emoji, sort_order) values ($1, $2, $3, $4, $5)
                returning {_EMOTION_COLUMNS}
                """,
                tenant_id,
                slug,
                name,
                emoji,
                sort_order,
            )
    except Conflict as exc:
        message = "The slug has already been taken."
        raise Invalid(fields={"slug": [message]}) from exc


async def delete_own_emotion(conn: asyncpg.Connection, tenant_id: int, emotion_id: int) -> bool:
    return await conn.fetchval(
        "delete from emotions where id = $2 and tenant_id = $1 returning true", tenant_id, emotion_id
    ) is True


# -- the task library -----------------------------------------------------------------------------

# A task as the tenant sees it: a global one with the tenant's override applied (an override's
# null title/description means "as in the library"; an empty description is a deliberate blank).
_TASK_COLUMNS = """
    t.id, t.tenant_id, coalesce(o.title, t.title) as title, coalesce(o.description, t.description) as description,
    t.emotion_id, t.sort_order, coalesce(o.hidden, false) as hidden, o.task_id is not null as overridden,
    t.created_at, greatest(t.updated_at, o.updated_at) as updated_at
"""
_LIBRARY = """
    from tasks t left join tenant_task_overrides o on o.task_id = t.id and o.tenant_id = $1
    where (t.tenant_id is null or t.tenant_id = $1)
"""
_TASK_ORDER = " order by t.tenant_id is not null, t.sort_order, t.id"


async def library_page(
    conn: asyncpg.Connection, tenant_id: int, *, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """The tenant's effective library, hidden global tasks included (flagged)."""
    rows = await conn.fetch(
        "select " + _TASK_COLUMNS + _LIBRARY + _TASK_ORDER + " limit $2 offset $3", tenant_id, limit, offset
    )
    total = await conn.fetchval("select count(*) from tasks where tenant_id is null or tenant_id = $1", tenant_id)
    return rows, total


async def library_task(conn: asyncpg.Connection, tenant_id: int, task_id: int) -> asyncpg.Record | None:
    """A global task (as overridden) or one of the tenant's own; None for another tenant's."""
    return await conn.fetchrow("select " + _TASK_COLUMNS + _LIBRARY + " and t.id = $2", tenant_id, task_id)


async def create_task(
    conn: asyncpg.Connection,
    tenant_id: int,
    *,
    title: str,
    description: str | None,
    emotion_id: int | None,
    sort_order: int,
) -> asyncpg.Record:
    with domain_errors():
        task_id = await conn.fetchval(
            """
            insert into tasks (tenant_id, title, description, emotion_id, sort_order)
            values ($1, $2, $3, $4, $5) returning id
            """,
            tenant_id,
            title,
            description,
            emotion_id,
            sort_order,
        )
    return await library_task(conn, tenant_id, task_id)


# columns a tenant may change on its own task
OWN_TASK_FIELDS = frozenset({"title", "description", "emotion_id", "sort_order"})


async def update_own_task(conn: asyncpg.Connection, tenant_id: int, task_id: int, fields: dict[str, Any]) -> None:
    unknown = set(fields) - OWN_TASK_FIELDS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if not fields:
        return
    names = sorted(fields)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=3))
    with domain_errors():
        await conn.execute(
            f"update tasks set {assignments}, updated_at = now() where id = $2 and tenant_id = $1",
            tenant_id,
            task_id,
            *(fields[n] for n in names),
        )


async def override_global_task(conn: asyncpg.Connection, tenant_id: int, task_id: int, fields: dict[str, Any]) -> None:
    """Upsert the tenant's override of a global task: only the fields given change (title,
    description); whether it is hidden stays as it was."""
    with domain_errors():
        await conn.execute(
            """
            insert into tenant_task_overrides (tenant_id, task_id, title, description)
            select $1, t.id, $3, $4 from tasks t where t.id = $2 and t.tenant_id is null
            on conflict (tenant_id, task_id) do update set
                title = case when $5 then excluded.title else tenant_task_overrides.title end,
                description = case when $6 then excluded.description else tenant_task_overrides.description end,
                updated_at = now()
            """,
            tenant_id,
            task_id,
            fields.get("title"),
            fields.get("description"),
            "title" in fields,
            "description" in fields,
        )


async def hide_global_task(conn: asyncpg.Connection, tenant_id: int, task_id: int) -> None:
    await conn.execute(
        """
        insert into tenant_task_overrides (tenant_id, task_id, hidden)
        select $1, t.id, true from tasks t where t.id = $2 and t.tenant_id is null
        on conflict (tenant_id, task_id) do update set hidden = true, updated_at = now()
        """,
        tenant_id,
        task_id,
    )


async def drop_override(conn: asyncpg.Connection, tenant_id: int, task_id: int) -> None:
    await conn.execute("delete from tenant_task_overrides where tenant_id = $1 and task_id = $2", tenant_id, task_id)


async def delete_own_task(conn: asyncpg.Connection, tenant_id: int, task_id: int) -> bool:
    deleted = await conn.fetchval(
        "delete from tasks where id = $2 and tenant_id = $1 returning true", tenant_id, task_id
    )
    return deleted is True


async def usable_task_ids(conn: asyncpg.Connection, tenant_id: int, task_ids: list[int]) -> set[int]:
    """Those of `task_ids` an event of this tenant may offer: global or its own, and not hidden."""
    rows = await conn.fetch(
        "select t.id" + _LIBRARY + " and t.id = any($2::bigint[]) and not coalesce(o.hidden, false)",
        tenant_id,
        task_ids,
    )
    return {r["id"] for r in rows}


# -- event scoping ---------------------------------------------------------------------------------


async def event_is_scoped(conn: asyncpg.Connection, event_id: int) -> bool:
    return await conn.fetchval("select exists (select 1 from event_tasks where event_id = $1)", event_id)


# What an event offers ($1 tenant, $2 event): its scoped tasks, or (none scoped) the tenant's whole
# library; hidden ones left out either way.
_OFFERED = """
    with scoped as (select task_id, sort_order from event_tasks where event_id = $2)
    select {columns}
    from tasks t
    left join tenant_task_overrides o on o.task_id = t.id and o.tenant_id = $1
    left join scoped s on s.task_id = t.id
    where (t.tenant_id is null or t.tenant_id = $1)
      and not coalesce(o.hidden, false)
      and (s.task_id is not null or not exists (select 1 from scoped))
"""


async def event_tasks(conn: asyncpg.Connection, tenant_id: int, event_id: int) -> list[asyncpg.Record]:
    """What the event offers, scoped ones in their order, overrides applied."""
    return await conn.fetch(
        _OFFERED.format(columns=_TASK_COLUMNS) + " order by s.sort_order, t.tenant_id is not null, t.sort_order, t.id",
        tenant_id,
        event_id,
    )


async def event_offers_task(conn: asyncpg.Connection, tenant_id: int, event_id: int, task_id: int) -> bool:
    """Whether a guest's photo may be for this task (the same rule as the list guests see)."""
    return await conn.fetchval(
        "select exists (" + _OFFERED.format(columns="1") + " and t.id = $3)", tenant_id, event_id, task_id
    )


async def set_event_tasks(conn: asyncpg.Connection, event_id: int, task_ids: list[int]) -> None:
    """Replace the event's scoped list (in the given order); the caller holds a transaction."""
    await conn.execute("delete from event_tasks where event_id = $1", event_id)
    if task_ids:
        with domain_errors():
            await conn.execute(
                """
                insert into event_tasks (event_id, task_id, sort_order)
                select $1, id, ord from unnest($2::bigint[]) with ordinality as v(id, ord)
                """,
                event_id,
                task_ids,
            )
