"""000: /api/pets/{pet}/microchips — CRUD, global chip uniqueness, validation, access, abilities, gate."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.builders import make_user
from tests.health_builders import (
    assert_error,
    assert_feature_gate,
    cast,
    insert_pet,
    make_microchip,
    token_headers,
)


def chip() -> str:
    """A fresh 15-digit chip number (the database lives for the whole session)."""
    return str(uuid.uuid4().int)[:15]


def url(pet_id: int, record_id: int | str | None = None) -> str:
    base = f"/api/pets/{pet_id}/microchips"
    return base if record_id is None else f"{base}/{record_id}"


async def test_owner_crud(client, pool):
    c = await cast(client, pool)
    number = chip()
    body = {"chip_number": f"  {number} ", "issuer": "HomeAgain", "implanted_at": "2024-01-15"}
    resp = await client.post(url(c.pet_id), json=body, headers=c.owner_h)
    assert resp.status == 201
    payload = await resp.json()
    assert payload["message"] == "Microchip record created successfully."
    created = payload["data"]
    assert (created["chip_number"], created["issuer"], created["implanted_at"]) == (number, "HomeAgain", "2024-01-15")
    assert set(created) == {"id", "pet_id", "chip_number", "issuer", "implanted_at", "created_at", "updated_at"}
    mid = created["id"]

    resp = await client.get(url(c.pet_id, mid), headers=c.owner_h)
    assert resp.status == 200 and (await resp.json())["data"] == created

    # keeping its own number is not a duplicate
    resp = await client.put(url(c.pet_id, mid), json={"chip_number": number, "issuer": None}, headers=c.owner_h)
    assert resp.status == 200
    updated = (await resp.json())["data"]
    assert updated["issuer"] is None and updated["chip_number"] == number

    resp = await client.delete(url(c.pet_id, mid), headers=c.owner_h)
    assert resp.status == 200 and (await resp.json())["data"] is True
    assert (await client.get(url(c.pet_id, mid), headers=c.owner_h)).status == 404


async def test_only_chip_number_is_required(client, pool):
    c = await cast(client, pool)
    resp = await client.post(url(c.pet_id), json={"chip_number": chip()}, headers=c.owner_h)
    assert resp.status == 201
    data = (await resp.json())["data"]
    assert data["issuer"] is None and data["implanted_at"] is None


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({}, "chip_number", "The chip number field is required."),
        ({"chip_number": ""}, "chip_number", "The chip number field is required."),
        ({"chip_number": "123456789"}, "chip_number", "The chip number must be at least 10 characters."),
        ({"chip_number": "1" * 21}, "chip_number", "The chip number may not be greater than 20 characters."),
        ({"chip_number": 123456789012345}, "chip_number", "The chip number must be a string."),
        ({"chip_number": "CHIP", "issuer": "x" * 256}, "issuer", "The issuer may not be greater than 255 characters."),
        (
            {"chip_number": "CHIP", "implanted_at": "later"},
            "implanted_at",
            "The implanted at field must be a valid date.",
        ),
        (
            {"chip_number": "CHIP", "implanted_at": "FUTURE"},
            "implanted_at",
            "The implanted at field must be a date before or equal to today.",
        ),
    ],
)
async def test_create_validation(client, pool, body, field, message):
    owner = await make_user(client.app)
    pet_id = await insert_pet(pool, owner["id"])
    if body.get("chip_number") == "CHIP":
        body = {**body, "chip_number": chip()}
    if body.get("implanted_at") == "FUTURE":
        body = {**body, "implanted_at": (datetime.now(UTC).date() + timedelta(days=1)).isoformat()}
    resp = await client.post(url(pet_id), json=body, headers=await token_headers(client, owner["id"], "*"))
    assert resp.status == 422
    payload = await resp.json()
    assert payload["success"] is False
    assert payload["errors"] == {field: [message]}


async def test_chip_numbers_are_globally_unique(client, pool):
    c = await cast(client, pool)
    number = chip()
    assert (await client.post(url(c.pet_id), json={"chip_number": number}, headers=c.owner_h)).status == 201
    # same pet
    resp = await client.post(url(c.pet_id), json={"chip_number": number}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"chip_number": ["The chip number has already been taken."]}
    # another person's pet
    other = await make_user(client.app)
    other_pet = await insert_pet(pool, other["id"])
    headers = await token_headers(client, other["id"], "*")
    resp = await client.post(url(other_pet), json={"chip_number": number}, headers=headers)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"chip_number": ["The chip number has already been taken."]}
    # an update onto a taken number
    mid = await make_microchip(pool, c.pet_id, chip())
    resp = await client.put(url(c.pet_id, mid), json={"chip_number": number}, headers=c.owner_h)
    assert resp.status == 422
    assert "chip_number" in (await resp.json())["errors"]


async def test_update_validation(client, pool):
    c = await cast(client, pool)
    mid = await make_microchip(pool, c.pet_id, chip())
    resp = await client.put(url(c.pet_id, mid), json={"chip_number": None}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"chip_number": ["The chip number field is required."]}
    resp = await client.put(url(c.pet_id, mid), json={"chip_number": "short"}, headers=c.owner_h)
    assert resp.status == 422


async def test_list_paginated(client, pool, settings):
    c = await cast(client, pool)
    undated = await make_microchip(pool, c.pet_id, chip())
    for i in range(29):
        await make_microchip(pool, c.pet_id, chip(), date(2020, 1, 1) + timedelta(days=i))
    path = settings.app_url.rstrip("/") + url(c.pet_id)
    page = (await (await client.get(url(c.pet_id), headers=c.owner_h)).json())["data"]
    assert page["data"][0]["implanted_at"] == "2020-01-29"
    assert page["links"] == {
        "first": f"{path}?page=1", "last": f"{path}?page=2", "prev": None, "next": f"{path}?page=2"
    }
    assert page["meta"] == {
        "current_page": 1, "from": 1, "last_page": 2, "per_page": 25, "to": 25, "total": 30, "path": path,
    }
    page = (await (await client.get(url(c.pet_id) + "?page=2", headers=c.owner_h)).json())["data"]
    assert len(page["data"]) == 5
    # chips without an implant date come last
    assert page["data"][-1]["id"] == undated


async def test_access_rules(client, pool):
    c = await cast(client, pool)
    mid = await make_microchip(pool, c.pet_id, chip())

    for headers in (c.owner_h, c.editor_h, c.admin_h):
        assert (await client.get(url(c.pet_id), headers=headers)).status == 200
        assert (await client.get(url(c.pet_id, mid), headers=headers)).status == 200
    for method, path, body in (
        ("POST", url(c.pet_id), {"chip_number": chip()}),
        ("PUT", url(c.pet_id, mid), {"issuer": "x"}),
        ("DELETE", url(c.pet_id, mid), None),
    ):
        assert (await client.request(method, path, json=body, headers=c.admin_h)).status == 403
    for headers in (c.viewer_h, c.stranger_h):
        for method, path, body in (
            ("GET", url(c.pet_id), None),
            ("GET", url(c.pet_id, mid), None),
            ("POST", url(c.pet_id), {"chip_number": chip()}),
            ("PUT", url(c.pet_id, mid), {"issuer": "x"}),
            ("DELETE", url(c.pet_id, mid), None),
        ):
            resp = await client.request(method, path, json=body, headers=headers)
            assert resp.status == 403, (method, path)
            assert_error(await resp.json(), "Access forbidden.")
    # an anonymous microchip list is forbidden
    resp = await client.get(url(c.pet_id))
    assert resp.status == 403
    assert_error(await resp.json(), "Access forbidden.")
    assert (await client.get(url(c.pet_id, mid))).status == 403
    for method, path in (("POST", url(c.pet_id)), ("PUT", url(c.pet_id, mid)), ("DELETE", url(c.pet_id, mid))):
        resp = await client.request(method, path, json={"chip_number": chip()})
        assert resp.status == 401
        assert_error(await resp.json(), "Unauthenticated.")
    assert (await client.post(url(c.pet_id), json={"chip_number": chip()}, headers=c.editor_h)).status == 201
    assert (await client.put(url(c.pet_id, mid), json={"issuer": "E"}, headers=c.editor_h)).status == 200
    assert (await client.delete(url(c.pet_id, mid), headers=c.editor_h)).status == 200


async def test_abilities(client, pool):
    c = await cast(client, pool)
    mid = await make_microchip(pool, c.pet_id, chip())
    oid = c.owner["id"]
    wrong = await token_headers(client, oid, "read", "health:read", "health:write")
    for method, path, payload, ability in (
        ("POST", url(c.pet_id), {"chip_number": chip()}, "create"),
        ("PUT", url(c.pet_id, mid), {"issuer": "x"}, "update"),
        ("DELETE", url(c.pet_id, mid), None, "delete"),
    ):
        resp = await client.request(method, path, json=payload, headers=wrong)
        assert resp.status == 403
        assert_error(await resp.json(), f"This personal access token does not have the required {ability} ability.")
    assert (await client.get(url(c.pet_id), headers=await token_headers(client, oid, "health:read"))).status == 200
    assert (await client.get(url(c.pet_id), headers=await token_headers(client, oid, "pet:read"))).status == 403
    create = await token_headers(client, oid, "create")
    resp = await client.post(url(c.pet_id), json={"chip_number": chip()}, headers=create)
    assert resp.status == 201
    update = await token_headers(client, oid, "update")
    resp = await client.put(url(c.pet_id, mid), json={"issuer": "u"}, headers=update)
    assert resp.status == 200
    resp = await client.delete(url(c.pet_id, mid), headers=await token_headers(client, oid, "delete"))
    assert resp.status == 200


async def test_bola(client, pool):
    c = await cast(client, pool)
    other = await make_user(client.app)
    foreign_pet = await insert_pet(pool, other["id"])
    foreign = await make_microchip(pool, foreign_pet, chip())
    for method, payload in (("GET", None), ("PUT", {"issuer": "stolen"}), ("DELETE", None)):
        resp = await client.request(method, url(c.pet_id, foreign), json=payload, headers=c.owner_h)
        assert resp.status == 404
        assert_error(await resp.json(), "Resource not found.")
    assert await pool.fetchval("select issuer from microchips where id = $1", foreign) is None
    assert (await client.get(url(foreign_pet, foreign), headers=c.owner_h)).status == 403
    assert (await client.delete(url(c.pet_id, "1e3"), headers=c.owner_h)).status == 404


async def test_pet_type_gate(client, pool):
    c = await cast(client, pool, "bird")
    mid = await make_microchip(pool, c.pet_id, chip())
    for method, path, payload in (
        ("GET", url(c.pet_id), None),
        ("GET", url(c.pet_id, mid), None),
        ("POST", url(c.pet_id), {"chip_number": chip()}),
        ("PUT", url(c.pet_id, mid), {"issuer": "x"}),
        ("DELETE", url(c.pet_id, mid), None),
    ):
        resp = await client.request(method, path, json=payload, headers=c.owner_h)
        assert resp.status == 422, (method, path)
        assert_feature_gate(await resp.json())
