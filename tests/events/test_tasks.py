"""001 emotions and tasks: the tenant's library and overrides, event scoping, the guests' lists,
and tenant isolation throughout."""

from __future__ import annotations

import uuid

from domain.tenant_abilities import EVENTS_READ
from gateway.kernel.keys import pool_key
from tests.builders import bearer
from tests.event_builders import assert_error, make_event, make_tenant, make_tenant_admin

V1 = "/api/v1"
DEVICE = {"X-Device-Id": "device-tasks-0001"}


async def tenant_with_token(client, **kwargs):
    tenant = await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"], **kwargs)
    return tenant, bearer(token)


async def global_tasks(client) -> list[dict]:
    rows = await client.app[pool_key].fetch(
        "select id, title, description from tasks where tenant_id is null order by sort_order, id"
    )
    return [dict(r) for r in rows]


async def own_task(client, auth, title: str = "Own task", **fields) -> dict:
    resp = await client.post(f"{V1}/tenant/tasks", json={"title": title, **fields}, headers=auth)
    assert resp.status == 201, await resp.text()
    return (await resp.json())["data"]


async def own_emotion(client, auth, slug: str | None = None) -> dict:
    body = {"slug": slug or f"e-{uuid.uuid4().hex[:8]}", "name": "Nostalgia", "emoji": "🕰️"}
    resp = await client.post(f"{V1}/tenant/emotions", json=body, headers=auth)
    assert resp.status == 201, await resp.text()
    return (await resp.json())["data"]


async def library(client, auth) -> dict[int, dict]:
    resp = await client.get(f"{V1}/tenant/tasks?per_page=100", headers=auth)
    assert resp.status == 200
    return {t["id"]: t for t in (await resp.json())["data"]}


# -- emotions -------------------------------------------------------------------------------------


async def test_emotions_list_global_then_own_only(client):
    _, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    mine = await own_emotion(client, auth, "nostalgia")
    theirs = await own_emotion(client, other_auth, "nostalgia")  # slugs are per tenant
    resp = await client.get(f"{V1}/tenant/emotions", headers=auth)
    assert resp.status == 200
    body = await resp.json()
    ids = [e["id"] for e in body["data"]]
    assert mine["id"] in ids and theirs["id"] not in ids
    assert ids[-1] == mine["id"]
    assert body["data"][0]["source"] == "global" and body["data"][0]["slug"] == "joy"
    assert body["meta"]["total"] == len(ids)
    expected = {
        "id": mine["id"], "slug": "nostalgia", "name": "Nostalgia", "emoji": "🕰️", "sort_order": 0, "source": "tenant"
    }
    assert mine == expected


async def test_emotion_slug_must_be_free_and_well_formed(client):
    _, auth = await tenant_with_token(client)
    await own_emotion(client, auth, "cozy")
    for slug in ("cozy", "joy"):  # own duplicate, and a global emotion's slug
        resp = await client.post(f"{V1}/tenant/emotions", json={"slug": slug, "name": "X"}, headers=auth)
        error = await assert_error(resp, 422, "validation_failed")
        assert error["meta"]["fields"] == {"slug": ["The slug has already been taken."]}
    resp = await client.post(f"{V1}/tenant/emotions", json={"slug": "Not A Slug", "emoji": "x" * 17}, headers=auth)
    error = await assert_error(resp, 422, "validation_failed")
    assert set(error["meta"]["fields"]) == {"slug", "name", "emoji"}


async def test_delete_emotion_own_global_and_foreign(client):
    _, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    mine = await own_emotion(client, auth)
    theirs = await own_emotion(client, other_auth)
    await assert_error(await client.delete(f"{V1}/tenant/emotions/{theirs['id']}", headers=auth), 404, "not_found")
    joy = await client.app[pool_key].fetchval("select id from emotions where slug = 'joy' and tenant_id is null")
    resp = await client.delete(f"{V1}/tenant/emotions/{joy}", headers={**auth, "Accept-Language": "de"})
    error = await assert_error(resp, 403, "global_emotion_readonly")
    assert error["message"] == "Globale Emotionen werden von allen genutzt und können nicht gelöscht werden."
    assert (await client.delete(f"{V1}/tenant/emotions/{mine['id']}", headers=auth)).status == 204
    await assert_error(await client.delete(f"{V1}/tenant/emotions/{mine['id']}", headers=auth), 404, "not_found")
    await assert_error(await client.delete(f"{V1}/tenant/emotions/x1", headers=auth), 404, "not_found")
    assert await client.app[pool_key].fetchval("select count(*) from emotions where id = $1", theirs["id"]) == 1


