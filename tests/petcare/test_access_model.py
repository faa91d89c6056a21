"""One pet, two contracts: a pet made through 002 is 000's and the reverse, the latest weight is
002's current weight and the reverse, pet types and genders map, and 002's group roles and 000's
per-pet owner/editor/viewer are one access model (README, "Contract notes"), tested from both
sides."""

from __future__ import annotations

import pytest

from domain.pet_access import care_role, per_pet_role
from gateway.kernel.keys import pool_key
from tests.pet_builders import add_collaborator, make_pet
from tests.petcare.care_builders import assert_error, call, caller, join, new_group, new_pet, ok

OWNER, OTHER = 1, 2


# -- the mapping, without a database ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("grant", "group_role", "expected"),
    [
        (None, None, None),
        (None, "creator", "editor"),
        (None, "member", "editor"),
        (None, "viewer", "viewer"),
        ("viewer", None, "viewer"),
        ("editor", None, "editor"),
        ("viewer", "member", "editor"),  # the stronger wins
        ("editor", "viewer", "editor"),
    ],
)
def test_000_sees_group_roles_as_per_pet_roles(grant, group_role, expected):
    assert per_pet_role(grant, group_role) == expected


@pytest.mark.parametrize(
    ("grant", "group_role", "expected"),
    [
        (None, None, None),
        ("editor", None, "member"),
        ("viewer", None, "viewer"),
        (None, "creator", "creator"),
        ("viewer", "member", "member"),
        ("editor", "viewer", "member"),
        ("viewer", "creator", "creator"),
    ],
)
def test_002_sees_per_pet_grants_as_group_roles(grant, group_role, expected):
    assert care_role(OWNER, OTHER, grant, group_role) == expected


def test_the_owner_is_owner_whatever_else_they_hold():
    assert care_role(OWNER, OWNER, None, None) == "owner"
    assert care_role(OWNER, OWNER, "viewer", "viewer") == "owner"


# -- one pet ---------------------------------------------------------------------------------------


async def test_a_pet_made_through_002_is_in_000s_my_pets_with_its_weight(client):
    owner = await caller(client)
    pet = await new_pet(client, owner, pet_type="rabbit", gender="unknown", current_weight_kg=2.5,
                        birth_date="2021-02-03")
    mine = await ok_000(client, "GET", "/api/my-pets", owner)
    listed = next(p for p in mine if p["id"] == int(pet["id"]))
    assert listed["pet_type"]["slug"] == "rabbit"
    assert listed["sex"] == "not_specified"
    assert listed["birthday"] == "2021-02-03"
    assert listed["health_summary"]["latest_weight_kg"] == 2.5


async def test_a_pet_made_through_000_is_in_002_in_no_group_until_assigned(client):
    owner = await caller(client)
    row = await make_pet(client.app, owner.id, pet_type="dog", sex="male", name="Rex")
    listed = {p["id"]: p for p in await ok(client, "GET", "/pets/accessible", owner)}
    pet = listed[str(row["id"])]
    assert (pet["pet_type"], pet["gender"], pet["group_id"], pet["user_permission"]) == ("dog", "male", None, "owner")
    current = await ok(client, "GET", f"/pets/{row['id']}/current_group", owner)
    assert current["group_id"] is None and current["group_name"] is None and current["member_count"] is None
    group = await new_group(client, owner)
    await ok(client, "POST", f"/pets/{row['id']}/assign_group", owner, json={"group_id": group["id"]})
    assert (await ok(client, "GET", f"/pets/{row['id']}/details", owner))["group_id"] == group["id"]


async def test_000s_latest_weight_is_002s_current_weight_and_the_reverse(client):
    owner = await caller(client)
    pet = await new_pet(client, owner, current_weight_kg=4.0)
    weights = await ok_000(client, "GET", f"/api/pets/{pet['id']}/weights", owner)
    assert [w["weight_kg"] for w in weights["data"]] == [4.0]
    # a later weight through 000 is 002's current weight
    await ok_000(client, "POST", f"/api/pets/{pet['id']}/weights", owner,
                 json={"weight_kg": 4.4, "record_date": "2099-01-01"}, status=201)
    assert (await ok(client, "GET", f"/pets/{pet['id']}/details", owner))["current_weight_kg"] == 4.4


async def test_setting_the_weight_twice_a_day_keeps_one_record(client):
    owner = await caller(client)
    pet = await new_pet(client, owner, current_weight_kg=4.0)
    data = await ok(client, "POST", f"/pets/{pet['id']}/update", owner, json={"current_weight_kg": 4.2})
    assert data["current_weight_kg"] == 4.2
    weights = await ok_000(client, "GET", f"/api/pets/{pet['id']}/weights", owner)
    assert [w["weight_kg"] for w in weights["data"]] == [4.2]


