"""000's API request log: one row per /api request, written behind; prune and tail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from gateway.kernel.keys import pool_key, runtime_settings_key
from gateway.pethealth.request_log import MAX_PATH_CHARS, prune_if_due, request_log_key
from storage import request_logs as logs_sql
from storage.request_logs import LogRow
from tests.builders import bearer, make_token, make_user
from tests.ops.cli_runs import roost
from tests.pethealth.quota_helpers import runtime_setting
from tests.waiting import eventually
from tests.web.session_helpers import forget_cookies, signed_in_user


async def _rows(client, where: str, *args):
    await client.app[request_log_key].flush()
    async with client.app[pool_key].acquire() as conn:
        return await conn.fetch(f"select * from api_request_logs where {where} order by id", *args)


async def test_a_token_request_is_logged_with_every_field(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"], abilities=("read",))
    before = datetime.now(UTC)
    assert (await client.get("/api/users/me", headers=bearer(token))).status == 200
    # written behind: nothing is in the table before the flush
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select count(*) from api_request_logs where user_id = $1", user["id"]) == 0
    (row,) = await _rows(client, "user_id = $1", user["id"])
    assert row["method"] == "GET"
    assert row["path"] == "api/users/me"
    assert row["route_uri"] == "api/users/me"
    assert row["status_code"] == 200
    assert row["auth_mode"] == "pat"
    assert before - timedelta(seconds=1) <= row["created_at"] <= datetime.now(UTC)


async def test_route_pattern_and_error_status(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    resp = await client.get(f"/api/users/{user['id']}/public", headers=bearer(token))
    await client.get("/api/pets/not-a-number", headers=bearer(token))
    rows = await _rows(client, "user_id = $1", user["id"])
    assert [(r["path"], r["route_uri"]) for r in rows] == [
        (f"api/users/{user['id']}/public", "api/users/{id}/public"),
        ("api/pets/not-a-number", "api/pets/{pet}"),
    ]
    assert rows[0]["status_code"] == resp.status
    assert rows[1]["status_code"] == 404


async def test_session_and_anonymous_modes(client):
    signed = await signed_in_user(client)
    assert (await client.get("/api/users/me", cookies=signed.cookies)).status == 200
    (row,) = await _rows(client, "user_id = $1", signed.user["id"])
    assert row["auth_mode"] == "session"

    forget_cookies(client)
    marker = f"api/users/{10**12 + uuid.uuid4().int % 10**9}/public"
    # no such user (ids that large are never reached here): 003's public profile answers 404
    assert (await client.get("/" + marker)).status == 404
    (anon,) = await _rows(client, "path = $1", marker)
    assert anon["auth_mode"] == "none" and anon["user_id"] is None
    assert anon["status_code"] == 404


async def test_options_is_not_logged(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    await client.options("/api/users/me", headers=bearer(token))
    assert await _rows(client, "user_id = $1", user["id"]) == []


async def test_a_quota_denied_request_is_logged_once(client):
    async with runtime_setting(client.app, "api_daily_quota_regular", 1):
        user = await make_user(client.app)
        token = await make_token(client.app, user["id"])
        assert (await client.get("/api/users/me", headers=bearer(token))).status == 200
        assert (await client.get("/api/users/me", headers=bearer(token))).status == 429
    rows = await _rows(client, "user_id = $1", user["id"])
    assert [r["status_code"] for r in rows] == [200, 429]


async def test_flush_on_a_full_buffer_and_one_insert_per_batch(client):
    user = await make_user(client.app)
    writer = client.app[request_log_key]
    now = datetime.now(UTC)
    for i in range(1200):
        writer.add(LogRow(user["id"], "GET", f"api/x/{i}", "api/x/{i}", 200, "pat", now))
    rows = await _rows(client, "user_id = $1", user["id"])
    assert len(rows) == 1200


async def _old_rows(pool, user_id: int) -> None:
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        await logs_sql.insert_many(
            conn,
            [
                LogRow(user_id, "GET", "api/old", None, 200, "pat", now - timedelta(days=40)),
                LogRow(user_id, "GET", "api/recent", None, 200, "pat", now - timedelta(days=10)),
            ],
        )


async def _prune_now(pool, runtime) -> int:
    """A prune due at once, run by this caller: every app the session starts runs its own scheduled
    prune at start-up, and one of them may hold the advisory lock at this moment (then the call
    answers None and changes nothing), so try until this one wins it."""

    async def attempt() -> tuple[int] | None:
        deleted = await prune_if_due(pool, runtime, every_s=0)
        return None if deleted is None else (deleted,)

    (deleted,) = await eventually(attempt, what="the prune lock")
    return deleted


async def test_prune_keeps_rows_inside_the_retention_and_runs_once_per_day(client):
    pool = client.app[pool_key]
    uid = -(uuid.uuid4().int % 10**9) - 1
    await _old_rows(pool, uid)
    runtime = client.app[runtime_settings_key]
    # the gateway's own scheduled run already claimed today's slot at startup
    assert await prune_if_due(pool, runtime) is None
    assert await _prune_now(pool, runtime) >= 1
    assert [r["path"] for r in await _rows(client, "user_id = $1", uid)] == ["api/recent"]
    async with runtime_setting(client.app, "api_request_logs_retention_days", 5):
        await _prune_now(pool, runtime)
    assert await _rows(client, "user_id = $1", uid) == []


async def test_scheduled_prune_drops_past_days_quota_counters(client):
    pool = client.app[pool_key]
    uid = -(uuid.uuid4().int % 10**9) - 1
    old, today = f"quota:{uid}:2020-01-01", f"quota:{uid}:{datetime.now(UTC).date().isoformat()}"
    await pool.execute(
        """insert into actor_counters (kind, key, value, updated_at) values
           ('quota', $1, 5, now() - interval '3 days'), ('quota', $2, 7, now())""",
        old,
        today,
    )
    await _prune_now(pool, client.app[runtime_settings_key])
    left = await pool.fetch("select key from actor_counters where key = any($1::text[])", [old, today])
    assert [r["key"] for r in left] == [today]


async def test_cli_prune_and_tail(client, cli_env):
    pool = client.app[pool_key]
    uid = -(uuid.uuid4().int % 10**9) - 1
    await _old_rows(pool, uid)
    code, out, err = await roost(cli_env, "api-logs", "prune")
    assert code == 0, err
    assert out.startswith("pruned ") and out.strip().endswith("older than 30 days")
    assert [r["path"] for r in await _rows(client, "user_id = $1", uid)] == ["api/recent"]

    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    await client.get("/api/users/me", headers=bearer(token))
    await client.get("/api/users/me", headers=bearer(token))
    await client.app[request_log_key].flush()
    code, out, err = await roost(cli_env, "api-logs", "tail", "--limit", "2")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert " GET /api/users/me 200 route=api/users/me auth=pat " in line
        assert line.endswith(f"user={user['id']}")

    code, _, err = await roost(cli_env, "api-logs", "tail", "--limit", "0")
    assert code != 0


# -- issue 9: one NUL byte erased every user's rows for that flush ---------------------------------


async def test_a_nul_row_and_a_normal_row_in_one_flush_are_both_written(client):
    user = await make_user(client.app)
    writer = client.app[request_log_key]
    now = datetime.now(UTC)
    # a lone surrogate cannot come through a URL (yarl keeps invalid UTF-8 escaped); any other
    # source of a row is held to the same rule
    writer.add(LogRow(user["id"], "GET", "api/pets/\x00\ud800", "api/pets/{pet}", 404, "pat", now))
    writer.add(LogRow(user["id"], "GET", "api/users/me", "api/users/me", 200, "pat", now))
    rows = await _rows(client, "user_id = $1", user["id"])
    assert [r["path"] for r in rows] == ["api/pets/\ufffd\ufffd", "api/users/me"]


async def test_a_huge_path_is_capped(client):
    user = await make_user(client.app)
    client.app[request_log_key].add(LogRow(user["id"], "GET", "x" * 100_000, None, 404, "pat", datetime.now(UTC)))
    (row,) = await _rows(client, "user_id = $1", user["id"])
    assert row["path"] == "x" * MAX_PATH_CHARS


async def test_a_batch_the_database_refuses_is_written_row_by_row(client):
    user = await make_user(client.app)
    writer = client.app[request_log_key]
    now = datetime.now(UTC)
    dropped = writer.dropped
    writer.add(LogRow(user["id"], "GET", "api/a", None, 200, "pat", now))
    # passes scrubbing but not the table: auth_mode's check constraint refuses it
    writer.add(LogRow(user["id"], "GET", "api/bad", None, 200, "forged", now))
    writer.add(LogRow(user["id"], "GET", "api/b", None, 200, "pat", now))
    rows = await _rows(client, "user_id = $1", user["id"])
    assert [r["path"] for r in rows] == ["api/a", "api/b"]
    assert writer.dropped == dropped + 1


async def test_a_nul_in_a_path_and_a_normal_request_in_one_flush_are_both_logged(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    assert (await client.get("/api/pets/%00", headers=bearer(token))).status == 404
    assert (await client.get("/api/users/me", headers=bearer(token))).status == 200
    rows = await _rows(client, "user_id = $1", user["id"])
    assert [(r["path"], r["status_code"]) for r in rows] == [("api/pets/\ufffd", 404), ("api/users/me", 200)]
