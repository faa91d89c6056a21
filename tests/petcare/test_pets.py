"""002's pet routes: create, accessible, details, update, delete, assign_group, current_group —
every role (owner, group creator, member, viewer, stranger, anonymous), BOLA on the pet and group
ids, validation, both field-name sets and both error shapes. The cross-contract cases are in
test_access_model.py."""

from __future__ import annotations

import pytest

from gateway.kernel.keys import pool_key
from tests.builders import bearer, make_token
from tests.petcare.care_builders import (
    Caller,
    assert_422,
    assert_error,
    call,
    caller,
    join,
    new_group,
    new_pet,
    ok,
)

FULL = {
    "name": "Fluffy",
    "pet_type": "cat",
    "breed": "Persian",
    "gender": "female",
    "birth_date": "2022-06-15T00:00:00Z",
    "current_weight_kg": 4.5,
    "target_weight_kg": 4.2,
    "height_cm": 25.0,
    "is_spayed": True,
    "microchip_id": "123456789012345",
    "daily_calorie_target": 300,
    "notes": "Very playful, likes to climb high places",
}
NO_ACCESS = "User doesn't have permission to this pet"


@pytest.fixture
async def family(client) -> dict[str, Caller]:
    """Four signed-in users; `shared` makes the first three a group's creator, member and viewer."""
    return {role: await caller(client) for role in ("creator", "member", "viewer", "stranger")}


@pytest.fixture
async def shared(client, family) -> tuple[dict, dict]:
    """The creator's pet in the creator's group, which has a member and a viewer."""
    group = await new_group(client, family["creator"])
    await join(client, family["member"], group["id"], family["creator"])
    await join(client, family["viewer"], group["id"], family["creator"], role="viewer")
    pet = await new_pet(client, family["creator"], **FULL)
    await ok(client, "POST", f"/pets/{pet['id']}/assign_group", family["creator"], json={"group_id": group["id"]})
    return group, pet


# -- create ----------------------------------------------------------------------------------------


async def test_create_answers_every_field_of_both_names_and_starts_in_the_personal_group(client):
    owner = await caller(client)
    resp = await client.post("/pets/create", json=FULL, headers=owner.headers)
    assert resp.status == 200  # the reference answers creates with 200
    body = await resp.json()
    assert body["message"] == "Pet 'Fluffy' created successfully"
    pet = body["data"]
    me = await ok(client, "GET", "/user/me", owner)
    assert pet["group_id"] == me["personal_group_id"]
    assert pet["group_name"] == "Personal"
    assert pet["owner_id"] == owner.sid and pet["owner_name"] == owner.name
    assert pet["user_permission"] == "owner"
    assert pet["birth_date"] == "2022-06-15T00:00:00Z"
    assert isinstance(pet["age"], int) and pet["age"] >= 3
    assert pet["photo_url"] == "" and pet["is_active"] is True
    for field in ("breed", "gender", "current_weight_kg", "target_weight_kg", "height_cm", "is_spayed",
                  "microchip_id", "daily_calorie_target", "notes", "pet_type", "name"):
        assert pet[field] == FULL[field], field
    assert isinstance(pet["id"], str) and pet["id"].isdigit()


async def test_create_defaults(client):
    owner = await caller(client)
    pet = await ok(client, "POST", "/pets/create", owner, json={"name": "Rex", "pet_type": "dog"})
    assert pet["gender"] == "unknown"
    assert pet["is_spayed"] is False
    assert pet["birth_date"] is None and pet["age"] is None
    assert pet["current_weight_kg"] is None


@pytest.mark.parametrize("birth_date", ["2020-03-04", "2020-03-04T00:00:00Z", "2020-03-04T10:00:00", 1583280000])
async def test_birth_date_takes_a_date_a_date_time_or_unix_seconds(client, birth_date):
    owner = await caller(client)
    pet = await new_pet(client, owner, birth_date=birth_date)
    assert pet["birth_date"] == "2020-03-04T00:00:00Z"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 51),
        ("pet_type", "hamster"),
        ("gender", "other"),
        ("current_weight_kg", 0.05),
        ("current_weight_kg", 201),
        ("target_weight_kg", 0),
        ("height_cm", 0.5),
        ("daily_calorie_target", 49),
        ("daily_calorie_target", 5001),
        ("microchip_id", "1" * 51),
        ("breed", "b" * 101),
        ("notes", "n" * 1001),
        ("birth_date", "yesterday"),
        ("is_spayed", "maybe"),
    ],
)
async def test_create_refuses_what_the_reference_refuses(client, field, value):
    owner = await caller(client)
    body = {"name": "Ok", "pet_type": "cat", field: value}
    status, body = await call(client, "POST", "/pets/create", owner, json=body)
    assert status == 422
    assert_422(body, field)


