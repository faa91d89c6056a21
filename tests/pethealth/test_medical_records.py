"""000: /api/pets/{pet}/medical-records — CRUD, validation, access, abilities, gate, pagination."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.builders import make_user
from tests.health_builders import (
    assert_error,
    assert_feature_gate,
    cast,
    insert_pet,
    make_medical_record,
    token_headers,
)

VALID = {"record_type": "checkup", "description": "Annual exam", "record_date": "2024-03-01", "vet_name": "Dr. Mai"}


def url(pet_id: int, record_id: int | str | None = None) -> str:
    base = f"/api/pets/{pet_id}/medical-records"
    return base if record_id is None else f"{base}/{record_id}"


def tomorrow() -> str:
    return (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


async def test_owner_crud(client, pool):
    c = await cast(client, pool)
    resp = await client.post(url(c.pet_id), json=VALID, headers=c.owner_h)
    assert resp.status == 201
    body = await resp.json()
    assert body["message"] == "Medical record created successfully."
    created = body["data"]
    assert {k: created[k] for k in VALID} == VALID
    assert set(created) == {"id", "pet_id", *VALID, "created_at", "updated_at"}
    assert created["pet_id"] == c.pet_id
    rid = created["id"]

    resp = await client.get(url(c.pet_id, rid), headers=c.owner_h)
    assert resp.status == 200 and (await resp.json())["data"] == created

    resp = await client.put(url(c.pet_id, rid), json={"vet_name": "", "description": "Follow-up"}, headers=c.owner_h)
    assert resp.status == 200
    updated = (await resp.json())["data"]
    assert updated["vet_name"] is None and updated["description"] == "Follow-up"
    assert updated["record_type"] == "checkup" and updated["record_date"] == "2024-03-01"

    resp = await client.delete(url(c.pet_id, rid), headers=c.owner_h)
    assert resp.status == 200
    assert (await resp.json())["data"] is True
    resp = await client.get(url(c.pet_id, rid), headers=c.owner_h)
    assert resp.status == 404


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"record_type": None}, "record_type", "The record type field is required."),
        ({"record_type": "   "}, "record_type", "The record type field is required."),
        ({"record_type": "x" * 101}, "record_type", "The record type may not be greater than 100 characters."),
        ({"record_type": 5}, "record_type", "The record type must be a string."),
        ({"description": "x" * 2001}, "description", "The description may not be greater than 2000 characters."),
        ({"record_date": None}, "record_date", "The record date field is required."),
        ({"record_date": "yesterday"}, "record_date", "The record date field must be a valid date."),
        ({"record_date": "FUTURE"}, "record_date", "The record date field must be a date before or equal to today."),
        ({"vet_name": "x" * 256}, "vet_name", "The vet name may not be greater than 255 characters."),
    ],
)
async def test_create_validation(client, pool, changes, field, message):
    owner = await make_user(client.app)
    pet_id = await insert_pet(pool, owner["id"])
    body = {**VALID, **changes}
    if body.get("record_date") == "FUTURE":
        body["record_date"] = tomorrow()
    body = {k: v for k, v in body.items() if v is not None}
    resp = await client.post(url(pet_id), json=body, headers=await token_headers(client, owner["id"], "*"))
    assert resp.status == 422
    payload = await resp.json()
    assert payload["success"] is False and payload["data"] is None
    assert payload["errors"] == {field: [message]}


async def test_today_and_limits_are_accepted(client, pool):
    c = await cast(client, pool)
    today = datetime.now(UTC).date().isoformat()
    body = {"record_type": "x" * 100, "description": "d" * 2000, "record_date": today, "vet_name": "v" * 255}
    resp = await client.post(url(c.pet_id), json=body, headers=c.owner_h)
    assert resp.status == 201


async def test_update_validation(client, pool):
    c = await cast(client, pool)
    rid = await make_medical_record(pool, c.pet_id, date(2024, 1, 1))
    resp = await client.put(url(c.pet_id, rid), json={"record_type": ""}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"record_type": ["The record type field is required."]}
    resp = await client.put(url(c.pet_id, rid), json={"record_date": tomorrow()}, headers=c.owner_h)
    assert resp.status == 422
    assert "record_date" in (await resp.json())["errors"]


async def test_list_paginated_newest_first(client, pool, settings):
    c = await cast(client, pool)
    for i in range(30):
        await make_medical_record(pool, c.pet_id, date(2023, 1, 1) + timedelta(days=i), f"type-{i}")
    path = settings.app_url.rstrip("/") + url(c.pet_id)

    page = (await (await client.get(url(c.pet_id), headers=c.editor_h)).json())["data"]
    assert [r["record_type"] for r in page["data"]] == [f"type-{i}" for i in range(29, 4, -1)]
    assert page["links"] == {
        "first": f"{path}?page=1", "last": f"{path}?page=2", "prev": None, "next": f"{path}?page=2"
    }
    assert page["meta"] == {
        "current_page": 1, "from": 1, "last_page": 2, "per_page": 25, "to": 25, "total": 30, "path": path,
    }
    page = (await (await client.get(url(c.pet_id) + "?page=2", headers=c.owner_h)).json())["data"]
    assert [r["record_type"] for r in page["data"]] == [f"type-{i}" for i in range(4, -1, -1)]
    assert page["links"]["prev"] == f"{path}?page=1" and page["links"]["next"] is None
    assert page["meta"]["from"] == 26 and page["meta"]["to"] == 30


async def test_access_rules(client, pool):
    c = await cast(client, pool)
    rid = await make_medical_record(pool, c.pet_id, date(2024, 1, 1))

    assert (await client.get(url(c.pet_id), headers=c.editor_h)).status == 200
    assert (await client.get(url(c.pet_id, rid), headers=c.editor_h)).status == 200
    assert (await client.post(url(c.pet_id), json=VALID, headers=c.editor_h)).status == 201
    assert (await client.put(url(c.pet_id, rid), json={"vet_name": "E"}, headers=c.editor_h)).status == 200

    for headers in (c.viewer_h, c.admin_h, c.stranger_h):
        for method, path, body in (
            ("GET", url(c.pet_id), None),
            ("GET", url(c.pet_id, rid), None),
            ("POST", url(c.pet_id), VALID),
            ("PUT", url(c.pet_id, rid), {"vet_name": "X"}),
            ("DELETE", url(c.pet_id, rid), None),
        ):
            resp = await client.request(method, path, json=body, headers=headers)
            assert resp.status == 403, (method, path)
            assert_error(await resp.json(), "Access forbidden.")

    assert (await client.get(url(c.pet_id))).status == 403
    assert (await client.get(url(c.pet_id, rid))).status == 403
    for method, path in (("POST", url(c.pet_id)), ("PUT", url(c.pet_id, rid)), ("DELETE", url(c.pet_id, rid))):
        resp = await client.request(method, path, json=VALID)
        assert resp.status == 401
        assert_error(await resp.json(), "Unauthenticated.")

    assert (await client.delete(url(c.pet_id, rid), headers=c.editor_h)).status == 200


async def test_abilities(client, pool):
    c = await cast(client, pool)
    rid = await make_medical_record(pool, c.pet_id, date(2024, 1, 1))
    oid = c.owner["id"]
    for method, path, payload, ability in (
        ("POST", url(c.pet_id), VALID, "create"),
        ("PUT", url(c.pet_id, rid), {"vet_name": "X"}, "update"),
        ("DELETE", url(c.pet_id, rid), None, "delete"),
    ):
        wrong = await token_headers(client, oid, "read", "health:read", "health:write")
        resp = await client.request(method, path, json=payload, headers=wrong)
        assert resp.status == 403
        assert_error(await resp.json(), f"This personal access token does not have the required {ability} ability.")
    assert (await client.get(url(c.pet_id), headers=await token_headers(client, oid, "health:read"))).status == 200
    assert (await client.get(url(c.pet_id), headers=await token_headers(client, oid, "update"))).status == 403
    create = await token_headers(client, oid, "create")
    assert (await client.post(url(c.pet_id), json=VALID, headers=create)).status == 201
    update = await token_headers(client, oid, "update")
    resp = await client.put(url(c.pet_id, rid), json={"vet_name": "Y"}, headers=update)
    assert resp.status == 200
    resp = await client.delete(url(c.pet_id, rid), headers=await token_headers(client, oid, "delete"))
    assert resp.status == 200


async def test_bola(client, pool):
    c = await cast(client, pool)
    other_owner = await make_user(client.app)
    foreign_pet = await insert_pet(pool, other_owner["id"])
    foreign = await make_medical_record(pool, foreign_pet, date(2024, 1, 1))
    sibling = await make_medical_record(pool, await insert_pet(pool, c.owner["id"]), date(2024, 1, 1))
    for rid in (foreign, sibling):
        for method, payload in (("GET", None), ("PUT", {"vet_name": "X"}), ("DELETE", None)):
            resp = await client.request(method, url(c.pet_id, rid), json=payload, headers=c.owner_h)
            assert resp.status == 404
            assert_error(await resp.json(), "Resource not found.")
    assert (await client.get(url(foreign_pet), headers=c.owner_h)).status == 403
    assert (await client.get(url(c.pet_id, "abc"), headers=c.owner_h)).status == 404
    assert (await client.put(url(c.pet_id, "abc"), json={}, headers=c.owner_h)).status == 404


async def test_pet_type_gate(client, pool):
    c = await cast(client, pool, "dog")
    rid = await make_medical_record(pool, c.pet_id, date(2024, 1, 1))
    for method, path, payload in (
        ("GET", url(c.pet_id), None),
        ("GET", url(c.pet_id, rid), None),
        ("POST", url(c.pet_id), VALID),
        ("PUT", url(c.pet_id, rid), {"vet_name": "X"}),
        ("DELETE", url(c.pet_id, rid), None),
    ):
        resp = await client.request(method, path, json=payload, headers=c.editor_h)
        assert resp.status == 422, (method, path)
        assert_feature_gate(await resp.json())
