"""000: GET /api/my-pets and /api/my-pets/sections, and the one-query health summary behind them."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from gateway.kernel.keys import pool_key
from gateway.pethealth.pet_schemas import PetListed
from storage import pets as pets_sql
from storage.pets import utc_today
from tests.accounts.account_helpers import assert_err, assert_ok
from tests.builders import make_user
from tests.pet_builders import add_collaborator, make_pet
from tests.pethealth.test_pets import PET_KEYS, ability_message, user_with_token
from tests.web.session_helpers import forget_cookies, signed_in_user

SUMMARY_KEYS = {
    "latest_weight_kg", "latest_weight_record_date", "previous_weight_kg", "previous_weight_record_date",
    "vaccination_status",
}  # fmt: skip
EMPTY_SUMMARY = {
    "latest_weight_kg": None,
    "latest_weight_record_date": None,
    "previous_weight_kg": None,
    "previous_weight_record_date": None,
    "vaccination_status": "unknown",
}
# a fixed "today" keeps the edge cases exact even if the run crosses UTC midnight
TODAY = date(2025, 6, 15)


async def add_weight(pool, pet_id: int, kg: str, day: date) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "insert into pet_weights (pet_id, weight_kg, record_date) values ($1, $2, $3)", pet_id, Decimal(kg), day
        )


async def add_vaccination(pool, pet_id: int, due: date | None, *, completed: bool = False) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            """
            insert into vaccinations (pet_id, vaccine_name, administered_at, due_at, completed_at)
            values ($1, $2, $3, $4, case when $5 then now() end)
            """,
            pet_id,
            f"vaccine-{due}-{completed}",
            date(2020, 1, 1),
            due,
            completed,
        )


# ---- GET /api/my-pets ----


async def test_my_pets_lists_only_the_callers_own_pets(client):
    owner, headers = await user_with_token(client, abilities=("read",))
    other = await make_user(client.app)
    mine = [await make_pet(client.app, owner["id"], name=n) for n in ("A", "B")]
    lost = await make_pet(client.app, owner["id"], name="Lost", status="lost")
    await make_pet(client.app, owner["id"], name="Gone", status="deleted")
    theirs = await make_pet(client.app, other["id"])
    await add_collaborator(client.app, theirs["id"], owner["id"], "editor")  # editing is not owning

    resp = await client.get("/api/my-pets", headers=headers)
    assert resp.status == 200
    data = assert_ok(await resp.json(), 200, "Pets retrieved successfully.")
    assert isinstance(data, list)
    assert [p["id"] for p in data] == [mine[0]["id"], mine[1]["id"], lost["id"]]
    for pet in data:
        assert set(pet) == PET_KEYS | {"health_summary"}
        assert pet["created_by"] == owner["id"] and pet["pet_type"]["slug"] == "cat"
        assert pet["health_summary"] == EMPTY_SUMMARY
    assert data[2]["status"] == "lost"


async def test_my_pets_empty_for_a_new_user(client):
    _, headers = await user_with_token(client, abilities=("read",))
    resp = await client.get("/api/my-pets", headers=headers)
    assert resp.status == 200 and (await resp.json())["data"] == []


async def test_my_pets_filters_by_type_slug(client):
    owner, headers = await user_with_token(client)
    cat = await make_pet(client.app, owner["id"], pet_type="cat")
    dog = await make_pet(client.app, owner["id"], pet_type="dog")
    for slug, expected in (("dog", [dog["id"]]), ("cat", [cat["id"]]), ("fish", []), ("unicorn", [])):
        resp = await client.get("/api/my-pets", params={"pet_type": slug}, headers=headers)
        assert resp.status == 200
        assert [p["id"] for p in (await resp.json())["data"]] == expected, slug
    resp = await client.get("/api/my-pets?pet_type=", headers=headers)  # empty filter: everything
    assert len((await resp.json())["data"]) == 2


async def test_my_pets_shows_each_pets_health_summary(client):
    owner, headers = await user_with_token(client)
    pool = client.app[pool_key]
    today = utc_today()
    weighed = await make_pet(client.app, owner["id"], name="Weighed")
    await add_weight(pool, weighed["id"], "4.2", today - timedelta(days=10))
    await add_weight(pool, weighed["id"], "4.75", today)
    await add_vaccination(pool, weighed["id"], today - timedelta(days=1))
    plain = await make_pet(client.app, owner["id"], name="Plain")
    await add_vaccination(pool, plain["id"], today + timedelta(days=90))

    resp = await client.get("/api/my-pets", headers=headers)
    by_id = {p["id"]: p["health_summary"] for p in (await resp.json())["data"]}
    assert by_id[weighed["id"]] == {
        "latest_weight_kg": 4.75,
        "latest_weight_record_date": today.isoformat(),
        "previous_weight_kg": 4.2,
        "previous_weight_record_date": (today - timedelta(days=10)).isoformat(),
        "vaccination_status": "overdue",
    }
    assert by_id[plain["id"]] == {**EMPTY_SUMMARY, "vaccination_status": "up_to_date"}


async def test_my_pets_fast_path_is_exactly_what_the_model_renders(client):
    """/api/my-pets keeps dict builders (a hot path); each pet they render must be a `PetListed`
    and dump back to the same JSON, nulls, dates and decimals included."""
    owner, headers = await user_with_token(client)
    pool = client.app[pool_key]
    weighed = await make_pet(client.app, owner["id"], name="Weighed", birthday=date(2020, 2, 29))
    await add_weight(pool, weighed["id"], "4.125", utc_today() - timedelta(days=3))
    await add_weight(pool, weighed["id"], "4", utc_today())
    await add_vaccination(pool, weighed["id"], utc_today() + timedelta(days=3))
    await make_pet(client.app, owner["id"], name="Bare")

    resp = await client.get("/api/my-pets", headers=headers)
    data = assert_ok(await resp.json(), 200, "Pets retrieved successfully.")
    assert len(data) == 2
    pets = TypeAdapter(list[PetListed]).validate_python(data)
    assert [p.model_dump(mode="json") for p in pets] == data
    by_name = {p.name: p for p in pets}
    assert by_name["Weighed"].health_summary.latest_weight_kg == 4.0
    assert by_name["Weighed"].health_summary.vaccination_status == "due_soon"
    assert by_name["Bare"].health_summary.latest_weight_record_date is None


async def test_my_pets_needs_authentication(client):
    forget_cookies(client)
    for path in ("/api/my-pets", "/api/my-pets/sections"):
        resp = await client.get(path)
        assert resp.status == 401
        assert_err(await resp.json(), 401, "Unauthenticated.")


@pytest.mark.parametrize("path", ["/api/my-pets", "/api/my-pets/sections"])
@pytest.mark.parametrize("abilities", [("create", "update", "delete"), ("pet:read",), ()])
async def test_my_pets_needs_the_read_ability(client, path, abilities):
    _, headers = await user_with_token(client, abilities=abilities)
    resp = await client.get(path, headers=headers)
    assert resp.status == 403
    assert_err(await resp.json(), 403, ability_message("read"))


async def test_my_pets_from_a_session(client):
    signed = await signed_in_user(client)
    pet = await make_pet(client.app, signed.user["id"])
    resp = await client.get("/api/my-pets", cookies=signed.cookies)
    assert resp.status == 200 and [p["id"] for p in (await resp.json())["data"]] == [pet["id"]]


# ---- GET /api/my-pets/sections ----


async def test_sections_owned_and_empty_fostering_and_transfers(client):
    owner, headers = await user_with_token(client, abilities=("read",))
    pet = await make_pet(client.app, owner["id"])
    await add_weight(client.app[pool_key], pet["id"], "3", utc_today())
    other = await make_user(client.app)
    shared = await make_pet(client.app, other["id"])
    await add_collaborator(client.app, shared["id"], owner["id"], "viewer")

    resp = await client.get("/api/my-pets/sections", headers=headers)
    assert resp.status == 200
    data = assert_ok(await resp.json(), 200, "Pets retrieved successfully.")
    assert set(data) == {"owned", "fostering_active", "fostering_past", "transferred_away"}
    assert data["fostering_active"] == data["fostering_past"] == data["transferred_away"] == []
    assert [p["id"] for p in data["owned"]] == [pet["id"]]
    assert set(data["owned"][0]) == PET_KEYS | {"health_summary"}
    assert data["owned"][0]["health_summary"]["latest_weight_kg"] == 3.0
    flat = (await (await client.get("/api/my-pets", headers=headers)).json())["data"]
    assert flat == data["owned"]


# ---- storage.pets.health_summaries ----


async def test_health_summaries_edge_cases(pool, client):
    owner = await make_user(client.app)
    pets = {name: (await make_pet(pool, owner["id"], name=name))["id"] for name in "ABCDEFGH"}
    # A: three weights, the newest two count; overdue wins over a later due date
    await add_weight(pool, pets["A"], "4.0", date(2025, 1, 1))
    await add_weight(pool, pets["A"], "5.25", date(2025, 3, 1))
    await add_weight(pool, pets["A"], "4.5", date(2025, 2, 1))
    await add_vaccination(pool, pets["A"], TODAY - timedelta(days=1))
    await add_vaccination(pool, pets["A"], TODAY + timedelta(days=200))
    # B: one weight (no previous); due today is due soon, not overdue
    await add_weight(pool, pets["B"], "0", date(2024, 12, 31))
    await add_vaccination(pool, pets["B"], TODAY)
    # C: due on today + 30 is still due soon
    await add_vaccination(pool, pets["C"], TODAY + timedelta(days=30))
    # D: due on today + 31 is up to date
    await add_vaccination(pool, pets["D"], TODAY + timedelta(days=31))
    # E: completed (even overdue) and undated vaccinations do not count
    await add_vaccination(pool, pets["E"], TODAY - timedelta(days=5), completed=True)
    await add_vaccination(pool, pets["E"], None)
    # F: nothing at all
    # G: a completed overdue one and an open one due in ten days
    await add_vaccination(pool, pets["G"], TODAY - timedelta(days=100), completed=True)
    await add_vaccination(pool, pets["G"], TODAY + timedelta(days=10))
    # H: completed ones only (one due later) -> unknown
    await add_vaccination(pool, pets["H"], TODAY + timedelta(days=100), completed=True)

    async with pool.acquire() as conn:
        got = await pets_sql.health_summaries(conn, list(pets.values()) + [987654321], today=TODAY)

    assert got[pets["A"]] == {
        "latest_weight_kg": Decimal("5.25"),
        "latest_weight_record_date": date(2025, 3, 1),
        "previous_weight_kg": Decimal("4.5"),
        "previous_weight_record_date": date(2025, 2, 1),
        "vaccination_status": "overdue",
    }
    assert got[pets["B"]]["latest_weight_kg"] == Decimal("0")
    assert got[pets["B"]]["latest_weight_record_date"] == date(2024, 12, 31)
    assert got[pets["B"]]["previous_weight_kg"] is None and got[pets["B"]]["previous_weight_record_date"] is None
    statuses = {name: got[pid]["vaccination_status"] for name, pid in pets.items()}
    assert statuses == {
        "A": "overdue", "B": "due_soon", "C": "due_soon", "D": "up_to_date",
        "E": "unknown", "F": "unknown", "G": "due_soon", "H": "unknown",
    }  # fmt: skip
    assert got[pets["F"]] == pets_sql.empty_summary()
    # an id with no pet still gets an entry: lists never show a null summary
    assert got[987654321] == pets_sql.empty_summary()


async def test_health_summaries_is_one_statement_whatever_the_number_of_pets(pool, client):
    owner = await make_user(client.app)
    ids = []
    for i in range(12):
        pet = await make_pet(pool, owner["id"])
        await add_weight(pool, pet["id"], f"{i + 1}.5", TODAY - timedelta(days=i))
        await add_vaccination(pool, pet["id"], TODAY + timedelta(days=i * 5))
        ids.append(pet["id"])

    async with pool.acquire() as conn:
        # asyncpg introspects a connection's unknown types (bigint[]) once, on first use
        await pets_sql.health_summaries(conn, ids[:1], today=TODAY)
        statements: list[str] = []

        def log(record) -> None:
            statements.append(record.query)

        conn.add_query_logger(log)
        try:
            one = await pets_sql.health_summaries(conn, ids[:1], today=TODAY)
            await asyncio.sleep(0)  # asyncpg calls query loggers with loop.call_soon
            count_for_one = len(statements)
            many = await pets_sql.health_summaries(conn, ids, today=TODAY)
            await asyncio.sleep(0)
            count_for_many = len(statements) - count_for_one
            none = await pets_sql.health_summaries(conn, [], today=TODAY)
            await asyncio.sleep(0)
        finally:
            conn.remove_query_logger(log)
    assert count_for_one == 1 and count_for_many == 1
    assert len(statements) == 2  # no pets: no statement at all
    assert none == {}
    assert set(one) == {ids[0]} and set(many) == set(ids)
    assert many[ids[3]]["latest_weight_kg"] == Decimal("4.5")
    assert many[ids[0]]["vaccination_status"] == "due_soon"
    assert many[ids[7]]["vaccination_status"] == "up_to_date"