async def test_emotion_routes_need_auth_and_abilities(client):
    _, read_only = await tenant_with_token(client, abilities=(EVENTS_READ,))
    await assert_error(await client.get(f"{V1}/tenant/emotions"), 401, "unauthenticated")
    assert (await client.get(f"{V1}/tenant/emotions", headers=read_only)).status == 200
    resp = await client.post(f"{V1}/tenant/emotions", json={"slug": "a", "name": "A"}, headers=read_only)
    error = await assert_error(resp, 403, "missing_ability")
    assert error["meta"]["required"] == ["events:write"]
    await assert_error(await client.delete(f"{V1}/tenant/emotions/1", headers=read_only), 403, "missing_ability")


# -- the task library -----------------------------------------------------------------------------


async def test_library_is_global_tasks_then_own(client):
    _, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    mine = await own_task(client, auth, "Find the cake", description="The big one.")
    theirs = await own_task(client, other_auth, "Not yours")
    resp = await client.get(f"{V1}/tenant/tasks", headers=auth)
    body = await resp.json()
    ids = [t["id"] for t in body["data"]]
    assert ids == [t["id"] for t in await global_tasks(client)] + [mine["id"]]
    assert theirs["id"] not in ids
    assert body["meta"]["total"] == len(ids)
    first = body["data"][0]
    assert first["source"] == "global" and first["hidden"] is False and first["overridden"] is False
    assert mine["title"] == "Find the cake" and mine["description"] == "The big one." and mine["source"] == "tenant"
    resp = await client.get(f"{V1}/tenant/tasks?per_page=500", headers=auth)
    error = await assert_error(resp, 422, "validation_failed")
    assert "per_page" in error["meta"]["fields"]


async def test_create_task_validates_title_and_emotion(client):
    _, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    theirs = await own_emotion(client, other_auth)
    resp = await client.post(f"{V1}/tenant/tasks", json={"emotion_id": theirs["id"], "title": "X"}, headers=auth)
    error = await assert_error(resp, 422, "validation_failed")
    assert error["meta"]["fields"] == {"emotion_id": ["The selected emotion id is invalid."]}
    bad = {"title": " ", "sort_order": "x"}
    resp = await client.post(f"{V1}/tenant/tasks", json=bad, headers={**auth, "Accept-Language": "de"})
    error = await assert_error(resp, 422, "validation_failed")
    assert set(error["meta"]["fields"]) == {"title", "sort_order"}
    assert error["message"] == "Die übermittelten Daten sind ungültig."
    mine = await own_emotion(client, auth)
    assert (await own_task(client, auth, emotion_id=mine["id"]))["emotion_id"] == mine["id"]


async def test_editing_a_global_task_overrides_it_for_this_tenant_only(client):
    _, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    task = (await global_tasks(client))[0]
    resp = await client.put(f"{V1}/tenant/tasks/{task['id']}", json={"title": "Our group photo"}, headers=auth)
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert (data["title"], data["description"], data["overridden"]) == ("Our group photo", task["description"], True)
    # a second edit changes only what it sends
    resp = await client.put(f"{V1}/tenant/tasks/{task['id']}", json={"description": "Everyone!"}, headers=auth)
    data = (await resp.json())["data"]
    assert (data["title"], data["description"]) == ("Our group photo", "Everyone!")
    assert (await library(client, other_auth))[task["id"]]["title"] == task["title"]
    assert await client.app[pool_key].fetchval("select title from tasks where id = $1", task["id"]) == task["title"]
    resp = await client.put(f"{V1}/tenant/tasks/{task['id']}", json={"sort_order": 3, "emotion_id": 1}, headers=auth)
    error = await assert_error(resp, 422, "validation_failed")
    assert set(error["meta"]["fields"]) == {"sort_order", "emotion_id"}


