"""Events (001): a tenant's CRUD, publish and archive, and the guests' lookup by token.

Every tenant function takes the caller's tenant_id and filters on it, so another tenant's event
is simply not found. Rows come back with the limits the views need (`gallery_days`, `photo_limit`:
the package's, or the tenant's lower choice) and, for guests, the tenant's `theme`, logo and links.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

import asyncpg

from domain import events as rules
from storage.errors import domain_errors

# events.id is a bigserial; a larger id cannot exist and would overflow the parameter
MAX_ID = 2**63 - 1
# the unique (tenant_id, slug) constraint as PostgreSQL names it in 0008
SLUG_CONSTRAINT = "events_tenant_id_slug_key"
# numbered alternatives tried for a slug derived from the name before falling back to a random one
SLUG_ALTERNATIVES = 50
# the columns a PUT may change; anything else in `changes` is a caller bug
UPDATABLE = frozenset({"name", "slug", "description", "starts_at", "ends_at", "moderation"})

# The limits are the package's, or the tenant's lower choice (tenant_settings, 0016; least()
# skips a null, so no choice is the package's figure). The logo and legal links are the guests'.
_JOINED = """
    select e.*, least(p.gallery_days, s.gallery_days) as gallery_days,
           least(p.photo_limit, s.photo_limit) as photo_limit, t.theme, t.name as tenant_name,
           s.logo_key, s.imprint_url, s.privacy_url, s.terms_url
    from {source} e
    join tenants t on t.id = e.tenant_id
    join packages p on p.id = t.package_id
    left join tenant_settings s on s.tenant_id = t.id
"""


def _joined(source: str = "events") -> str:
    return _JOINED.format(source=source)


@contextlib.contextmanager
def _slug_guard(slug: str) -> Iterator[None]:
    """A duplicate (tenant_id, slug) is the client's `slug_taken`, whoever won the race."""
    try:
        with domain_errors():
            yield
    except Exception as err:
        cause = err.__cause__
        if isinstance(cause, asyncpg.UniqueViolationError) and cause.constraint_name == SLUG_CONSTRAINT:
            raise rules.slug_taken(slug) from cause
        raise


