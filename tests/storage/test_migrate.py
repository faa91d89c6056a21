"""The migration runner against a real PostgreSQL: order, once-only, lock, refusals."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from storage.migrate import ADVISORY_LOCK_KEY, MigrationError, discover, migrate
from tests.conftest import _with_database


@pytest.fixture
async def empty_db(services):
    name = f"roost_mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(services.database_url)
    await admin.execute(f'create database "{name}"')
    dsn = _with_database(services.database_url, name)
    yield dsn
    await admin.execute(f'drop database if exists "{name}" with (force)')
    await admin.close()


def write(folder: Path, name: str, sql: str) -> None:
    (folder / name).write_text(sql)


async def test_applies_in_numeric_order_once(empty_db, tmp_path):
    write(tmp_path, "0002_second.sql", "insert into log (step) values ('second');")
    write(
        tmp_path,
        "0001_first.sql",
        "create table log (id serial primary key, step text); insert into log (step) values ('first');",
    )
    write(tmp_path, "0010_tenth.sql", "insert into log (step) values ('tenth');")
    conn = await asyncpg.connect(empty_db)
    try:
        assert await migrate(conn, tmp_path) == ["0001_first.sql", "0002_second.sql", "0010_tenth.sql"]
        assert [r["step"] for r in await conn.fetch("select step from log order by id")] == ["first", "second", "tenth"]
        assert await migrate(conn, tmp_path) == []  # nothing twice
        assert await conn.fetchval("select count(*) from log") == 3
        write(tmp_path, "0011_more.sql", "insert into log (step) values ('eleventh');")
        assert await migrate(conn, tmp_path) == ["0011_more.sql"]
    finally:
        await conn.close()


async def test_refuses_a_changed_applied_file(empty_db, tmp_path):
    write(tmp_path, "0001_t.sql", "create table t (id int);")
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate(conn, tmp_path)
        write(tmp_path, "0001_t.sql", "create table t (id bigint);")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, tmp_path)
    finally:
        await conn.close()


async def test_refuses_when_an_applied_file_is_missing(empty_db, tmp_path):
    write(tmp_path, "0001_t.sql", "create table t (id int);")
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate(conn, tmp_path)
        (tmp_path / "0001_t.sql").unlink()
        with pytest.raises(MigrationError, match="missing"):
            await migrate(conn, tmp_path)
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_behind(empty_db, tmp_path):
    write(tmp_path, "0001_ok.sql", "create table a (id int);")
    write(tmp_path, "0002_bad.sql", "create table b (id int); select * from no_such_table;")
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(conn, tmp_path)
        assert await conn.fetchval("select to_regclass('b')") is None
        assert await conn.fetchval("select count(*) from schema_migrations") == 1
        # and the lock was released: another session can take it at once
        other = await asyncpg.connect(empty_db)
        try:
            assert await other.fetchval("select pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY)
            await other.execute("select pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
        finally:
            await other.close()
    finally:
        await conn.close()


async def test_concurrent_runners_apply_each_file_once(empty_db, tmp_path):
    # pg_sleep keeps the first runner inside the lock long enough for the others to queue on it
    write(tmp_path, "0001_slow.sql", "select pg_sleep(0.3); create table once (id int);")
    write(tmp_path, "0002_next.sql", "insert into once values (1);")
    conns = [await asyncpg.connect(empty_db) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c, tmp_path) for c in conns))
        applied = sorted(name for r in results for name in r)
        assert applied == ["0001_slow.sql", "0002_next.sql"]
        assert await conns[0].fetchval("select count(*) from once") == 1
    finally:
        for c in conns:
            await c.close()


async def test_waits_for_a_held_lock(empty_db, tmp_path):
    write(tmp_path, "0001_t.sql", "create table t (id int);")
    holder = await asyncpg.connect(empty_db)
    runner = await asyncpg.connect(empty_db)
    try:
        await holder.execute("select pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
        task = asyncio.create_task(migrate(runner, tmp_path))
        await asyncio.sleep(0.3)
        assert not task.done()  # blocked behind the holder
        await holder.execute("select pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
        assert await asyncio.wait_for(task, 10) == ["0001_t.sql"]
    finally:
        await holder.close()
        await runner.close()


def test_rejects_badly_named_and_duplicate_files(tmp_path):
    write(tmp_path, "1_bad.sql", "select 1;")
    with pytest.raises(MigrationError, match="NNNN_snake_case"):
        discover(tmp_path)
    (tmp_path / "1_bad.sql").unlink()
    write(tmp_path, "0001_a.sql", "select 1;")
    write(tmp_path, "0001_b.sql", "select 1;")
    with pytest.raises(MigrationError, match="used twice"):
        discover(tmp_path)


def test_shipped_migrations_are_well_formed():
    found = discover()
    assert found and [m.version for m in found] == sorted(m.version for m in found)
