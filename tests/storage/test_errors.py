"""SQLSTATE -> domain errors, provoked for real in PostgreSQL."""

from __future__ import annotations

import pytest

from domain.errors import Conflict, Invalid, NotFound
from storage.errors import domain_errors


@pytest.fixture
async def conn(pool):
    async with pool.acquire() as c:
        tx = c.transaction()
        await tx.start()
        await c.execute(
            """
            create temp table parent (id int primary key, name text not null unique, n int check (n >= 0));
            create temp table child (id int primary key, parent_id int not null references parent (id));
            insert into parent values (1, 'one', 1);
            insert into child values (1, 1);
            """
        )
        yield c
        await tx.rollback()


async def test_unique_violation_is_conflict(conn):
    with pytest.raises(Conflict) as info:
        with domain_errors():
            await conn.execute("insert into parent values (2, 'one', 0)")
    assert info.value.code == "already_exists"
    assert info.value.meta["constraint"] == "parent_name_key"


async def test_missing_reference_is_not_found(conn):
    with pytest.raises(NotFound) as info:
        with domain_errors():
            await conn.execute("insert into child values (2, 99)")
    assert info.value.code == "reference_not_found"


async def test_deleting_a_referenced_row_is_conflict(conn):
    with pytest.raises(Conflict) as info:
        with domain_errors():
            await conn.execute("delete from parent where id = 1")
    assert info.value.code == "still_referenced"


async def test_check_violation_is_invalid(conn):
    with pytest.raises(Invalid) as info:
        with domain_errors():
            await conn.execute("insert into parent values (3, 'three', -1)")
    assert info.value.code == "check_violation"


async def test_not_null_violation_names_the_field(conn):
    with pytest.raises(Invalid) as info:
        with domain_errors():
            await conn.execute("insert into parent (id) values (4)")
    assert info.value.fields == {"name": ["The name field is required."]}


async def test_bad_text_representation_is_invalid(conn):
    with pytest.raises(Invalid):
        with domain_errors():
            await conn.execute("select 'abc'::int")


async def test_other_exceptions_pass_through(conn):
    with pytest.raises(ZeroDivisionError):
        with domain_errors():
            raise ZeroDivisionError("not a database error")


# -- issue 9: values PostgreSQL refuses are the client's 4xx, never a 500 `database_error` --------


async def test_nul_in_text_is_invalid_characters(conn):
    with pytest.raises(Invalid) as info:
        with domain_errors():
            await conn.execute("insert into parent values (5, $1, 0)", "a\x00b")
    assert info.value.code == "invalid_characters"
    assert info.value.status == 422


async def test_invalid_utf8_in_the_database_is_invalid_characters(conn):
    with pytest.raises(Invalid) as info:
        with domain_errors():
            await conn.execute("select convert_from('\\xff'::bytea, 'UTF8')")
    assert info.value.code == "invalid_characters"


@pytest.mark.parametrize(
    ("sql", "args"),
    [
        ("insert into parent values ($1, 'big', 0)", (2**40,)),  # past int32, refused by asyncpg
        ("select $1::bigint", (10**20,)),  # past int64
        ("select $1::text", ("a\ud800b",)),  # a lone surrogate cannot be sent at all
        ("select '2024-13-45'::date", ()),  # 22008
        ("select '99999999999'::int", ()),  # 22003
        ("select 1 / 0", ()),  # 22012
    ],
)
async def test_data_exceptions_are_invalid_value(conn, sql, args):
    with pytest.raises(Invalid) as info:
        with domain_errors():
            await conn.execute(sql, *args)
    assert info.value.code == "invalid_value"
    assert info.value.status == 422


async def test_too_long_for_the_column_is_value_too_long(conn):
    await conn.execute("create temp table short (v varchar(3))")
    with pytest.raises(Invalid) as info:
        with domain_errors():
            await conn.execute("insert into short values ($1)", "abcd")
    assert info.value.code == "value_too_long"


async def test_too_large_for_an_index_is_value_too_large(conn):
    # random hex barely compresses: well past btree's ~2.7 KB row limit
    big = await conn.fetchval("select string_agg(md5(i::text), '') from generate_series(1, 400) i")
    with pytest.raises(Invalid) as info:
        with domain_errors():
            await conn.execute("insert into parent values (6, $1, 0)", big)
    assert info.value.code == "value_too_large"
