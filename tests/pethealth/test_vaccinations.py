"""000: /api/pets/{pet}/vaccinations — CRUD, renew, ?status=, validation, access, abilities, gate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.builders import make_user
from tests.health_builders import (
    assert_error,
    assert_feature_gate,
    cast,
    insert_pet,
    make_vaccination,
    token_headers,
)

VALID = {"vaccine_name": "Rabies", "administered_at": "2024-06-01", "due_at": "2025-06-01", "notes": "left leg"}


def url(pet_id: int, record_id: int | str | None = None, renew: bool = False) -> str:
    base = f"/api/pets/{pet_id}/vaccinations"
    if record_id is None:
        return base
    return f"{base}/{record_id}/renew" if renew else f"{base}/{record_id}"


def tomorrow() -> str:
    return (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


async def test_owner_crud(client, pool):
    c = await cast(client, pool)
    resp = await client.post(url(c.pet_id), json=VALID, headers=c.owner_h)
    assert resp.status == 201
    body = await resp.json()
    assert body["message"] == "Vaccination record created successfully."
    created = body["data"]
    assert {k: created[k] for k in VALID} == VALID
    assert created["completed_at"] is None and created["pet_id"] == c.pet_id
    assert set(created) == {"id", "pet_id", *VALID, "completed_at", "created_at", "updated_at"}
    vid = created["id"]

    resp = await client.get(url(c.pet_id, vid), headers=c.owner_h)
    assert resp.status == 200 and (await resp.json())["data"] == created

    resp = await client.put(url(c.pet_id, vid), json={"notes": "right leg", "due_at": None}, headers=c.owner_h)
    assert resp.status == 200
    updated = (await resp.json())["data"]
    assert updated["notes"] == "right leg" and updated["due_at"] is None and updated["vaccine_name"] == "Rabies"

    resp = await client.delete(url(c.pet_id, vid), headers=c.owner_h)
    assert resp.status == 200 and (await resp.json())["data"] is True
    assert (await client.get(url(c.pet_id, vid), headers=c.owner_h)).status == 404


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"vaccine_name": None}, "vaccine_name", "The vaccine name field is required."),
        ({"vaccine_name": ""}, "vaccine_name", "The vaccine name field is required."),
        ({"vaccine_name": "x" * 256}, "vaccine_name", "The vaccine name may not be greater than 255 characters."),
        ({"administered_at": None}, "administered_at", "The administered at field is required."),
        ({"administered_at": "June"}, "administered_at", "The administered at field must be a valid date."),
        (
            {"administered_at": "FUTURE", "due_at": None},
            "administered_at",
            "The administered at field must be a date before or equal to today.",
        ),
        ({"due_at": "2024-05-31"}, "due_at", "The due at field must be a date after or equal to administered at."),
        ({"due_at": "soon"}, "due_at", "The due at field must be a valid date."),
        ({"notes": "n" * 1001}, "notes", "The notes may not be greater than 1000 characters."),
    ],
)
async def test_create_validation(client, pool, changes, field, message):
    owner = await make_user(client.app)
    pet_id = await insert_pet(pool, owner["id"])
    body = {**VALID, **changes}
    if body.get("administered_at") == "FUTURE":
        body["administered_at"] = tomorrow()
    body = {k: v for k, v in body.items() if v is not None}
    resp = await client.post(url(pet_id), json=body, headers=await token_headers(client, owner["id"], "*"))
    assert resp.status == 422
    payload = await resp.json()
    assert payload["success"] is False
    assert payload["errors"] == {field: [message]}


async def test_due_on_the_administered_day_is_fine(client, pool):
    c = await cast(client, pool)
    resp = await client.post(
        url(c.pet_id), json={"vaccine_name": "FVRCP", "administered_at": "2024-01-01", "due_at": "2024-01-01"},
        headers=c.owner_h,
    )
    assert resp.status == 201


async def test_unique_name_and_date_per_pet(client, pool):
    c = await cast(client, pool)
    assert (await client.post(url(c.pet_id), json=VALID, headers=c.owner_h)).status == 201
    resp = await client.post(url(c.pet_id), json=VALID, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"vaccine_name": ["The vaccine name has already been taken."]}
    # same name another day, or same day another pet: fine
    resp = await client.post(url(c.pet_id), json={**VALID, "administered_at": "2024-06-02"}, headers=c.owner_h)
    assert resp.status == 201
    pet2 = await insert_pet(pool, c.owner["id"])
    assert (await client.post(url(pet2), json=VALID, headers=c.owner_h)).status == 201


async def test_update_checks_due_against_the_stored_date(client, pool):
    c = await cast(client, pool)
    vid = await make_vaccination(pool, c.pet_id, "Rabies", date(2024, 6, 1), date(2025, 6, 1))
    resp = await client.put(url(c.pet_id, vid), json={"due_at": "2024-01-01"}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {
        "due_at": ["The due at field must be a date after or equal to administered at."]
    }
    resp = await client.put(url(c.pet_id, vid), json={"administered_at": "2025-07-01"}, headers=c.owner_h)
    assert resp.status == 422  # in the future
    resp = await client.put(url(c.pet_id, vid), json={"vaccine_name": None}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"vaccine_name": ["The vaccine name field is required."]}
    await make_vaccination(pool, c.pet_id, "FeLV", date(2024, 6, 1))
    resp = await client.put(url(c.pet_id, vid), json={"vaccine_name": "FeLV"}, headers=c.owner_h)
    assert resp.status == 422
    assert "vaccine_name" in (await resp.json())["errors"]


async def test_status_filter(client, pool):
    c = await cast(client, pool)
    open_old = await make_vaccination(pool, c.pet_id, "A", date(2024, 1, 1))
    open_new = await make_vaccination(pool, c.pet_id, "B", date(2024, 2, 1))
    done = await make_vaccination(pool, c.pet_id, "C", date(2024, 3, 1), completed=True)

    async def ids(query: str) -> list[int]:
        resp = await client.get(url(c.pet_id) + query, headers=c.owner_h)
        assert resp.status == 200
        return [v["id"] for v in (await resp.json())["data"]["data"]]

    assert await ids("") == [open_new, open_old]
    assert await ids("?status=active") == [open_new, open_old]
    assert await ids("?status=completed") == [done]
    assert await ids("?status=all") == [done, open_new, open_old]
    resp = await client.get(url(c.pet_id) + "?status=everything", headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"status": ["The selected status is invalid."]}


async def test_renew(client, pool):
    c = await cast(client, pool)
    vid = await make_vaccination(pool, c.pet_id, "Rabies", date(2023, 6, 1), date(2024, 6, 1))
    resp = await client.post(
        url(c.pet_id, vid, renew=True),
        json={"administered_at": "2024-06-01", "due_at": "2025-06-01", "notes": "booster", "vaccine_name": "Ignored"},
        headers=c.editor_h,
    )
    assert resp.status == 201
    body = await resp.json()
    assert body["message"] == "Vaccination renewed successfully."
    new = body["data"]
    assert new["id"] != vid
    assert (new["vaccine_name"], new["administered_at"], new["due_at"], new["notes"], new["completed_at"]) == (
        "Rabies", "2024-06-01", "2025-06-01", "booster", None,
    )
    old = (await (await client.get(url(c.pet_id, vid), headers=c.owner_h)).json())["data"]
    assert old["completed_at"] is not None and old["completed_at"].endswith("Z")

    # the old one is completed: renewing it again is refused, and nothing is written
    before = await pool.fetchval("select count(*) from vaccinations where pet_id = $1", c.pet_id)
    resp = await client.post(url(c.pet_id, vid, renew=True), json={"administered_at": "2024-07-01"}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"record": ["This vaccination record has already been completed."]}
    assert await pool.fetchval("select count(*) from vaccinations where pet_id = $1", c.pet_id) == before

    # the lists see it
    listed = (await (await client.get(url(c.pet_id), headers=c.owner_h)).json())["data"]["data"]
    assert [v["id"] for v in listed] == [new["id"]]


async def test_renew_validation_and_conflicts(client, pool):
    c = await cast(client, pool)
    vid = await make_vaccination(pool, c.pet_id, "Rabies", date(2023, 6, 1))
    resp = await client.post(url(c.pet_id, vid, renew=True), json={}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"administered_at": ["The administered at field is required."]}
    resp = await client.post(
        url(c.pet_id, vid, renew=True),
        json={"administered_at": "2024-06-01", "due_at": "2024-01-01"},
        headers=c.owner_h,
    )
    assert resp.status == 422
    assert "due_at" in (await resp.json())["errors"]
    resp = await client.post(url(c.pet_id, vid, renew=True), json={"administered_at": tomorrow()}, headers=c.owner_h)
    assert resp.status == 422
    # same name and date as the record itself: the date collides; the old one stays open
    resp = await client.post(url(c.pet_id, vid, renew=True), json={"administered_at": "2023-06-01"}, headers=c.owner_h)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"administered_at": ["The administered at has already been taken."]}
    assert await pool.fetchval("select completed_at from vaccinations where id = $1", vid) is None


async def test_access_rules(client, pool):
    c = await cast(client, pool)
    vid = await make_vaccination(pool, c.pet_id, "Rabies", date(2024, 1, 1))

    # admins read vaccinations, but don't write them
    for headers in (c.owner_h, c.editor_h, c.admin_h):
        assert (await client.get(url(c.pet_id), headers=headers)).status == 200
        assert (await client.get(url(c.pet_id, vid), headers=headers)).status == 200
    for method, path, body in (
        ("POST", url(c.pet_id), VALID),
        ("PUT", url(c.pet_id, vid), {"notes": "x"}),
        ("POST", url(c.pet_id, vid, renew=True), {"administered_at": "2024-02-01"}),
        ("DELETE", url(c.pet_id, vid), None),
    ):
        resp = await client.request(method, path, json=body, headers=c.admin_h)
        assert resp.status == 403
    for headers in (c.viewer_h, c.stranger_h):
        for method, path, body in (
            ("GET", url(c.pet_id), None),
            ("GET", url(c.pet_id, vid), None),
            ("POST", url(c.pet_id), VALID),
            ("PUT", url(c.pet_id, vid), {"notes": "x"}),
            ("POST", url(c.pet_id, vid, renew=True), {"administered_at": "2024-02-01"}),
            ("DELETE", url(c.pet_id, vid), None),
        ):
            resp = await client.request(method, path, json=body, headers=headers)
            assert resp.status == 403, (method, path)
            assert_error(await resp.json(), "Access forbidden.")
    assert (await client.get(url(c.pet_id))).status == 403
    assert (await client.get(url(c.pet_id, vid))).status == 403
    for method, path in (
        ("POST", url(c.pet_id)),
        ("PUT", url(c.pet_id, vid)),
        ("POST", url(c.pet_id, vid, renew=True)),
        ("DELETE", url(c.pet_id, vid)),
    ):
        resp = await client.request(method, path, json=VALID)
        assert resp.status == 401
        assert_error(await resp.json(), "Unauthenticated.")
    # editors write
    assert (await client.put(url(c.pet_id, vid), json={"notes": "e"}, headers=c.editor_h)).status == 200
    assert (await client.delete(url(c.pet_id, vid), headers=c.editor_h)).status == 200


async def test_abilities(client, pool):
    c = await cast(client, pool)
    vid = await make_vaccination(pool, c.pet_id, "Rabies", date(2023, 1, 1))
    oid = c.owner["id"]
    wrong = await token_headers(client, oid, "read", "health:write", "pet:write")
    for method, path, payload, ability in (
        ("POST", url(c.pet_id), VALID, "create"),
        ("PUT", url(c.pet_id, vid), {"notes": "x"}, "update"),
        ("POST", url(c.pet_id, vid, renew=True), {"administered_at": "2024-01-01"}, "create"),
        ("DELETE", url(c.pet_id, vid), None, "delete"),
    ):
        resp = await client.request(method, path, json=payload, headers=wrong)
        assert resp.status == 403
        assert_error(await resp.json(), f"This personal access token does not have the required {ability} ability.")
    assert (await client.get(url(c.pet_id), headers=await token_headers(client, oid, "read"))).status == 200
    assert (await client.get(url(c.pet_id, vid), headers=await token_headers(client, oid, "delete"))).status == 403
    create = await token_headers(client, oid, "create")
    assert (await client.post(url(c.pet_id), json=VALID, headers=create)).status == 201
    resp = await client.put(url(c.pet_id, vid), json={"notes": "u"}, headers=await token_headers(client, oid, "update"))
    assert resp.status == 200
    resp = await client.post(
        url(c.pet_id, vid, renew=True), json={"administered_at": "2024-01-01"}, headers=create
    )
    assert resp.status == 201
    resp = await client.delete(url(c.pet_id, vid), headers=await token_headers(client, oid, "delete"))
    assert resp.status == 200


async def test_bola(client, pool):
    c = await cast(client, pool)
    other_owner = await make_user(client.app)
    foreign_pet = await insert_pet(pool, other_owner["id"])
    foreign = await make_vaccination(pool, foreign_pet, "Rabies", date(2024, 1, 1))
    for method, path, payload in (
        ("GET", url(c.pet_id, foreign), None),
        ("PUT", url(c.pet_id, foreign), {"notes": "x"}),
        ("POST", url(c.pet_id, foreign, renew=True), {"administered_at": "2024-02-01"}),
        ("DELETE", url(c.pet_id, foreign), None),
        ("GET", url(c.pet_id, "x1"), None),
        ("POST", url(c.pet_id, "x1", renew=True), {"administered_at": "2024-02-01"}),
    ):
        resp = await client.request(method, path, json=payload, headers=c.owner_h)
        assert resp.status == 404, (method, path)
        assert_error(await resp.json(), "Resource not found.")
    assert await pool.fetchval("select completed_at from vaccinations where id = $1", foreign) is None
    assert (await client.get(url(foreign_pet, foreign), headers=c.owner_h)).status == 403


async def test_pagination(client, pool, settings):
    c = await cast(client, pool)
    for i in range(30):
        await make_vaccination(pool, c.pet_id, f"V{i}", date(2023, 1, 1) + timedelta(days=i))
    path = settings.app_url.rstrip("/") + url(c.pet_id)
    page = (await (await client.get(url(c.pet_id) + "?status=all&page=2", headers=c.admin_h)).json())["data"]
    assert [v["vaccine_name"] for v in page["data"]] == [f"V{i}" for i in range(4, -1, -1)]
    assert page["links"] == {
        "first": f"{path}?page=1", "last": f"{path}?page=2", "prev": f"{path}?page=1", "next": None
    }
    assert page["meta"] == {
        "current_page": 2, "from": 26, "last_page": 2, "per_page": 25, "to": 30, "total": 30, "path": path,
    }


async def test_pet_type_gate(client, pool):
    c = await cast(client, pool, "dog")
    vid = await make_vaccination(pool, c.pet_id, "Rabies", date(2024, 1, 1))
    for headers in (c.owner_h, c.admin_h):
        resp = await client.get(url(c.pet_id), headers=headers)
        assert resp.status == 422
        assert_feature_gate(await resp.json())
    for method, path, payload in (
        ("GET", url(c.pet_id, vid), None),
        ("POST", url(c.pet_id), VALID),
        ("PUT", url(c.pet_id, vid), {"notes": "x"}),
        ("POST", url(c.pet_id, vid, renew=True), {"administered_at": "2024-02-01"}),
        ("DELETE", url(c.pet_id, vid), None),
    ):
        resp = await client.request(method, path, json=payload, headers=c.owner_h)
        assert resp.status == 422, (method, path)
        assert_feature_gate(await resp.json())