async def test_a_type_002_does_not_name_shows_as_other(client):
    owner = await caller(client)
    db = client.app[pool_key]
    type_id = await db.fetchval(
        "insert into pet_types (slug, name) values ('ferret-' || md5(random()::text), 'Ferret') returning id"
    )
    try:
        row = await db.fetchrow(
            "insert into pets (owner_id, pet_type_id, name) values ($1, $2, 'Slinky') returning id", owner.id, type_id
        )
        pet = await ok(client, "GET", f"/pets/{row['id']}/details", owner)
        assert pet["pet_type"] == "other"
    finally:  # the session's database is shared: 000's type list must not see it
        await db.execute("delete from pets where pet_type_id = $1", type_id)
        await db.execute("delete from pet_types where id = $1", type_id)


# -- 002 group roles seen through 000 ------------------------------------------------------------


async def test_a_group_member_edits_the_pet_through_000_and_a_viewer_only_reads(client):
    owner, member, viewer, stranger = [await caller(client) for _ in range(4)]
    group = await new_group(client, owner)
    await join(client, member, group["id"], owner)
    await join(client, viewer, group["id"], owner, role="viewer")
    pet = await new_pet(client, owner, name="Mochi")
    await ok(client, "POST", f"/pets/{pet['id']}/assign_group", owner, json={"group_id": group["id"]})
    path = f"/api/pets/{pet['id']}"

    shown = await ok_000(client, "GET", path, member)
    assert shown["viewer_permissions"]["role"] == "editor" and shown["viewer_permissions"]["can_delete"] is False
    assert (await ok_000(client, "PUT", path, member, json={"name": "Mochi II"}))["name"] == "Mochi II"
    await ok_000(client, "POST", f"{path}/weights", member, json={"weight_kg": 3.3, "record_date": "2024-05-01"},
                 status=201)
    resp = await client.delete(path, headers=member.api)
    assert resp.status == 403

    shown = await ok_000(client, "GET", path, viewer)
    assert shown["viewer_permissions"]["role"] == "viewer"
    resp = await client.put(path, json={"name": "No"}, headers=viewer.api)
    assert resp.status == 403
    resp = await client.get(f"{path}/weights", headers=viewer.api)
    assert resp.status == 403  # 000 viewers read the pet, not its weights

    resp = await client.get(path, headers=stranger.api)
    assert resp.status == 403
    # a removed member loses the pet in 000 too
    await ok(client, "POST", f"/groups/{group['id']}/remove", owner, json={"user_id": member.sid})
    resp = await client.get(path, headers=member.api)
    assert resp.status == 403


# -- 000 grants seen through 002 ------------------------------------------------------------------


async def test_a_000_editor_is_a_member_in_002_and_a_000_viewer_a_viewer(client):
    owner, editor, viewer = [await caller(client) for _ in range(3)]
    row = await make_pet(client.app, owner.id, name="Biscuit")
    await add_collaborator(client.app, row["id"], editor.id, "editor")
    await add_collaborator(client.app, row["id"], viewer.id, "viewer")
    pet_id = str(row["id"])

    listed = {p["id"]: p for p in await ok(client, "GET", "/pets/accessible", editor)}
    assert listed[pet_id]["user_permission"] == "member"
    data = await ok(client, "POST", f"/pets/{pet_id}/update", editor, json={"notes": "walked", "current_weight_kg": 9})
    assert data["notes"] == "walked" and data["user_permission"] == "member"
    current = await ok(client, "GET", f"/pets/{pet_id}/current_group", editor)
    assert current["user_role_in_group"] is None and current["user_permission"] == "member"
    status, body = await call(client, "POST", f"/pets/{pet_id}/delete", editor)
    assert status == 403
    assert_error(body, "You don't have permission to delete this pet")
    status, body = await call(client, "POST", f"/pets/{pet_id}/assign_group", editor, json={"group_id": "1"})
    assert status == 403
    assert_error(body, "You don't have permission to assign this pet to a group")

    listed = {p["id"]: p for p in await ok(client, "GET", "/pets/accessible", viewer)}
    assert listed[pet_id]["user_permission"] == "viewer"
    assert (await ok(client, "GET", f"/pets/{pet_id}/details", viewer))["notes"] == "walked"
    status, body = await call(client, "POST", f"/pets/{pet_id}/update", viewer, json={"notes": "no"})
    assert status == 403
    assert_error(body, "You don't have permission to modify this pet")


# -- helpers ---------------------------------------------------------------------------------------


async def ok_000(client, method: str, path: str, who, *, status: int = 200, **kw):
    """A 000 call at /api with the caller's personal access token; its `data`."""
    resp = await client.request(method, path, headers=who.api, **kw)
    body = await resp.json()
    assert resp.status == status, body
    return body["data"]
