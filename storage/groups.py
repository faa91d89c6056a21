"""002 groups: every user's personal group (identity makes it at registration), the groups users
create, their members and roles, and single-use invitation codes. The rules are domain/groups.py's."""

from __future__ import annotations

from datetime import datetime

import asyncpg

PERSONAL_GROUP_NAME = "Personal"


async def create_personal(conn: asyncpg.Connection, user_id: int, name: str | None = None) -> int:
    """The user's personal group (created once; later calls return the same id)."""
    group_id = await conn.fetchval(
        """
        insert into groups (name, creator_id, is_personal) values ($1, $2, true)
        on conflict (creator_id) where is_personal do nothing
        returning id
        """,
        (name or PERSONAL_GROUP_NAME)[:50],
        user_id,
    )
    if group_id is None:
        existing = await personal_group_id(conn, user_id)
        assert existing is not None  # the conflict was with it
        return existing
    await conn.execute(
        "insert into group_members (group_id, user_id, role) values ($1, $2, 'creator') on conflict do nothing",
        group_id,
        user_id,
    )
    return group_id


async def personal_group_id(conn: asyncpg.Connection, user_id: int) -> int | None:
    return await conn.fetchval("select id from groups where creator_id = $1 and is_personal", user_id)


def display_name_sql(alias: str) -> str:
    """SQL for what a person is called (domain.accounts.display_name: the name, else first and
    last name, else the username; '' when none), over the users row `alias`."""
    return (
        f"coalesce(nullif({alias}.name, ''), nullif(concat_ws(' ', {alias}.first_name, {alias}.last_name), ''), "
        f"{alias}.username, '')"
    )


_MEMBER_COUNT = "(select count(*) from group_members c where c.group_id = g.id)"


# ---- groups (002) ----


async def lock_creator(conn: asyncpg.Connection, user_id: int) -> bool:
    """Take the user's row lock for the rest of the transaction: every group create of one user
    runs one after another behind it, so the count it checks cannot change under it. False when
    the user is gone."""
    return await conn.fetchval("select true from users where id = $1 for update", user_id) is not None


async def count_created(conn: asyncpg.Connection, user_id: int) -> int:
    """Groups the user created (their personal group included)."""
    return await conn.fetchval("select count(*) from groups where creator_id = $1", user_id)


async def create(conn: asyncpg.Connection, name: str, creator_id: int) -> int:
    """A new group with its creator as its one member (role creator)."""
    group_id = await conn.fetchval(
        "insert into groups (name, creator_id) values ($1, $2) returning id", name, creator_id
    )
    await conn.execute(
        "insert into group_members (group_id, user_id, role) values ($1, $2, 'creator')", group_id, creator_id
    )
    return group_id


async def group_for(conn: asyncpg.Connection, group_id: int, user_id: int) -> asyncpg.Record | None:
    """The group with its creator's name, its member count and `user_role`: the caller's role in
    it (null when not a member); None when there is no such group."""
    return await conn.fetchrow(
        f"""
        select g.*, {display_name_sql("cu")} as creator_name, {_MEMBER_COUNT} as member_count,
               m.role as user_role, m.joined_at
        from groups g
        join users cu on cu.id = g.creator_id
        left join group_members m on m.group_id = g.id and m.user_id = $2
        where g.id = $1
        """,
        group_id,
        user_id,
    )


async def user_name(conn: asyncpg.Connection, user_id: int) -> str | None:
    return await conn.fetchval(f"select {display_name_sql('u')} from users u where u.id = $1", user_id)


async def role_in(conn: asyncpg.Connection, group_id: int, user_id: int) -> str | None:
    """The user's role in the group, None when not a member (or no such group)."""
    return await conn.fetchval(
        "select role from group_members where group_id = $1 and user_id = $2", group_id, user_id
    )


async def add_member(
    conn: asyncpg.Connection, group_id: int, user_id: int, role: str, invited_by: int | None
) -> bool:
    """False when the user already is a member (their role stays)."""
    status = await conn.execute(
        """
        insert into group_members (group_id, user_id, role, invited_by) values ($1, $2, $3, $4)
        on conflict (group_id, user_id) do nothing
        """,
        group_id,
        user_id,
        role,
        invited_by,
    )
    return status == "INSERT 0 1"


async def set_role(conn: asyncpg.Connection, group_id: int, user_id: int, role: str) -> bool:
    status = await conn.execute(
        "update group_members set role = $3, updated_at = now() where group_id = $1 and user_id = $2",
        group_id,
        user_id,
        role,
    )
    return status == "UPDATE 1"


async def remove_member(conn: asyncpg.Connection, group_id: int, user_id: int) -> bool:
    status = await conn.execute("delete from group_members where group_id = $1 and user_id = $2", group_id, user_id)
    return status == "DELETE 1"


_MEMBERSHIP_COLUMNS = f"""
    m.group_id, g.name as group_name, m.user_id, {display_name_sql("u")} as user_name, u.email as user_email,
    m.role, m.joined_at, m.updated_at, m.invited_by, {display_name_sql("iu")} as invited_by_name,
    g.creator_id, g.created_at as group_created_at, g.updated_at as group_updated_at, {_MEMBER_COUNT} as member_count
"""


async def memberships_of(conn: asyncpg.Connection, user_id: int) -> list[asyncpg.Record]:
    """Every group the user belongs to, with their membership: oldest membership first."""
    return await conn.fetch(
        f"""
        select {_MEMBERSHIP_COLUMNS}
        from group_members m
        join groups g on g.id = m.group_id
        join users u on u.id = m.user_id
        left join users iu on iu.id = m.invited_by
        where m.user_id = $1
        order by m.joined_at, m.group_id
        """,
        user_id,
    )


async def members(conn: asyncpg.Connection, group_id: int) -> list[asyncpg.Record]:
    """The group's members: its creator first, then by the time they joined."""
    return await conn.fetch(
        f"""
        select {_MEMBERSHIP_COLUMNS}
        from group_members m
        join groups g on g.id = m.group_id
        join users u on u.id = m.user_id
        left join users iu on iu.id = m.invited_by
        where m.group_id = $1
        order by (m.role = 'creator') desc, m.joined_at, m.user_id
        """,
        group_id,
    )


# ---- invitations ----


async def create_invitation(
    conn: asyncpg.Connection, group_id: int, code_hash: str, created_by: int, now: datetime, expires_at: datetime
) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        insert into group_invitations (group_id, code_hash, created_by, created_at, expires_at)
        values ($1, $2, $3, $4, $5)
        returning *
        """,
        group_id,
        code_hash,
        created_by,
        now,
        expires_at,
    )


async def take_invitation(conn: asyncpg.Connection, code_hash: str, now: datetime) -> asyncpg.Record | None:
    """The unused, unexpired invitation with this code, row-locked for the rest of the transaction:
    of concurrent joiners one gets it, and the others, once its use commits, find it spent (the
    lock's recheck of `used_at is null`) and get None."""
    return await conn.fetchrow(
        """
        select * from group_invitations
        where code_hash = $1 and used_at is null and expires_at > $2
        for update
        """,
        code_hash,
        now,
    )


async def spend_invitation(conn: asyncpg.Connection, invitation_id: int, user_id: int, now: datetime) -> None:
    await conn.execute(
        "update group_invitations set used_by = $2, used_at = $3 where id = $1", invitation_id, user_id, now
    )
