"""000: pet types and one pet's create / show / update / status / delete at /api."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gateway.kernel.keys import pool_key
from storage.pets import utc_today
from tests.accounts.account_helpers import assert_err, assert_ok
from tests.builders import bearer, make_token, make_user
from tests.pet_builders import add_collaborator, make_pet, pet_type_id
from tests.web.session_helpers import forget_cookies, signed_in_user

PET_KEYS = {
    "id", "name", "birthday", "country", "description", "pet_type_id", "pet_type",
    "created_by", "status", "sex", "created_at", "updated_at",
}  # fmt: skip
TYPE_KEYS = {"id", "slug", "name", "has_weights", "has_medical_records", "has_vaccinations", "has_microchips"}
FORBIDDEN = "Access forbidden."
NOT_FOUND = "Resource not found."
INVALID = "The given data was invalid."


def ability_message(ability: str) -> str:
    return f"This personal access token does not have the required {ability} ability."


async def user_with_token(client, abilities: tuple[str, ...] = ("*",), **fields: Any):
    user = await make_user(client.app, **fields)
    token = await make_token(client.app, user["id"], abilities=abilities)
    return user, bearer(token)


async def pet_with_people(client):
    """A cat with an owner, an editor, a viewer, an admin and a stranger, each with a `*` token."""
    owner, owner_h = await user_with_token(client)
    pet = await make_pet(client.app, owner["id"], name="Mochi")
    people = {"owner": owner_h}
    for role in ("editor", "viewer"):
        user, headers = await user_with_token(client)
        await add_collaborator(client.app, pet["id"], user["id"], role)
        people[role] = headers
    people["admin"] = (await user_with_token(client, admin=True))[1]
    people["stranger"] = (await user_with_token(client))[1]
    return pet, owner, people


# ---- GET /api/pet-types ----


async def test_pet_types_are_public_with_their_flags(client):
    forget_cookies(client)
    resp = await client.get("/api/pet-types")
    assert resp.status == 200
    data = assert_ok(await resp.json(), 200, "Pet types retrieved successfully.")
    assert [t["slug"] for t in data] == ["cat", "dog", "bird", "fish", "rabbit", "other"]
    assert all(set(t) == TYPE_KEYS for t in data)
    cat, dog = data[0], data[1]
    assert cat["has_weights"] and cat["has_medical_records"] and cat["has_vaccinations"] and cat["has_microchips"]
    assert not (dog["has_weights"] or dog["has_medical_records"] or dog["has_vaccinations"] or dog["has_microchips"])


async def test_pet_types_with_any_token(client):
    _, headers = await user_with_token(client, abilities=("create",))
    assert (await client.get("/api/pet-types", headers=headers)).status == 200


# ---- POST /api/pets ----


async def test_create_empty_body_needs_name_and_country(client):
    _, headers = await user_with_token(client)
    resp = await client.post("/api/pets", json={}, headers=headers)
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, INVALID)
    assert set(errors) == {"name", "country"}
    assert errors["name"] == ["The name field is required."]
    assert errors["country"] == ["The country field is required."]


async def test_create_defaults_to_an_active_cat(client):
    user, headers = await user_with_token(client, abilities=("create",))
    resp = await client.post("/api/pets", json={"name": "  Miso ", "country": "vn"}, headers=headers)
    assert resp.status == 201
    data = assert_ok(await resp.json(), 201, "Pet created successfully.")
    assert set(data) == PET_KEYS
    assert data["name"] == "Miso" and data["country"] == "VN"
    assert data["birthday"] is None and data["description"] is None
    assert data["status"] == "active" and data["sex"] == "not_specified"
    assert data["created_by"] == user["id"]
    assert data["pet_type_id"] == await pet_type_id(client.app, "cat")
    assert set(data["pet_type"]) == TYPE_KEYS and data["pet_type"]["slug"] == "cat"
    assert data["pet_type"]["has_weights"] is True
    assert data["created_at"].endswith("Z") and data["updated_at"].endswith("Z")


async def test_create_with_every_field(client):
    user, headers = await user_with_token(client)
    dog = await pet_type_id(client.app, "dog")
    today = utc_today().isoformat()
    body = {"name": "Rex", "country": "De", "birthday": today, "description": "d" * 5000, "pet_type_id": dog,
            "sex": "female"}  # fmt: skip
    resp = await client.post("/api/pets", json=body, headers=headers)
    assert resp.status == 201, await resp.text()
    data = (await resp.json())["data"]
    assert data["pet_type_id"] == dog and data["pet_type"]["slug"] == "dog"
    assert data["pet_type"]["has_weights"] is False
    assert data["birthday"] == today and data["sex"] == "female" and data["country"] == "DE"
    assert len(data["description"]) == 5000
    async with client.app[pool_key].acquire() as conn:
        row = await conn.fetchrow("select owner_id, status from pets where id = $1", data["id"])
    assert row["owner_id"] == user["id"] and row["status"] == "active"


async def test_create_takes_a_form_body(client):
    _, headers = await user_with_token(client)
    resp = await client.post("/api/pets", data={"name": "Form", "country": "fr", "pet_type_id": "1"}, headers=headers)
    assert resp.status == 201
    assert (await resp.json())["data"]["country"] == "FR"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "x" * 256}, "name", "The name may not be greater than 255 characters."),
        ({"name": "   "}, "name", "The name field is required."),
        ({"name": None}, "name", "The name field is required."),
        ({"name": 12}, "name", "The name must be a string."),
        ({"country": "VNM"}, "country", "The country must be a 2-letter ISO 3166-1 alpha-2 code."),
        ({"country": "V1"}, "country", "The country must be a 2-letter ISO 3166-1 alpha-2 code."),
        ({"country": ""}, "country", "The country field is required."),
        ({"birthday": "2020-13-01"}, "birthday", "The birthday is not a valid date."),
        ({"birthday": "yesterday"}, "birthday", "The birthday is not a valid date."),
        ({"birthday": 20200101}, "birthday", "The birthday is not a valid date."),
        ({"description": "d" * 5001}, "description", "The description may not be greater than 5000 characters."),
        ({"sex": "unknown"}, "sex", "The selected sex is invalid."),
        ({"pet_type_id": 999999}, "pet_type_id", "The selected pet type id is invalid."),
        ({"pet_type_id": 10**15}, "pet_type_id", "The selected pet type id is invalid."),
        ({"pet_type_id": "cat"}, "pet_type_id", "The pet type id must be an integer."),
        ({"pet_type_id": True}, "pet_type_id", "The pet type id must be an integer."),
    ],
)
async def test_create_validation(client, body, field, message):
    _, headers = await user_with_token(client)
    resp = await client.post("/api/pets", json={"name": "Ok", "country": "VN", **body}, headers=headers)
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, INVALID)
    assert errors == {field: [message]}


async def test_create_birthday_in_the_future_is_422(client):
    _, headers = await user_with_token(client)
    tomorrow = (utc_today() + timedelta(days=1)).isoformat()
    resp = await client.post("/api/pets", json={"name": "A", "country": "VN", "birthday": tomorrow}, headers=headers)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"birthday": ["The birthday must be a date before or equal to today."]}


async def test_create_malformed_json_is_4xx(client):
    _, headers = await user_with_token(client)
    resp = await client.post("/api/pets", data="{nope", headers={**headers, "Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["success"] is False


async def test_create_needs_authentication(client):
    forget_cookies(client)
    resp = await client.post("/api/pets", json={"name": "A", "country": "VN"})
    assert resp.status == 401
    assert_err(await resp.json(), 401, "Unauthenticated.")


@pytest.mark.parametrize("abilities", [("read",), ("update", "delete"), ("pet:write",), ()])
async def test_create_needs_the_create_ability(client, abilities):
    _, headers = await user_with_token(client, abilities=abilities)
    resp = await client.post("/api/pets", json={"name": "A", "country": "VN"}, headers=headers)
    assert resp.status == 403
    assert_err(await resp.json(), 403, ability_message("create"))


async def test_create_from_a_session(client):
    signed = await signed_in_user(client)
    resp = await client.post("/api/pets", json={"name": "S", "country": "VN"}, cookies=signed.cookies)
    assert resp.status == 403  # no X-XSRF-TOKEN
    resp = await client.post(
        "/api/pets", json={"name": "S", "country": "VN"}, cookies=signed.cookies, headers=signed.headers
    )
    assert resp.status == 201
    assert (await resp.json())["data"]["created_by"] == signed.user["id"]


# ---- GET /api/pets/{pet} ----


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("owner", {"role": "owner", "can_edit": True, "can_delete": True, "can_manage_health": True}),
        ("editor", {"role": "editor", "can_edit": True, "can_delete": False, "can_manage_health": True}),
        ("viewer", {"role": "viewer", "can_edit": False, "can_delete": False, "can_manage_health": False}),
        ("admin", {"role": "admin", "can_edit": False, "can_delete": False, "can_manage_health": False}),
    ],
)
async def test_show_for_everyone_allowed(client, who, expected):
    pet, owner, people = await pet_with_people(client)
    resp = await client.get(f"/api/pets/{pet['id']}", headers=people[who])
    assert resp.status == 200
    data = assert_ok(await resp.json(), 200, "Pet retrieved successfully.")
    assert set(data) == PET_KEYS | {"viewer_permissions"}
    assert data["id"] == pet["id"] and data["name"] == "Mochi" and data["created_by"] == owner["id"]
    perms = data["viewer_permissions"]
    assert {k: perms[k] for k in expected} == expected
    assert perms["can_view"] is True
    assert perms["can_change_status"] is expected["can_edit"]
    assert perms["can_manage_access"] is (who == "owner")
    # admins read vaccinations and microchips, never weights or medical records
    assert perms["can_view_weights"] is expected["can_edit"]
    assert perms["can_view_vaccinations"] is (who != "viewer")


async def test_show_a_stranger_is_forbidden(client):
    pet, _, people = await pet_with_people(client)
    resp = await client.get(f"/api/pets/{pet['id']}", headers=people["stranger"])
    assert resp.status == 403
    assert assert_err(await resp.json(), 403, FORBIDDEN) is None


async def test_show_anonymous_is_forbidden(client):
    pet, _, _ = await pet_with_people(client)
    forget_cookies(client)
    resp = await client.get(f"/api/pets/{pet['id']}")
    assert resp.status == 403
    assert_err(await resp.json(), 403, FORBIDDEN)


async def test_show_has_no_ability_gate(client):
    owner, _ = await user_with_token(client)
    pet = await make_pet(client.app, owner["id"])
    token = await make_token(client.app, owner["id"], abilities=("delete",))
    assert (await client.get(f"/api/pets/{pet['id']}", headers=bearer(token))).status == 200


@pytest.mark.parametrize("raw", ["999999999", "abc", "1.5", "-1", "99999999999999999999999"])
async def test_show_missing_or_malformed_is_404(client, raw):
    _, headers = await user_with_token(client)
    resp = await client.get(f"/api/pets/{raw}", headers=headers)
    assert resp.status == 404
    assert_err(await resp.json(), 404, NOT_FOUND)


async def test_show_a_deleted_pet_is_404_even_for_its_owner(client):
    owner, headers = await user_with_token(client)
    pet = await make_pet(client.app, owner["id"], status="deleted")
    resp = await client.get(f"/api/pets/{pet['id']}", headers=headers)
    assert resp.status == 404


async def test_show_from_a_session(client):
    signed = await signed_in_user(client)
    pet = await make_pet(client.app, signed.user["id"])
    resp = await client.get(f"/api/pets/{pet['id']}", cookies=signed.cookies)
    assert resp.status == 200 and (await resp.json())["data"]["viewer_permissions"]["role"] == "owner"


# ---- PUT /api/pets/{pet} ----


@pytest.mark.parametrize("who", ["owner", "editor"])
async def test_update_by_owner_or_editor(client, who):
    pet, owner, people = await pet_with_people(client)
    rabbit = await pet_type_id(client.app, "rabbit")
    body = {"name": "Mochi II", "birthday": "2021-05-06", "country": "th", "description": "fluffy",
            "pet_type_id": rabbit, "sex": "male"}  # fmt: skip
    resp = await client.put(f"/api/pets/{pet['id']}", json=body, headers=people[who])
    assert resp.status == 200, await resp.text()
    data = assert_ok(await resp.json(), 200, "Pet updated successfully.")
    assert set(data) == PET_KEYS
    assert data["name"] == "Mochi II" and data["birthday"] == "2021-05-06" and data["country"] == "TH"
    assert data["description"] == "fluffy" and data["sex"] == "male"
    assert data["pet_type_id"] == rabbit and data["pet_type"]["slug"] == "rabbit"
    assert data["created_by"] == owner["id"] and data["status"] == "active"


async def test_update_changes_only_the_given_fields(client):
    owner, headers = await user_with_token(client, abilities=("update",))
    pet = await make_pet(client.app, owner["id"], name="Kiwi", birthday=utc_today(), description="keep", sex="female")
    resp = await client.put(f"/api/pets/{pet['id']}", json={"country": "us"}, headers=headers)
    data = (await resp.json())["data"]
    assert resp.status == 200
    assert data["country"] == "US" and data["name"] == "Kiwi" and data["description"] == "keep"
    assert data["sex"] == "female" and data["birthday"] == utc_today().isoformat()
    # birthday and description may be cleared
    resp = await client.put(f"/api/pets/{pet['id']}", json={"birthday": None, "description": None}, headers=headers)
    data = (await resp.json())["data"]
    assert data["birthday"] is None and data["description"] is None and data["name"] == "Kiwi"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": ""}, "name", "The name field is required."),
        ({"name": None}, "name", "The name field is required."),
        ({"name": "n" * 256}, "name", "The name may not be greater than 255 characters."),
        ({"country": None}, "country", "The country field is required."),
        ({"country": "ABC"}, "country", "The country must be a 2-letter ISO 3166-1 alpha-2 code."),
        ({"birthday": "2020-02-30"}, "birthday", "The birthday is not a valid date."),
        ({"description": "d" * 5001}, "description", "The description may not be greater than 5000 characters."),
        ({"sex": "other"}, "sex", "The selected sex is invalid."),
        ({"sex": None}, "sex", "The sex field is required."),
        ({"pet_type_id": None}, "pet_type_id", "The pet type id field is required."),
        ({"pet_type_id": 424242}, "pet_type_id", "The selected pet type id is invalid."),
    ],
)
async def test_update_validation(client, body, field, message):
    owner, headers = await user_with_token(client)
    pet = await make_pet(client.app, owner["id"])
    resp = await client.put(f"/api/pets/{pet['id']}", json=body, headers=headers)
    assert resp.status == 422
    assert assert_err(await resp.json(), 422, INVALID) == {field: [message]}


async def test_update_birthday_in_the_future_is_422(client):
    owner, headers = await user_with_token(client)
    pet = await make_pet(client.app, owner["id"])
    tomorrow = (utc_today() + timedelta(days=1)).isoformat()
    resp = await client.put(f"/api/pets/{pet['id']}", json={"birthday": tomorrow}, headers=headers)
    assert resp.status == 422 and set((await resp.json())["errors"]) == {"birthday"}


@pytest.mark.parametrize("who", ["viewer", "admin", "stranger"])
async def test_update_by_anyone_else_is_403(client, who):
    pet, _, people = await pet_with_people(client)
    resp = await client.put(f"/api/pets/{pet['id']}", json={"name": "Stolen"}, headers=people[who])
    assert resp.status == 403
    assert_err(await resp.json(), 403, FORBIDDEN)
    # an invalid body tells a stranger nothing either (403 before 422)
    resp = await client.put(f"/api/pets/{pet['id']}", json={"name": ""}, headers=people[who])
    assert resp.status == 403
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select name from pets where id = $1", pet["id"]) == "Mochi"


async def test_update_anonymous_is_401(client):
    pet, _, _ = await pet_with_people(client)
    forget_cookies(client)
    resp = await client.put(f"/api/pets/{pet['id']}", json={"name": "X"})
    assert resp.status == 401
    assert_err(await resp.json(), 401, "Unauthenticated.")


@pytest.mark.parametrize("path", ["", "/status"])
async def test_update_routes_need_the_update_ability(client, path):
    owner, headers = await user_with_token(client, abilities=("read", "create", "delete", "pet:write"))
    pet = await make_pet(client.app, owner["id"])
    body = {"status": "lost"} if path else {"name": "X"}
    resp = await client.put(f"/api/pets/{pet['id']}{path}", json=body, headers=headers)
    assert resp.status == 403
    assert_err(await resp.json(), 403, ability_message("update"))


@pytest.mark.parametrize("raw", ["0", "nope", "123456789012"])
async def test_update_missing_pet_is_404(client, raw):
    _, headers = await user_with_token(client)
    resp = await client.put(f"/api/pets/{raw}", json={"name": "X"}, headers=headers)
    assert resp.status == 404
    assert_err(await resp.json(), 404, NOT_FOUND)


async def test_patch_is_not_part_of_the_contract(client):
    owner, headers = await user_with_token(client)
    pet = await make_pet(client.app, owner["id"])
    resp = await client.patch(f"/api/pets/{pet['id']}", json={"name": "X"}, headers=headers)
    assert resp.status == 405
    assert_err(await resp.json(), 405, "Method not allowed.")


# ---- PUT /api/pets/{pet}/status ----


async def test_status_moves_between_the_settable_values(client):
    pet, _, people = await pet_with_people(client)
    for who, status in (("owner", "lost"), ("editor", "deceased"), ("owner", "active")):
        resp = await client.put(f"/api/pets/{pet['id']}/status", json={"status": status}, headers=people[who])
        assert resp.status == 200
        data = assert_ok(await resp.json(), 200, "Pet status updated successfully.")
        assert data["status"] == status and set(data) == PET_KEYS


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "deleted"}, "The selected status is invalid."),
        ({"status": "sleeping"}, "The selected status is invalid."),
        ({}, "The status field is required."),
    ],
)
async def test_status_validation(client, body, message):
    owner, headers = await user_with_token(client)
    pet = await make_pet(client.app, owner["id"])
    resp = await client.put(f"/api/pets/{pet['id']}/status", json=body, headers=headers)
    assert resp.status == 422
    assert assert_err(await resp.json(), 422, INVALID) == {"status": [message]}


@pytest.mark.parametrize("who", ["viewer", "admin", "stranger"])
async def test_status_by_anyone_else_is_403(client, who):
    pet, _, people = await pet_with_people(client)
    resp = await client.put(f"/api/pets/{pet['id']}/status", json={"status": "lost"}, headers=people[who])
    assert resp.status == 403
    assert_err(await resp.json(), 403, FORBIDDEN)


async def test_status_anonymous_401_and_missing_404(client):
    _, headers = await user_with_token(client)
    assert (await client.put("/api/pets/99999999/status", json={"status": "lost"}, headers=headers)).status == 404
    forget_cookies(client)
    assert (await client.put("/api/pets/1/status", json={"status": "lost"})).status == 401


# ---- DELETE /api/pets/{pet} ----


async def test_delete_is_soft_and_answers_204(client):
    owner, headers = await user_with_token(client, abilities=("delete", "read", "update"))
    pet = await make_pet(client.app, owner["id"])
    resp = await client.delete(f"/api/pets/{pet['id']}", headers=headers)
    assert resp.status == 204
    assert await resp.read() == b""
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select status from pets where id = $1", pet["id"]) == "deleted"
    assert (await client.get(f"/api/pets/{pet['id']}", headers=headers)).status == 404
    assert (await client.put(f"/api/pets/{pet['id']}", json={"name": "Z"}, headers=headers)).status == 404
    assert (await client.delete(f"/api/pets/{pet['id']}", headers=headers)).status == 404
    listed = (await (await client.get("/api/my-pets", headers=headers)).json())["data"]
    assert pet["id"] not in [p["id"] for p in listed]


@pytest.mark.parametrize("who", ["editor", "viewer", "admin", "stranger"])
async def test_only_the_owner_deletes(client, who):
    pet, _, people = await pet_with_people(client)
    resp = await client.delete(f"/api/pets/{pet['id']}", headers=people[who])
    assert resp.status == 403
    assert_err(await resp.json(), 403, FORBIDDEN)
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select status from pets where id = $1", pet["id"]) == "active"


async def test_delete_needs_the_delete_ability(client):
    owner, headers = await user_with_token(client, abilities=("read", "create", "update"))
    pet = await make_pet(client.app, owner["id"])
    resp = await client.delete(f"/api/pets/{pet['id']}", headers=headers)
    assert resp.status == 403
    assert_err(await resp.json(), 403, ability_message("delete"))


async def test_delete_anonymous_401_and_missing_404(client):
    _, headers = await user_with_token(client)
    resp = await client.delete("/api/pets/abc", headers=headers)
    assert resp.status == 404
    assert_err(await resp.json(), 404, NOT_FOUND)
    forget_cookies(client)
    assert (await client.delete("/api/pets/1")).status == 401


async def test_delete_from_a_session_needs_xsrf(client):
    signed = await signed_in_user(client)
    pet = await make_pet(client.app, signed.user["id"])
    assert (await client.delete(f"/api/pets/{pet['id']}", cookies=signed.cookies)).status == 403
    resp = await client.delete(f"/api/pets/{pet['id']}", cookies=signed.cookies, headers=signed.headers)
    assert resp.status == 204