async def test_editing_an_own_task(client):
    _, auth = await tenant_with_token(client)
    task = await own_task(client, auth, "Draft", description="x")
    change = {"title": "Final", "description": "", "sort_order": 7}
    resp = await client.put(f"{V1}/tenant/tasks/{task['id']}", json=change, headers=auth)
    data = (await resp.json())["data"]
    assert (data["title"], data["description"], data["sort_order"], data["overridden"]) == ("Final", None, 7, False)
    resp = await client.put(f"{V1}/tenant/tasks/{task['id']}", json={"title": None}, headers=auth)
    error = await assert_error(resp, 422, "validation_failed")
    assert set(error["meta"]["fields"]) == {"title"}


async def test_delete_hides_global_and_removes_own_and_restore_brings_global_back(client):
    _, auth = await tenant_with_token(client)
    task = (await global_tasks(client))[1]
    mine = await own_task(client, auth)
    await client.put(f"{V1}/tenant/tasks/{task['id']}", json={"title": "Renamed"}, headers=auth)
    assert (await client.delete(f"{V1}/tenant/tasks/{task['id']}", headers=auth)).status == 204
    assert (await client.delete(f"{V1}/tenant/tasks/{mine['id']}", headers=auth)).status == 204
    lib = await library(client, auth)
    assert lib[task["id"]]["hidden"] is True and lib[task["id"]]["title"] == "Renamed"
    assert mine["id"] not in lib
    assert await client.app[pool_key].fetchval("select count(*) from tasks where id = $1", task["id"]) == 1
    resp = await client.post(f"{V1}/tenant/tasks/{task['id']}/restore", headers=auth)
    assert resp.status == 200
    data = (await resp.json())["data"]
    assert (data["title"], data["hidden"], data["overridden"]) == (task["title"], False, False)


async def test_restore_of_an_own_task_is_409(client):
    _, auth = await tenant_with_token(client)
    mine = await own_task(client, auth)
    resp = await client.post(f"{V1}/tenant/tasks/{mine['id']}/restore", headers={**auth, "Accept-Language": "de"})
    error = await assert_error(resp, 409, "not_a_global_task")
    assert error["message"] == "Nur globale Aufgaben können wiederhergestellt werden."


async def test_another_tenants_task_is_404_for_every_write(client):
    _, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    theirs = await own_task(client, other_auth, "Theirs")
    path = f"{V1}/tenant/tasks/{theirs['id']}"
    await assert_error(await client.put(path, json={"title": "Mine now"}, headers=auth), 404, "not_found")
    await assert_error(await client.delete(path, headers=auth), 404, "not_found")
    await assert_error(await client.post(f"{path}/restore", headers=auth), 404, "not_found")
    row = await client.app[pool_key].fetchrow("select title from tasks where id = $1", theirs["id"])
    assert row["title"] == "Theirs"
    await assert_error(await client.put(f"{V1}/tenant/tasks/99999999999", json={}, headers=auth), 404, "not_found")


async def test_task_routes_need_auth_and_abilities(client):
    _, read_only = await tenant_with_token(client, abilities=(EVENTS_READ,))
    await assert_error(await client.get(f"{V1}/tenant/tasks"), 401, "unauthenticated")
    assert (await client.get(f"{V1}/tenant/tasks", headers=read_only)).status == 200
    task_id = (await global_tasks(client))[0]["id"]
    for method, path in (
        ("POST", f"{V1}/tenant/tasks"),
        ("PUT", f"{V1}/tenant/tasks/{task_id}"),
        ("DELETE", f"{V1}/tenant/tasks/{task_id}"),
        ("POST", f"{V1}/tenant/tasks/{task_id}/restore"),
    ):
        resp = await client.request(method, path, json={"title": "x"}, headers=read_only)
        await assert_error(resp, 403, "missing_ability")
    assert (await library(client, read_only))[task_id]["hidden"] is False


