"""Builders for 002's pet and group tests: signed-in callers, pets and groups made through the
routes, and the two error shapes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from gateway.kernel.keys import accounts_key
from tests.builders import bearer, make_token, make_user


@dataclass(frozen=True)
class Caller:
    id: int
    name: str
    email: str
    headers: dict[str, str]  # a JWT, for 002
    api: dict[str, str]  # a personal access token, for 000 at /api

    @property
    def sid(self) -> str:
        return str(self.id)


async def caller(client, name: str | None = None) -> Caller:
    """A registered user (with their personal group) and a JWT header for them."""
    name = name or f"Carer {uuid.uuid4().hex[:6]}"
    user = await make_user(client.app, name=name)
    jwt = client.app[accounts_key].issue_jwt(user)
    token = await make_token(client.app, user["id"])
    return Caller(user["id"], name, user["email"], {"Authorization": f"Bearer {jwt}"}, bearer(token))


async def call(client, method: str, path: str, who: Caller | None = None, **kw: Any) -> tuple[int, dict]:
    resp = await client.request(method, path, headers=who.headers if who else {}, **kw)
    return resp.status, await resp.json()


async def ok(client, method: str, path: str, who: Caller | None = None, **kw: Any) -> Any:
    status, body = await call(client, method, path, who, **kw)
    assert status == 200, body
    assert body["status"] == 1
    return body["data"]


async def new_pet(client, who: Caller, **fields: Any) -> dict:
    body = {"name": f"Pet {uuid.uuid4().hex[:6]}", "pet_type": "cat"} | fields
    return await ok(client, "POST", "/pets/create", who, json=body)


async def new_group(client, who: Caller, name: str | None = None) -> dict:
    return await ok(client, "POST", "/groups/create", who, json={"name": name or f"Group {uuid.uuid4().hex[:6]}"})


async def invite_code(client, who: Caller, group_id: str) -> str:
    return (await ok(client, "POST", f"/groups/{group_id}/invite", who))["invite_code"]


async def join(client, who: Caller, group_id: str, inviter: Caller, role: str = "member") -> None:
    """Bring `who` into the group (through an invitation by `inviter`), then give them `role`
    (the group's creator is `inviter` when role is not member)."""
    await ok(client, "POST", "/groups/join", who, json={"invite_code": await invite_code(client, inviter, group_id)})
    if role != "member":
        body = {"user_id": who.sid, "new_role": role}
        await ok(client, "POST", f"/groups/{group_id}/update_role", inviter, json=body)


def assert_error(body: dict, status_message: str) -> None:
    """Both of 002's error shapes: the document's and FastAPI's `detail`."""
    assert body["status"] == 0
    assert body["data"] is None
    assert body["message"] == status_message
    assert body["detail"] == status_message
    assert isinstance(body["details"]["error_type"], str)


def assert_422(body: dict, field: str) -> None:
    assert body["status"] == 0
    assert field in body["details"]["field_errors"]
    assert any(entry["loc"][-1] == field for entry in body["detail"])
