"""000: /api/pets/{pet}/weights — CRUD, validation, access, abilities, pet-type gate, pagination."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.builders import make_user
from tests.health_builders import (
    assert_error,
    assert_feature_gate,
    cast,
    insert_pet,
    make_weight,
    set_pet_status,
    token_headers,
)
from tests.web.session_helpers import sign_in


def url(pet_id: int, record_id: int | str | None = None) -> str:
    base = f"/api/pets/{pet_id}/weights"
    return base if record_id is None else f"{base}/{record_id}"


async def test_owner_crud(client, pool):
    c = await cast(client, pool)
    resp = await client.post(url(c.pet_id), json={"weight_kg": 4.25, "record_date": "2024-06-01"}, headers=c.owner_h)
    assert resp.status == 201
    body = await resp.json()
    assert body["success"] is True
    assert body["message"] == "Weight record created successfully."
    created = body["data"]
    assert created["weight_kg"] == 4.25
    assert created["record_date"] == "2024-06-01"
    assert created["pet_id"] == c.pet_id
    assert set(created) == {"id", "pet_id", "weight_kg", "record_date", "created_at", "updated_at"}
    assert created["created_at"].endswith("Z")
    wid = created["id"]

    resp = await client.get(url(c.pet_id, wid), headers=c.owner_h)
    assert resp.status == 200
    assert (await resp.json())["data"] == created

    # PUT is partial: the date stays
    resp = await client.put(url(c.pet_id, wid), json={"weight_kg": "4.5"}, headers=c.owner_h)
    assert resp.status == 200
    updated = (await resp.json())["data"]
    assert updated["weight_kg"] == 4.5
    assert updated["record_date"] == "2024-06-01"

    resp = await client.delete(url(c.pet_id, wid), headers=c.owner_h)
    assert resp.status == 200
    body = await resp.json()
    assert body["success"] is True and body["data"] is True
    assert await pool.fetchval("select count(*) from pet_weights where id = $1", wid) == 0

    resp = await client.get(url(c.pet_id, wid), headers=c.owner_h)
    assert resp.status == 404
    assert_error(await resp.json(), "Resource not found.")


async def test_latest_weight_is_the_pets_current_weight(client, pool):
    c = await cast(client, pool)
    for kg, day in ((4.0, "2024-01-01"), (4.4, "2024-03-01"), (4.2, "2024-02-01")):
        resp = await client.post(url(c.pet_id), json={"weight_kg": kg, "record_date": day}, headers=c.owner_h)
        assert resp.status == 201
    latest = await pool.fetchval(
        "select weight_kg from pet_weights where pet_id = $1 order by record_date desc, id desc limit 1", c.pet_id
    )
    assert float(latest) == 4.4


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"record_date": "2024-01-01"}, "weight_kg", "The weight kg field is required."),
        ({"weight_kg": "", "record_date": "2024-01-01"}, "weight_kg", "The weight kg field is required."),
        ({"weight_kg": -0.1, "record_date": "2024-01-01"}, "weight_kg", "The weight kg must be at least 0."),
        ({"weight_kg": "heavy", "record_date": "2024-01-01"}, "weight_kg", "The weight kg field must be a number."),
        ({"weight_kg": True, "record_date": "2024-01-01"}, "weight_kg", "The weight kg field must be a number."),
        (
            {"weight_kg": 10000, "record_date": "2024-01-01"},
            "weight_kg",
            "The weight kg may not be greater than 9999.999.",
        ),
        ({"weight_kg": 4}, "record_date", "The record date field is required."),
        ({"weight_kg": 4, "record_date": "2024-13-40"}, "record_date", "The record date field must be a valid date."),
        ({"weight_kg": 4, "record_date": 20240101}, "record_date", "The record date field must be a valid date."),
    ],
)
async def test_create_validation(client, pool, body, field, message):
    owner = await make_user(client.app)
    pet_id = await insert_pet(pool, owner["id"])
    resp = await client.post(url(pet_id), json=body, headers=await token_headers(client, owner["id"], "*"))
    assert resp.status == 422
    payload = await resp.json()
    assert payload["success"] is False
    assert payload["errors"][field] == [message]


async def test_zero_weight_and_datetime_dates_are_accepted(client, pool):
    c = await cast(client, pool)
    resp = await client.post(
        url(c.pet_id), json={"weight_kg": 0, "record_date": "2024-05-05T10:00:00Z"}, headers=c.owner_h
    )
    assert resp.status == 201
    assert (await resp.json())["data"]["record_date"] == "2024-05-05"


async def test_one_weight_per_pet_and_date(client, pool):
    c = await cast(client, pool)
    first = await client.post(url(c.pet_id), json={"weight_kg": 4, "record_date": "2024-01-02"}, headers=c.owner_h)
    assert first.status == 201
    resp = await client.post(url(c.pet_id), json={"weight_kg": 4.1, "record_date": "2024-01-02"}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"record_date": ["The record date has already been taken."]}

    # moving another weight onto that date is the same conflict
    other = await client.post(url(c.pet_id), json={"weight_kg": 4.2, "record_date": "2024-01-03"}, headers=c.owner_h)
    other_id = (await other.json())["data"]["id"]
    resp = await client.put(url(c.pet_id, other_id), json={"record_date": "2024-01-02"}, headers=c.owner_h)
    assert resp.status == 422
    assert "record_date" in (await resp.json())["errors"]

    # another pet may have a weight on that date
    pet2 = await insert_pet(pool, c.owner["id"])
    resp = await client.post(url(pet2), json={"weight_kg": 4, "record_date": "2024-01-02"}, headers=c.owner_h)
    assert resp.status == 201


async def test_update_validation(client, pool):
    c = await cast(client, pool)
    wid = await make_weight(pool, c.pet_id, 4, date(2024, 1, 1))
    resp = await client.put(url(c.pet_id, wid), json={"weight_kg": None}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"weight_kg": ["The weight kg field is required."]}
    resp = await client.put(url(c.pet_id, wid), json={"record_date": "nope"}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"record_date": ["The record date field must be a valid date."]}


async def test_list_newest_first_and_paginated(client, pool, settings):
    c = await cast(client, pool)
    start = date(2023, 1, 1)
    for i in range(30):
        await make_weight(pool, c.pet_id, 3 + i / 10, start + timedelta(days=i))

    resp = await client.get(url(c.pet_id), headers=c.owner_h)
    assert resp.status == 200
    page = (await resp.json())["data"]
    path = settings.app_url.rstrip("/") + url(c.pet_id)
    assert len(page["data"]) == 25
    assert page["data"][0]["record_date"] == "2023-01-30"
    assert page["data"][24]["record_date"] == "2023-01-06"
    assert page["links"] == {
        "first": f"{path}?page=1", "last": f"{path}?page=2", "prev": None, "next": f"{path}?page=2"
    }
    assert page["meta"] == {
        "current_page": 1,
        "from": 1,
        "last_page": 2,
        "per_page": 25,
        "to": 25,
        "total": 30,
        "path": path,
    }

    resp = await client.get(url(c.pet_id) + "?page=2", headers=c.owner_h)
    page = (await resp.json())["data"]
    assert [w["record_date"] for w in page["data"]] == [f"2023-01-0{d}" for d in range(5, 0, -1)]
    assert page["links"] == {
        "first": f"{path}?page=1", "last": f"{path}?page=2", "prev": f"{path}?page=1", "next": None
    }
    assert page["meta"]["from"] == 26 and page["meta"]["to"] == 30 and page["meta"]["current_page"] == 2

    # past the end: empty, from/to null
    resp = await client.get(url(c.pet_id) + "?page=3", headers=c.owner_h)
    page = (await resp.json())["data"]
    assert page["data"] == [] and page["meta"]["from"] is None and page["meta"]["to"] is None
    assert page["links"]["prev"] == f"{path}?page=2" and page["links"]["next"] is None

    # nonsense pages are page 1
    for raw in ("0", "-3", "abc", "2x"):
        resp = await client.get(url(c.pet_id) + f"?page={raw}", headers=c.owner_h)
        assert (await resp.json())["data"]["meta"]["current_page"] == 1


async def test_empty_list(client, pool, settings):
    c = await cast(client, pool)
    resp = await client.get(url(c.pet_id), headers=c.owner_h)
    page = (await resp.json())["data"]
    path = settings.app_url.rstrip("/") + url(c.pet_id)
    assert page["data"] == []
    assert page["links"] == {"first": f"{path}?page=1", "last": f"{path}?page=1", "prev": None, "next": None}
    assert page["meta"] == {
        "current_page": 1,
        "from": None,
        "last_page": 1,
        "per_page": 25,
        "to": None,
        "total": 0,
        "path": path,
    }


async def test_access_rules(client, pool):
    c = await cast(client, pool)
    wid = await make_weight(pool, c.pet_id, 4, date(2024, 1, 1))

    # editors read and write
    resp = await client.get(url(c.pet_id), headers=c.editor_h)
    assert resp.status == 200
    resp = await client.post(url(c.pet_id), json={"weight_kg": 3.2, "record_date": "2024-05-01"}, headers=c.editor_h)
    assert resp.status == 201
    resp = await client.put(url(c.pet_id, wid), json={"weight_kg": 5}, headers=c.editor_h)
    assert resp.status == 200

    # viewers, admins and strangers neither read nor write weights
    for headers in (c.viewer_h, c.admin_h, c.stranger_h):
        for method, path, body in (
            ("GET", url(c.pet_id), None),
            ("GET", url(c.pet_id, wid), None),
            ("POST", url(c.pet_id), {"weight_kg": 1, "record_date": "2024-02-01"}),
            ("PUT", url(c.pet_id, wid), {"weight_kg": 1}),
            ("DELETE", url(c.pet_id, wid), None),
        ):
            resp = await client.request(method, path, json=body, headers=headers)
            assert resp.status == 403, (method, path)
            assert_error(await resp.json(), "Access forbidden.")

    # anonymous: reads are forbidden (neither owner nor editor), writes need a sign-in
    for path in (url(c.pet_id), url(c.pet_id, wid)):
        resp = await client.get(path)
        assert resp.status == 403
    for method, path in (("POST", url(c.pet_id)), ("PUT", url(c.pet_id, wid)), ("DELETE", url(c.pet_id, wid))):
        resp = await client.request(method, path, json={"weight_kg": 1, "record_date": "2024-02-01"})
        assert resp.status == 401
        assert_error(await resp.json(), "Unauthenticated.")

    resp = await client.delete(url(c.pet_id, wid), headers=c.editor_h)
    assert resp.status == 200


async def test_abilities(client, pool):
    c = await cast(client, pool)
    wid = await make_weight(pool, c.pet_id, 4, date(2024, 1, 1))
    oid = c.owner["id"]
    read_only = await token_headers(client, oid, "read")
    body = {"weight_kg": 4, "record_date": "2024-02-02"}

    for method, path, payload, ability in (
        ("POST", url(c.pet_id), body, "create"),
        ("PUT", url(c.pet_id, wid), {"weight_kg": 5}, "update"),
        ("DELETE", url(c.pet_id, wid), None, "delete"),
    ):
        resp = await client.request(method, path, json=payload, headers=read_only)
        assert resp.status == 403
        assert_error(
            await resp.json(), f"This personal access token does not have the required {ability} ability."
        )
        # the generic `write`-ish scopes don't stand in for the route's ability
        headers = await token_headers(client, oid, "health:write")
        resp = await client.request(method, path, json=payload, headers=headers)
        assert resp.status == 403

    # reads: `read` or `health:read`
    for abilities in (("read",), ("health:read",), ("*",)):
        resp = await client.get(url(c.pet_id), headers=await token_headers(client, oid, *abilities))
        assert resp.status == 200
    resp = await client.get(url(c.pet_id, wid), headers=await token_headers(client, oid, "create"))
    assert resp.status == 403
    assert_error(await resp.json(), "This personal access token does not have the required read ability.")

    # each write with exactly its ability
    resp = await client.post(url(c.pet_id), json=body, headers=await token_headers(client, oid, "create"))
    assert resp.status == 201
    update = await token_headers(client, oid, "update")
    resp = await client.put(url(c.pet_id, wid), json={"weight_kg": 6}, headers=update)
    assert resp.status == 200
    resp = await client.delete(url(c.pet_id, wid), headers=await token_headers(client, oid, "delete"))
    assert resp.status == 200


async def test_session_requests_skip_abilities(client, pool):
    owner = await make_user(client.app)
    pet_id = await insert_pet(pool, owner["id"])
    session = await sign_in(client, owner["email"])
    resp = await client.post(
        url(pet_id),
        json={"weight_kg": 4, "record_date": "2024-01-01"},
        cookies=session.cookies,
        headers=session.headers,
    )
    assert resp.status == 201
    resp = await client.get(url(pet_id), cookies=session.cookies)
    assert resp.status == 200
    assert (await resp.json())["data"]["meta"]["total"] == 1


async def test_bola_and_ids(client, pool):
    c = await cast(client, pool)
    # a record of another pet, even one the caller owns, is not found through this pet
    own_other_pet = await insert_pet(pool, c.owner["id"])
    other_wid = await make_weight(pool, own_other_pet, 4, date(2024, 1, 1))
    # someone else's pet and record
    other_owner = await make_user(client.app)
    foreign_pet = await insert_pet(pool, other_owner["id"])
    foreign_wid = await make_weight(pool, foreign_pet, 4, date(2024, 1, 1))

    for wid in (other_wid, foreign_wid):
        for method, payload in (("GET", None), ("PUT", {"weight_kg": 9}), ("DELETE", None)):
            resp = await client.request(method, url(c.pet_id, wid), json=payload, headers=c.owner_h)
            assert resp.status == 404, (method, wid)
            assert_error(await resp.json(), "Resource not found.")
    assert await pool.fetchval("select weight_kg from pet_weights where id = $1", foreign_wid) == 4

    # someone else's pet itself: forbidden
    resp = await client.get(url(foreign_pet, foreign_wid), headers=c.owner_h)
    assert resp.status == 403

    for bad in ("abc", "1.5", "-1", "99999999999999999999"):
        resp = await client.get(url(c.pet_id, bad), headers=c.owner_h)
        assert resp.status == 404
        resp = await client.get(f"/api/pets/{bad}/weights", headers=c.owner_h)
        assert resp.status == 404
    resp = await client.get(url(987654321), headers=c.owner_h)
    assert resp.status == 404

    await set_pet_status(pool, c.pet_id, "deleted")
    resp = await client.get(url(c.pet_id), headers=c.owner_h)
    assert resp.status == 404
    resp = await client.post(url(c.pet_id), json={"weight_kg": 1, "record_date": "2024-01-01"}, headers=c.owner_h)
    assert resp.status == 404


async def test_pet_type_gate(client, pool):
    c = await cast(client, pool, "dog")
    wid = await make_weight(pool, c.pet_id, 10, date(2024, 1, 1))
    for method, path, payload in (
        ("GET", url(c.pet_id), None),
        ("GET", url(c.pet_id, wid), None),
        ("POST", url(c.pet_id), {"weight_kg": 10, "record_date": "2024-02-02"}),
        ("PUT", url(c.pet_id, wid), {"weight_kg": 11}),
        ("DELETE", url(c.pet_id, wid), None),
    ):
        resp = await client.request(method, path, json=payload, headers=c.owner_h)
        assert resp.status == 422, (method, path)
        assert_feature_gate(await resp.json())
    # the policy comes first: a stranger is forbidden, not told about the pet's type
    resp = await client.get(url(c.pet_id), headers=c.stranger_h)
    assert resp.status == 403


async def test_future_weights_are_allowed(client, pool):
    # the notes put no date limit on weights (medical records and vaccinations have one)
    c = await cast(client, pool)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    resp = await client.post(url(c.pet_id), json={"weight_kg": 4, "record_date": tomorrow}, headers=c.owner_h)
    assert resp.status == 201