# -- event scoping --------------------------------------------------------------------------------


async def test_an_unscoped_event_offers_the_library_without_hidden_tasks(client):
    tenant, auth = await tenant_with_token(client)
    event = await make_event(client.app, tenant["id"], status="draft")
    hidden = (await global_tasks(client))[0]
    await client.delete(f"{V1}/tenant/tasks/{hidden['id']}", headers=auth)
    mine = await own_task(client, auth)
    resp = await client.get(f"{V1}/tenant/events/{event['id']}/tasks", headers=auth)
    assert resp.status == 200
    body = await resp.json()
    assert body["meta"] == {"scoped": False}
    ids = [t["id"] for t in body["data"]]
    assert hidden["id"] not in ids and mine["id"] == ids[-1]
    assert len(ids) == len(await global_tasks(client))  # one hidden, one own


async def test_scoping_keeps_the_order_given_and_empty_restores_the_library(client):
    tenant, auth = await tenant_with_token(client)
    event = await make_event(client.app, tenant["id"])
    mine = await own_task(client, auth)
    glob = (await global_tasks(client))[2]
    path = f"{V1}/tenant/events/{event['id']}/tasks"
    resp = await client.put(path, json={"task_ids": [mine["id"], glob["id"]]}, headers=auth)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert [t["id"] for t in body["data"]] == [mine["id"], glob["id"]] and body["meta"] == {"scoped": True}
    assert [t["id"] for t in (await (await client.get(path, headers=auth)).json())["data"]] == [mine["id"], glob["id"]]
    resp = await client.put(path, json={"task_ids": [glob["id"], mine["id"]]}, headers=auth)
    assert [t["id"] for t in (await resp.json())["data"]] == [glob["id"], mine["id"]]
    resp = await client.put(path, json={"task_ids": []}, headers=auth)
    body = await resp.json()
    assert body["meta"] == {"scoped": False} and len(body["data"]) == len(await global_tasks(client)) + 1


async def test_scoping_refuses_hidden_foreign_unknown_and_duplicate_ids(client):
    tenant, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    event = await make_event(client.app, tenant["id"])
    path = f"{V1}/tenant/events/{event['id']}/tasks"
    good = (await global_tasks(client))[0]["id"]
    hidden = (await global_tasks(client))[1]["id"]
    await client.delete(f"{V1}/tenant/tasks/{hidden}", headers=auth)
    theirs = (await own_task(client, other_auth))["id"]
    await client.put(path, json={"task_ids": [good]}, headers=auth)
    resp = await client.put(path, json={"task_ids": [good, hidden, theirs, 999999999]}, headers=auth)
    error = await assert_error(resp, 422, "validation_failed")
    assert error["meta"]["fields"] == {"task_ids": ["The selected task ids are invalid."]}
    assert error["meta"]["invalid_task_ids"] == [hidden, theirs, 999999999]
    # nothing changed
    scoped = await client.app[pool_key].fetchval(
        "select array_agg(task_id) from event_tasks where event_id = $1", event["id"]
    )
    assert scoped == [good]
    for body in ({"task_ids": [good, good]}, {"task_ids": "1"}, {}, {"task_ids": list(range(1, 502))}):
        error = await assert_error(await client.put(path, json=body, headers=auth), 422, "validation_failed")
        assert set(error["meta"]["fields"]) == {"task_ids"}


async def test_another_tenants_event_cannot_be_read_or_scoped(client):
    tenant, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    event = await make_event(client.app, tenant["id"])
    path = f"{V1}/tenant/events/{event['id']}/tasks"
    await assert_error(await client.get(path, headers=other_auth), 404, "not_found")
    task_id = (await global_tasks(client))[0]["id"]
    await assert_error(await client.put(path, json={"task_ids": [task_id]}, headers=other_auth), 404, "not_found")
    assert await client.app[pool_key].fetchval("select count(*) from event_tasks where event_id = $1", event["id"]) == 0
    await assert_error(await client.get(path), 401, "unauthenticated")
    _, read_only = await tenant_with_token(client, abilities=(EVENTS_READ,))
    await assert_error(await client.put(path, json={"task_ids": []}, headers=read_only), 403, "missing_ability")