async def test_create_needs_name_and_pet_type(client):
    owner = await caller(client)
    status, body = await call(client, "POST", "/pets/create", owner, json={})
    assert status == 422
    assert set(body["details"]["field_errors"]) == {"name", "pet_type"}


async def test_anonymous_and_bad_tokens_are_401_on_every_pet_route(client):
    owner = await caller(client)
    pet = await new_pet(client, owner)
    routes = [
        ("POST", "/pets/create"),
        ("GET", "/pets/accessible"),
        ("GET", f"/pets/{pet['id']}/details"),
        ("POST", f"/pets/{pet['id']}/update"),
        ("POST", f"/pets/{pet['id']}/delete"),
        ("POST", f"/pets/{pet['id']}/assign_group"),
        ("GET", f"/pets/{pet['id']}/current_group"),
    ]
    for method, path in routes:
        resp = await client.request(method, path, json={})
        assert resp.status == 401, path
        assert_error(await resp.json(), "Not authenticated")
        resp = await client.request(method, path, json={}, headers={"Authorization": "Bearer nope"})
        assert resp.status == 401, path
        assert_error(await resp.json(), "Could not validate credentials")
    await ok(client, "GET", f"/pets/{pet['id']}/details", owner)  # untouched


# -- accessible --------------------------------------------------------------------------------------


async def test_accessible_lists_owned_and_group_pets_with_each_callers_permission(client, family, shared):
    group, pet = shared
    mine = await new_pet(client, family["member"], name="Own")
    expected = {"creator": "owner", "member": "member", "viewer": "viewer"}
    for role, permission in expected.items():
        listed = await ok(client, "GET", "/pets/accessible", family[role])
        by_id = {p["id"]: p for p in listed}
        assert by_id[pet["id"]]["user_permission"] == permission
        assert by_id[pet["id"]]["group_name"] == group["name"]
        assert by_id[pet["id"]]["owner_name"] == family["creator"].name
    member_list = await ok(client, "GET", "/pets/accessible", family["member"])
    assert [p["id"] for p in member_list] == [mine["id"], pet["id"]]  # newest first
    assert await ok(client, "GET", "/pets/accessible", family["stranger"]) == []
    resp = await client.get("/pets/accessible", headers=family["viewer"].headers)
    assert (await resp.json())["message"] == "Found 1 accessible pets"


async def test_a_pet_in_someone_elses_group_reads_as_the_callers_role_there(client, family):
    other = await new_group(client, family["member"])
    await join(client, family["creator"], other["id"], family["member"])
    pet = await new_pet(client, family["member"])
    await ok(client, "POST", f"/pets/{pet['id']}/assign_group", family["member"], json={"group_id": other["id"]})
    listed = {p["id"]: p for p in await ok(client, "GET", "/pets/accessible", family["creator"])}
    assert listed[pet["id"]]["user_permission"] == "member"
    await ok(client, "POST", f"/groups/{other['id']}/update_role", family["member"],
             json={"user_id": family["creator"].sid, "new_role": "viewer"})
    listed = {p["id"]: p for p in await ok(client, "GET", "/pets/accessible", family["creator"])}
    assert listed[pet["id"]]["user_permission"] == "viewer"
    group_pets = await ok(client, "GET", f"/groups/{other['id']}/pets", family["member"])
    assert [p["user_permission"] for p in group_pets] == ["owner"]


async def test_a_creator_sees_a_members_pet_in_their_group_as_creator(client, family):
    group = await new_group(client, family["creator"])
    await join(client, family["member"], group["id"], family["creator"])
    pet = await new_pet(client, family["member"])
    # only the creator of the target group may move a pet in: the member owns the pet, so the
    # creator's group is out of reach for them (403) ...
    status, body = await call(client, "POST", f"/pets/{pet['id']}/assign_group", family["member"],
                              json={"group_id": group["id"]})
    assert status == 403
    assert_error(body, "You don't have permission to assign this pet to this group")
    # ... the routes never put another owner's pet in a creator's group; set it in the table to see
    # what the group's creator reads for such a pet (and that they may change it)
    await client.app[pool_key].execute("update pets set group_id = $2 where id = $1", int(pet["id"]), int(group["id"]))
    listed = {p["id"]: p for p in await ok(client, "GET", "/pets/accessible", family["creator"])}
    assert listed[pet["id"]]["user_permission"] == "creator"
    await ok(client, "POST", f"/pets/{pet['id']}/update", family["creator"], json={"notes": "fed"})


# -- details -----------------------------------------------------------------------------------------


