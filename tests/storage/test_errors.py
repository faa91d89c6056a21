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
            1 / 0