# -- guests ---------------------------------------------------------------------------------------


async def test_guests_see_the_events_tasks_with_overrides_and_without_hidden(client):
    tenant, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    event = await make_event(client.app, tenant["id"])
    tasks = await global_tasks(client)
    await client.put(f"{V1}/tenant/tasks/{tasks[0]['id']}", json={"title": "Tisch-Foto"}, headers=auth)
    await client.delete(f"{V1}/tenant/tasks/{tasks[1]['id']}", headers=auth)
    mine = await own_task(client, auth, "Our own")
    theirs = await own_task(client, other_auth, "Theirs")
    # another tenant's override of the same task must not leak into this event
    await client.put(f"{V1}/tenant/tasks/{tasks[2]['id']}", json={"title": "Leaked"}, headers=other_auth)
    resp = await client.get(f"{V1}/events/{event['guest_token']}/tasks", headers=DEVICE)
    assert resp.status == 200
    data = (await resp.json())["data"]
    by_id = {t["id"]: t for t in data}
    assert by_id[tasks[0]["id"]]["title"] == "Tisch-Foto"
    assert tasks[1]["id"] not in by_id and theirs["id"] not in by_id
    assert by_id[tasks[2]["id"]]["title"] == tasks[2]["title"]
    expected = {"id": mine["id"], "title": "Our own", "description": None, "emotion_id": None, "sort_order": 0}
    assert by_id[mine["id"]] == expected


async def test_guests_see_only_the_scoped_tasks(client):
    tenant, auth = await tenant_with_token(client)
    event = await make_event(client.app, tenant["id"])
    chosen = (await global_tasks(client))[3]["id"]
    await client.put(f"{V1}/tenant/events/{event['id']}/tasks", json={"task_ids": [chosen]}, headers=auth)
    data = (await (await client.get(f"{V1}/events/{event['guest_token']}/tasks")).json())["data"]
    assert [t["id"] for t in data] == [chosen]


async def test_guests_see_global_and_the_tenants_own_emotions(client):
    tenant, auth = await tenant_with_token(client)
    _, other_auth = await tenant_with_token(client)
    event = await make_event(client.app, tenant["id"], status="archived")  # archived events still answer reads
    mine = await own_emotion(client, auth)
    theirs = await own_emotion(client, other_auth)
    resp = await client.get(f"{V1}/events/{event['guest_token']}/emotions", headers=DEVICE)
    assert resp.status == 200
    data = (await resp.json())["data"]
    ids = [e["id"] for e in data]
    assert mine["id"] in ids and theirs["id"] not in ids
    assert data[0] == {"id": data[0]["id"], "slug": "joy", "name": "Joy", "emoji": "😄"}


async def test_guests_need_a_published_events_token(client):
    tenant = await make_tenant(client.app)
    draft = await make_event(client.app, tenant["id"], status="draft")
    published = await make_event(client.app, tenant["id"])
    for what in ("tasks", "emotions"):
        for token in (published["slug"], str(published["id"]), "no-such-token", "x" * 300):
            resp = await client.get(f"{V1}/events/{token}/{what}", headers={"Accept-Language": "de"})
            error = await assert_error(resp, 404, "event_not_found")
            assert error["message"] == "Dieses Event existiert nicht oder ist nicht verfügbar."
    # a draft has no token; even one given a token by hand stays unreachable until published
    assert draft["guest_token"] is None
    await client.app[pool_key].execute(
        "update events set guest_token = 'draft-token-' || id where id = $1", draft["id"]
    )
    await assert_error(await client.get(f"{V1}/events/draft-token-{draft['id']}/tasks"), 404, "event_not_found")
    resp = await client.get(f"{V1}/events/{published['guest_token']}/tasks", headers={"X-Device-Id": "bad id!"})
    await assert_error(resp, 400, "device_id_invalid")
