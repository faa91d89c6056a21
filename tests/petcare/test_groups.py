"""002's group routes: create (name 1–50, at most 10 per user with the personal group counted),
invite (any member; 7 days; single use), join, my_groups, members, update_role, remove, a group's
pets — every role (creator, member, viewer, stranger, anonymous), BOLA on the group and user ids,
both vocabularies and both error shapes, and the two races: one code joined by 20 clients at
once, and 20 creates at once against the cap."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from domain.groups import MAX_CREATED
from gateway.app import create_app
from gateway.kernel.keys import pool_key
from tests.clock import FakeClock
from tests.petcare.care_builders import (
    Caller,
    assert_422,
    assert_error,
    call,
    caller,
    invite_code,
    join,
    new_group,
    new_pet,
    ok,
)

NOT_MEMBER = "You are not a member of this group"
INVALID_CODE = "Invalid or expired invitation code"


@pytest.fixture
async def family(client) -> tuple[dict, dict[str, Caller]]:
    """A group with its creator, a member and a viewer, and a stranger outside it."""
    people = {role: await caller(client) for role in ("creator", "member", "viewer", "stranger")}
    group = await new_group(client, people["creator"], "Doe Family")
    await join(client, people["member"], group["id"], people["creator"])
    await join(client, people["viewer"], group["id"], people["creator"], role="viewer")
    return group, people


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- create ------------------------------------------------------------------------------------------


async def test_create_answers_both_vocabularies(client):
    who = await caller(client)
    resp = await client.post("/groups/create", json={"name": "  Smith Family Pets "}, headers=who.headers)
    assert resp.status == 200
    body = await resp.json()
    assert body["message"] == "Group created successfully"
    group = body["data"]
    assert group["name"] == "Smith Family Pets"
    assert group["creator_id"] == who.sid and group["creator_name"] == who.name
    assert group["member_count"] == 1 and group["is_creator"] is True and group["user_role"] == "creator"
    assert group["is_active"] is True and group["is_personal"] is False
    assert isinstance(group["id"], str) and group["id"].isdigit()


@pytest.mark.parametrize("name", ["", "   ", "x" * 51, None, 5])
async def test_create_refuses_a_bad_name(client, name):
    who = await caller(client)
    status, body = await call(client, "POST", "/groups/create", who, json={"name": name})
    assert status == 422
    assert_422(body, "name")


async def test_the_cap_counts_the_personal_group(client):
    who = await caller(client)
    for i in range(MAX_CREATED - 1):  # the personal group is the tenth
        await new_group(client, who, f"G{i}")
    status, body = await call(client, "POST", "/groups/create", who, json={"name": "one too many"})
    assert status == 400
    assert_error(body, "You have reached the maximum number of groups")
    # joining others' groups is not creating
    other = await caller(client)
    theirs = await new_group(client, other)
    await join(client, who, theirs["id"], other)


async def test_twenty_concurrent_creates_never_pass_the_cap(client):
    who = await caller(client)
    answers = await asyncio.gather(
        *(call(client, "POST", "/groups/create", who, json={"name": f"Race {i}"}) for i in range(20))
    )
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (MAX_CREATED - 1) + [400] * (20 - MAX_CREATED + 1)
    count = await client.app[pool_key].fetchval("select count(*) from groups where creator_id = $1", who.id)
    assert count == MAX_CREATED


# -- invite and join -----------------------------------------------------------------------------------


async def test_any_member_invites_and_a_code_admits_one_user(client, family):
    group, people = family
    for role in ("creator", "member", "viewer"):
        resp = await client.post(f"/groups/{group['id']}/invite", headers=people[role].headers)
        body = await resp.json()
        assert resp.status == 200 and body["message"] == "Invitation created successfully"
        data = body["data"]
        assert data["group_id"] == group["id"] and data["group_name"] == "Doe Family"
        assert data["created_by"] == people[role].sid
        assert _time(data["expires_at"]) - _time(data["created_at"]) == timedelta(days=7)
        assert data["invitation"]["invite_code"] == data["invite_code"]
        assert data["invitation"]["invited_by_name"] == people[role].name
        assert data["invite_code"] in data["share_message"]
    code = await invite_code(client, people["viewer"], group["id"])
    newcomer, late = await caller(client), await caller(client)
    resp = await client.post("/groups/join", json={"invite_code": code}, headers=newcomer.headers)
    body = await resp.json()
    assert resp.status == 200 and body["message"] == "Successfully joined group"
    joined = body["data"]
    assert joined["group_id"] == joined["id"] == group["id"]
    assert joined["group_name"] == joined["name"] == "Doe Family"
    assert joined["creator_name"] == people["creator"].name
    assert joined["member_count"] == 4 and joined["user_role"] == "member" and joined["is_creator"] is False
    assert joined["joined_at"].endswith("Z")
    # single use
    status, body = await call(client, "POST", "/groups/join", late, json={"invite_code": code})
    assert status == 404
    assert_error(body, INVALID_CODE)
    members = await ok(client, "GET", f"/groups/{group['id']}/members", newcomer)
    mine = next(m for m in members if m["user_id"] == newcomer.sid)
    assert mine["invited_by"] == people["viewer"].sid and mine["invited_by_name"] == people["viewer"].name


async def test_joining_twice_is_400_and_leaves_the_code_unspent(client, family):
    group, people = family
    code = await invite_code(client, people["creator"], group["id"])
    status, body = await call(client, "POST", "/groups/join", people["member"], json={"invite_code": code})
    assert status == 400
    assert_error(body, "You are already a member of this group")
    newcomer = await caller(client)
    await ok(client, "POST", "/groups/join", newcomer, json={"invite_code": code})


@pytest.mark.parametrize("code", ["nope", "x" * 200, "' or 1=1 --"])
async def test_an_unknown_code_is_404(client, code):
    who = await caller(client)
    status, body = await call(client, "POST", "/groups/join", who, json={"invite_code": code})
    assert status == 404
    assert_error(body, INVALID_CODE)


async def test_join_needs_a_code(client):
    who = await caller(client)
    status, body = await call(client, "POST", "/groups/join", who, json={})
    assert status == 422
    assert_422(body, "invite_code")


async def test_strangers_cannot_invite_to_a_group_or_one_that_does_not_exist(client, family):
    group, people = family
    for group_id in (group["id"], "999999999", "abc"):
        status, body = await call(client, "POST", f"/groups/{group_id}/invite", people["stranger"])
        assert status == 403, group_id
        assert_error(body, NOT_MEMBER)


async def test_one_code_joined_by_twenty_clients_at_once_admits_exactly_one(client, family):
    group, people = family
    code = await invite_code(client, people["creator"], group["id"])
    joiners = [await caller(client) for _ in range(20)]
    answers = await asyncio.gather(
        *(call(client, "POST", "/groups/join", who, json={"invite_code": code}) for who in joiners)
    )
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [404] * 19
    for status, body in answers:
        if status == 404:
            assert_error(body, INVALID_CODE)
    members = await ok(client, "GET", f"/groups/{group['id']}/members", people["creator"])
    assert len(members) == 4


async def test_a_code_lasts_seven_days(aiohttp_client, settings, ray_session):
    clock = FakeClock()
    client = await aiohttp_client(create_app(settings, clock=clock))
    owner, early, late = [await caller(client) for _ in range(3)]
    group = await new_group(client, owner)
    first = await invite_code(client, owner, group["id"])
    second = await invite_code(client, owner, group["id"])
    clock.advance(7 * 24 * 3600 - 60)
    # a personal access token: the JWTs of a week ago have expired with the clock
    resp = await client.post("/groups/join", json={"invite_code": first}, headers=early.api)
    assert resp.status == 200
    clock.advance(120)
    resp = await client.post("/groups/join", json={"invite_code": second}, headers=late.api)
    assert resp.status == 404
    assert_error(await resp.json(), INVALID_CODE)


# -- my_groups and members --------------------------------------------------------------------------


async def test_my_groups_lists_every_membership_with_both_names(client, family):
    group, people = family
    resp = await client.get("/groups/my_groups", headers=people["viewer"].headers)
    body = await resp.json()
    assert body["message"] == "Found 2 groups"
    personal, doe = body["data"]
    assert personal["is_creator"] is True and personal["role"] == "creator" and personal["group_name"] == "Personal"
    assert doe["group_id"] == doe["id"] == group["id"] and doe["group_name"] == doe["name"] == "Doe Family"
    assert doe["role"] == doe["user_role"] == "viewer" and doe["is_creator"] is False
    assert doe["member_count"] == 3 and doe["creator_id"] == people["creator"].sid
    assert doe["user_id"] == people["viewer"].sid and doe["user_email"] == people["viewer"].email
    assert doe["created_at"] == doe["joined_at"]  # the reference's meaning: when they joined
    assert doe["group_created_at"] == group["created_at"]
    assert doe["invited_by"] == people["creator"].sid
    only_personal = await ok(client, "GET", "/groups/my_groups", people["stranger"])
    assert [g["group_name"] for g in only_personal] == ["Personal"]


async def test_members_for_every_member_and_not_for_strangers(client, family):
    group, people = family
    for role in ("creator", "member", "viewer"):
        resp = await client.get(f"/groups/{group['id']}/members", headers=people[role].headers)
        body = await resp.json()
        assert body["message"] == "Found 3 members"
        assert [(m["user_id"], m["role"]) for m in body["data"]] == [
            (people["creator"].sid, "creator"),
            (people["member"].sid, "member"),
            (people["viewer"].sid, "viewer"),
        ]
        assert {m["group_name"] for m in body["data"]} == {"Doe Family"}
    for group_id in (group["id"], "999999999", "x"):
        status, body = await call(client, "GET", f"/groups/{group_id}/members", people["stranger"])
        assert status == 403
        assert_error(body, "You do not have permission to view group members")


# -- update_role and remove -----------------------------------------------------------------------------


async def test_the_creator_changes_roles_within_member_and_viewer(client, family):
    group, people = family
    path = f"/groups/{group['id']}/update_role"
    resp = await client.post(path, json={"user_id": people["member"].sid, "new_role": "viewer"},
                             headers=people["creator"].headers)
    body = await resp.json()
    assert resp.status == 200 and body["message"] == "Role updated successfully"
    assert body["data"] == {"group_id": group["id"], "user_id": people["member"].sid, "new_role": "viewer",
                            "updated_by": people["creator"].sid}
    # the document's other name for the field, and a numeric id
    data = await ok(client, "POST", path, people["creator"], json={"user_id": people["member"].id, "role": "member"})
    assert data["new_role"] == "member"
    status, body = await call(client, "POST", path, people["creator"],
                              json={"user_id": people["member"].sid, "new_role": "creator"})
    assert status == 400
    assert_error(body, "Cannot assign CREATOR role - only one creator per group")
    status, body = await call(client, "POST", path, people["creator"],
                              json={"user_id": people["creator"].sid, "new_role": "viewer"})
    assert status == 400
    assert_error(body, "Cannot change the creator's role")
    status, body = await call(client, "POST", path, people["creator"],
                              json={"user_id": people["member"].sid, "new_role": "admin"})
    assert status == 422
    assert_422(body, "new_role")
    # the reference's default role is viewer
    assert (await ok(client, "POST", path, people["creator"], json={"user_id": people["member"].sid}))["new_role"] == (
        "viewer"
    )


async def test_only_the_creator_changes_roles_and_removes(client, family):
    group, people = family
    target = {"user_id": people["viewer"].sid, "new_role": "member"}
    for role in ("member", "viewer"):
        status, body = await call(client, "POST", f"/groups/{group['id']}/update_role", people[role], json=target)
        assert status == 403
        assert_error(body, "Only group creators can change member roles")
        status, body = await call(client, "POST", f"/groups/{group['id']}/remove", people[role], json=target)
        assert status == 403
        assert_error(body, "Only group creators can remove members")
    for action in ("update_role", "remove"):
        for group_id in (group["id"], "999999999", "abc"):
            status, body = await call(client, "POST", f"/groups/{group_id}/{action}", people["stranger"], json=target)
            assert status == 403
            assert_error(body, NOT_MEMBER)


async def test_a_target_outside_the_group_is_404(client, family):
    group, people = family
    for action in ("update_role", "remove"):
        for user_id in (people["stranger"].sid, "999999999", "abc"):
            status, body = await call(client, "POST", f"/groups/{group['id']}/{action}", people["creator"],
                                      json={"user_id": user_id, "new_role": "viewer"})
            assert status == 404, (action, user_id)
            assert_error(body, "Target user is not a member of this group")
        status, body = await call(client, "POST", f"/groups/{group['id']}/{action}", people["creator"], json={})
        assert status == 422
        assert_422(body, "user_id")


async def test_remove_ends_the_members_access_at_once(client, family):
    group, people = family
    pet = await new_pet(client, people["creator"])
    await ok(client, "POST", f"/pets/{pet['id']}/assign_group", people["creator"], json={"group_id": group["id"]})
    await ok(client, "GET", f"/pets/{pet['id']}/details", people["member"])
    resp = await client.post(f"/groups/{group['id']}/remove", json={"user_id": people["member"].sid},
                             headers=people["creator"].headers)
    body = await resp.json()
    assert resp.status == 200 and body["message"] == "Member removed successfully"
    assert body["data"]["removed_user_id"] == people["member"].sid
    assert body["data"]["removed_group_id"] == group["id"] and body["data"]["removed_by"] == people["creator"].sid
    status, body = await call(client, "GET", f"/pets/{pet['id']}/details", people["member"])
    assert status == 403
    status, body = await call(client, "GET", f"/groups/{group['id']}/pets", people["member"])
    assert status == 403
    assert_error(body, NOT_MEMBER)
    status, body = await call(client, "POST", f"/groups/{group['id']}/remove", people["creator"],
                              json={"user_id": people["creator"].sid})
    assert status == 400
    assert_error(body, "Cannot remove the group creator")
    # a removed member may come back with a new code
    await join(client, people["member"], group["id"], people["creator"])


# -- a group's pets ----------------------------------------------------------------------------------


async def test_group_pets_for_members_with_their_permission(client, family):
    group, people = family
    pet = await new_pet(client, people["creator"], name="Max")
    await new_pet(client, people["member"], name="Not in the group")
    await ok(client, "POST", f"/pets/{pet['id']}/assign_group", people["creator"], json={"group_id": group["id"]})
    for role, permission in (("creator", "owner"), ("member", "member"), ("viewer", "viewer")):
        resp = await client.get(f"/groups/{group['id']}/pets", headers=people[role].headers)
        body = await resp.json()
        assert body["message"] == "Found 1 pets in group"
        assert [(p["name"], p["user_permission"], p["group_name"]) for p in body["data"]] == [
            ("Max", permission, "Doe Family")
        ]
    for group_id in (group["id"], "999999999", "0"):
        status, body = await call(client, "GET", f"/groups/{group_id}/pets", people["stranger"])
        assert status == 403
        assert_error(body, NOT_MEMBER)


async def test_anonymous_is_401_on_every_group_route(client, family):
    group, _ = family
    routes = [
        ("POST", "/groups/create"),
        ("POST", "/groups/join"),
        ("GET", "/groups/my_groups"),
        ("POST", f"/groups/{group['id']}/invite"),
        ("GET", f"/groups/{group['id']}/members"),
        ("POST", f"/groups/{group['id']}/update_role"),
        ("POST", f"/groups/{group['id']}/remove"),
        ("GET", f"/groups/{group['id']}/pets"),
    ]
    for method, path in routes:
        resp = await client.request(method, path, json={})
        assert resp.status == 401, path
        assert_error(await resp.json(), "Not authenticated")