async def test_details_for_every_role(client, family, shared):
    _, pet = shared
    for role in ("creator", "member", "viewer"):
        resp = await client.get(f"/pets/{pet['id']}/details", headers=family[role].headers)
        assert resp.status == 200, role
        body = await resp.json()
        assert body["message"] == "Details for pet 'Fluffy' retrieved successfully"
        assert body["data"]["age"] is not None
    status, body = await call(client, "GET", f"/pets/{pet['id']}/details", family["stranger"])
    assert status == 403
    assert_error(body, NO_ACCESS)


@pytest.mark.parametrize("pet_id", ["999999999", "abc", "0", "-1", "1.5", "99999999999999999999999"])
async def test_a_pet_id_that_names_no_pet_is_404(client, pet_id):
    who = await caller(client)
    for method, path in [("GET", "details"), ("POST", "update"), ("POST", "delete"), ("GET", "current_group")]:
        status, body = await call(client, method, f"/pets/{pet_id}/{path}", who, json={})
        assert status == 404, path
        assert_error(body, "Pet not found")
    status, body = await call(client, "POST", f"/pets/{pet_id}/assign_group", who, json={"group_id": "1"})
    assert status == 404
    assert_error(body, "Pet not found")


# -- update ------------------------------------------------------------------------------------------


async def test_owner_creator_and_member_update_viewer_and_stranger_do_not(client, family, shared):
    _, pet = shared
    for i, role in enumerate(("creator", "member")):
        data = await ok(client, "POST", f"/pets/{pet['id']}/update", family[role], json={"notes": f"note {i}"})
        assert data["notes"] == f"note {i}"
    status, body = await call(client, "POST", f"/pets/{pet['id']}/update", family["viewer"], json={"notes": "x"})
    assert status == 403
    assert_error(body, "You don't have permission to modify this pet")
    status, body = await call(client, "POST", f"/pets/{pet['id']}/update", family["stranger"], json={"notes": "x"})
    assert status == 403
    assert_error(body, NO_ACCESS)
    assert (await ok(client, "GET", f"/pets/{pet['id']}/details", family["creator"]))["notes"] == "note 1"


async def test_update_is_partial_and_null_leaves_a_field(client):
    owner = await caller(client)
    pet = await new_pet(client, owner, **FULL)
    resp = await client.post(
        f"/pets/{pet['id']}/update", json={"name": "Snow", "breed": None, "gender": "male"}, headers=owner.headers
    )
    body = await resp.json()
    assert body["message"] == "Pet 'Snow' updated successfully"
    data = body["data"]
    assert data["name"] == "Snow" and data["gender"] == "male"
    assert data["breed"] == "Persian" and data["notes"] == FULL["notes"] and data["current_weight_kg"] == 4.5
    changes = {"birth_date": 1583280000, "pet_type": "dog"}
    data = await ok(client, "POST", f"/pets/{pet['id']}/update", owner, json=changes)
    assert data["birth_date"] == "2020-03-04T00:00:00Z" and data["pet_type"] == "dog"
    data = await ok(client, "POST", f"/pets/{pet['id']}/update", owner, json={})
    assert data["name"] == "Snow"


async def test_update_validates_like_create(client):
    owner = await caller(client)
    pet = await new_pet(client, owner)
    for field, value in [("name", ""), ("current_weight_kg", 500), ("daily_calorie_target", 10), ("gender", "x")]:
        status, body = await call(client, "POST", f"/pets/{pet['id']}/update", owner, json={field: value})
        assert status == 422, field
        assert_422(body, field)


# -- delete ------------------------------------------------------------------------------------------


async def test_only_the_owner_deletes_and_the_pet_is_gone_everywhere(client, family, shared):
    group, pet = shared
    for role in ("member", "viewer"):
        status, body = await call(client, "POST", f"/pets/{pet['id']}/delete", family[role])
        assert status == 403, role
        assert_error(body, "You don't have permission to delete this pet")
    status, body = await call(client, "POST", f"/pets/{pet['id']}/delete", family["stranger"])
    assert status == 403
    assert_error(body, NO_ACCESS)
    resp = await client.post(f"/pets/{pet['id']}/delete", headers=family["creator"].headers)
    body = await resp.json()
    assert resp.status == 200 and body["message"] == "Pet deleted successfully"
    assert body["data"] == {"message": "Pet has been deleted successfully", "pet_id": pet["id"], "pet_name": "Fluffy"}
    for role in ("creator", "member"):
        status, body = await call(client, "GET", f"/pets/{pet['id']}/details", family[role])
        assert status == 404
        assert_error(body, "Pet not found")
        assert await ok(client, "GET", "/pets/accessible", family[role]) == []
    assert await ok(client, "GET", f"/groups/{group['id']}/pets", family["creator"]) == []
    status, _ = await call(client, "POST", f"/pets/{pet['id']}/delete", family["creator"])
    assert status == 404
    # soft: the row and its weight stay
    pool = client.app[pool_key]
    assert await pool.fetchval("select status from pets where id = $1", int(pet["id"])) == "deleted"
    assert await pool.fetchval("select count(*) from pet_weights where pet_id = $1", int(pet["id"])) == 1