async def list_for_tenant(
    conn: asyncpg.Connection, tenant_id: int, *, status: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """A page of the tenant's events, newest first, and how many there are in all."""
    rows = await conn.fetch(
        _joined()
        + """
        where e.tenant_id = $1 and ($2::text is null or e.status = $2)
        order by e.created_at desc, e.id desc
        limit $3 offset $4
        """,
        tenant_id,
        status,
        limit,
        offset,
    )
    total = await conn.fetchval(
        "select count(*) from events where tenant_id = $1 and ($2::text is null or status = $2)", tenant_id, status
    )
    return rows, total


async def get_for_tenant(
    conn: asyncpg.Connection, tenant_id: int, event_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    """The tenant's event; `lock` holds its row until the transaction ends (callers in one)."""
    if not 0 < event_id <= MAX_ID:
        return None
    return await conn.fetchrow(
        _joined() + " where e.id = $1 and e.tenant_id = $2" + (" for update of e" if lock else ""),
        event_id,
        tenant_id,
    )


async def get_by_token(conn: asyncpg.Connection, token: str) -> asyncpg.Record | None:
    """The event guests reach with `token`: published or archived only (drafts have no token
    anyway; the status filter says so twice)."""
    if not token or len(token) > rules.GUEST_TOKEN_MAX:
        return None
    return await conn.fetchrow(
        _joined() + " where e.guest_token = $1 and e.status = any($2::text[])", token, list(rules.GUEST_VISIBLE)
    )


async def _free_slug(conn: asyncpg.Connection, tenant_id: int, base: str) -> str:
    """`base`, or the first of `base-2`, `base-3`, ... the tenant does not use yet. The caller
    holds the tenant's row lock, so no concurrent create can take the answer meanwhile."""
    candidates = [base] + [rules.with_suffix(base, n) for n in range(2, SLUG_ALTERNATIVES + 2)]
    taken = {
        r["slug"]
        for r in await conn.fetch(
            "select slug from events where tenant_id = $1 and slug = any($2::text[])", tenant_id, candidates
        )
    }
    for slug in candidates:
        if slug not in taken:
            return slug
    return rules.with_suffix(base, secrets.token_hex(4))


async def create(conn: asyncpg.Connection, tenant_id: int, fields: Mapping[str, Any]) -> asyncpg.Record:
    """A new draft event. Runs in the caller's transaction: the tenant's row is locked first, so
    concurrent creates queue up behind the event-limit count instead of both passing it."""
    limit_row = await conn.fetchrow(
        """
        select p.event_limit from tenants t join packages p on p.id = t.package_id
        where t.id = $1 for update of t
        """,
        tenant_id,
    )
    used = await conn.fetchval("select count(*) from events where tenant_id = $1 and status <> 'archived'", tenant_id)
    rules.check_event_limit(limit_row["event_limit"], used)
    slug = fields.get("slug") or await _free_slug(conn, tenant_id, rules.event_slug(fields["name"]))
    rules.check_times(fields.get("starts_at"), fields.get("ends_at"))
    with _slug_guard(slug):
        return await _write_returning(
            conn,
            """
            insert into events (tenant_id, name, slug, description, starts_at, ends_at, moderation)
            values ($1, $2, $3, $4, $5, $6, $7)
            returning *
            """,
            tenant_id,
            fields["name"],
            slug,
            fields.get("description"),
            fields.get("starts_at"),
            fields.get("ends_at"),
            fields.get("moderation") or "auto",
        )


async def _write_returning(conn: asyncpg.Connection, statement: str, *args: Any) -> asyncpg.Record | None:
    """Run `statement` (an INSERT or UPDATE ... RETURNING *) and return its row joined like every read."""
    return await conn.fetchrow(f"with w as ({statement}) " + _joined("w"), *args)


async def update(
    conn: asyncpg.Connection, tenant_id: int, event_id: int, changes: Mapping[str, Any]
) -> asyncpg.Record | None:
    """Apply a partial update; None when the event is not the tenant's. The row is locked while
    the new start/end pair is checked against the stored one, so two PUTs cannot combine into an
    end before the start."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    current = await get_for_tenant(conn, tenant_id, event_id, lock=True)
    if current is None:
        return None
    rules.check_times(
        changes.get("starts_at", current["starts_at"]),
        changes.get("ends_at", current["ends_at"]),
    )
    if not changes:
        return current
    names = list(changes)
    # column names come from UPDATABLE only, never from a client
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    with _slug_guard(changes.get("slug", current["slug"])):
        return await _write_returning(
            conn,
            f"update events set {sets}, updated_at = now() where id = $1 returning *",
            event_id,
            *(changes[n] for n in names),
        )


async def delete(conn: asyncpg.Connection, tenant_id: int, event_id: int) -> bool:
    """Remove the event and (by cascade) its photos, uploads and task scoping; the caller removes
    the media once this has committed."""
    if not 0 < event_id <= MAX_ID:
        return False
    status = await conn.execute("delete from events where id = $1 and tenant_id = $2", event_id, tenant_id)
    return status == "DELETE 1"


async def publish(conn: asyncpg.Connection, tenant_id: int, event_id: int) -> asyncpg.Record | None:
    """draft -> published with a guest token (kept if it ever had one) and a publish time;
    already published answers the row unchanged; archived refuses (event_archived)."""
    current = await get_for_tenant(conn, tenant_id, event_id, lock=True)
    if current is None:
        return None
    rules.publish_target(current["status"])
    if current["status"] == rules.PUBLISHED:
        return current
    with domain_errors():
        return await _write_returning(
            conn,
            """
            update events set status = 'published', guest_token = coalesce(guest_token, $2),
                published_at = coalesce(published_at, now()), updated_at = now()
            where id = $1 returning *
            """,
            event_id,
            rules.mint_guest_token(),
        )


async def archive(conn: asyncpg.Connection, tenant_id: int, event_id: int) -> asyncpg.Record | None:
    """draft or published -> archived; archiving again answers the row unchanged. The guest token
    stays, so guests keep reading (and the gallery keeps its window)."""
    current = await get_for_tenant(conn, tenant_id, event_id, lock=True)
    if current is None:
        return None
    if current["status"] == rules.ARCHIVED:
        return current
    with domain_errors():
        return await _write_returning(
            conn,
            "update events set status = 'archived', archived_at = now(), updated_at = now() where id = $1 returning *",
            event_id,
        )