# -- assign_group / current_group --------------------------------------------------------------------


async def test_assign_moves_the_pet_and_its_access_with_it(client, family, shared):
    group, pet = shared
    elsewhere = await new_group(client, family["creator"])
    resp = await client.post(
        f"/pets/{pet['id']}/assign_group", json={"group_id": int(elsewhere["id"])}, headers=family["creator"].headers
    )
    body = await resp.json()
    assert body["message"] == f"Pet 'Fluffy' assigned to group '{elsewhere['name']}'"
    assert body["data"]["group_id"] == elsewhere["id"] and body["data"]["user_role_in_group"] == "creator"
    assert body["data"]["member_count"] == 1 and body["data"]["is_creator"] is True
    # the old group's member and viewer lose it at once
    for role in ("member", "viewer"):
        status, body = await call(client, "GET", f"/pets/{pet['id']}/details", family[role])
        assert status == 403
        assert_error(body, NO_ACCESS)
    assert await ok(client, "GET", f"/groups/{group['id']}/pets", family["member"]) == []


async def test_assign_needs_the_owner_and_the_creator_of_the_target(client, family, shared):
    group, pet = shared
    # member and viewer of the pet's group are not its owner
    for role in ("member", "viewer"):
        status, body = await call(client, "POST", f"/pets/{pet['id']}/assign_group", family[role],
                                  json={"group_id": group["id"]})
        assert status == 403
        assert_error(body, "You don't have permission to assign this pet to a group")
    # the owner, into a group they are only a member of
    theirs = await new_group(client, family["member"])
    await join(client, family["creator"], theirs["id"], family["member"])
    status, body = await call(client, "POST", f"/pets/{pet['id']}/assign_group", family["creator"],
                              json={"group_id": theirs["id"]})
    assert status == 403
    assert_error(body, "You don't have permission to assign this pet to this group")
    # another user's group the owner is not in, a group that does not exist, an id that names none
    strangers = await new_group(client, family["stranger"])
    for group_id in (strangers["id"], "999999999", "abc"):
        status, body = await call(client, "POST", f"/pets/{pet['id']}/assign_group", family["creator"],
                                  json={"group_id": group_id})
        assert status == 404, group_id
        assert_error(body, "Group not found")
    status, body = await call(client, "POST", f"/pets/{pet['id']}/assign_group", family["creator"], json={})
    assert status == 422
    assert_422(body, "group_id")
    current = await ok(client, "GET", f"/pets/{pet['id']}/current_group", family["creator"])
    assert current["group_id"] == group["id"]


async def test_current_group_for_every_role(client, family, shared):
    group, pet = shared
    for role, in_group in (("creator", "creator"), ("member", "member"), ("viewer", "viewer")):
        data = await ok(client, "GET", f"/pets/{pet['id']}/current_group", family[role])
        assert data["group_id"] == group["id"] and data["group_name"] == group["name"]
        assert data["user_role_in_group"] == in_group
        assert data["member_count"] == 3
        assert data["pet_name"] == "Fluffy"
    status, body = await call(client, "GET", f"/pets/{pet['id']}/current_group", family["stranger"])
    assert status == 403
    assert_error(body, NO_ACCESS)


async def test_a_personal_access_token_needs_the_ability_for_the_act(client):
    owner = await caller(client)
    pet = await new_pet(client, owner)
    read_only = bearer(await make_token(client.app, owner.id, abilities=("read",)))
    assert (await client.get("/pets/accessible", headers=read_only)).status == 200
    assert (await client.get(f"/pets/{pet['id']}/details", headers=read_only)).status == 200
    for path, body in [
        ("/pets/create", {"name": "No", "pet_type": "cat"}),
        (f"/pets/{pet['id']}/update", {"notes": "no"}),
        (f"/pets/{pet['id']}/delete", {}),
        ("/groups/create", {"name": "No"}),
    ]:
        resp = await client.post(path, json=body, headers=read_only)
        assert resp.status == 403, path
        data = await resp.json()
        assert data["details"]["error_type"] == "missing_ability"
    creator = bearer(await make_token(client.app, owner.id, abilities=("create",)))
    assert (await client.post("/pets/create", json={"name": "Yes", "pet_type": "cat"}, headers=creator)).status == 200
    resp = await client.get("/pets/accessible", headers=creator)
    assert resp.status == 403
