"""`roost users …` and `roost apikeys …`, run as the operator runs them (a subprocess of the CLI)
against the test database and Redis, checked in the database and through the running gateway."""

from __future__ import annotations

import uuid

import pytest

from gateway.kernel.keys import accounts_key, pool_key, token_cache_key
from tests.builders import sha256_hex, unique_email
from tests.ops.cli_runs import roost
from tests.waiting import eventually


async def test_users_create(client, cli_env):
    email = unique_email("cli")
    code, out, err = await roost(
        cli_env, "users", "create", "--email", email, "--password", "Cli-Pass-1", "--name", "Cli User",
        "--verified", "--premium",
    )
    assert code == 0, err
    async with client.app[pool_key].acquire() as conn:
        user = await conn.fetchrow("select * from users where email = $1", email)
        group = await conn.fetchval("select id from groups where creator_id = $1 and is_personal", user["id"])
    assert out.strip() == f"created user {user['id']} {email}"
    assert user["name"] == "Cli User"
    assert user["is_premium"] is True
    assert user["email_verified_at"] is not None
    assert group is not None
    # the password is stored the way every contract checks it
    assert await client.app[accounts_key].authenticate(email, sha256_hex("Cli-Pass-1")) is not None


async def test_users_create_defaults_to_unverified_and_not_premium(client, cli_env):
    email = unique_email("cli")
    code, _, err = await roost(cli_env, "users", "create", "--email", email, "--password", "p")
    assert code == 0, err
    async with client.app[pool_key].acquire() as conn:
        user = await conn.fetchrow("select * from users where email = $1", email)
    assert user["is_premium"] is False and user["email_verified_at"] is None


async def test_users_create_duplicate_exits_1(client, cli_env):
    email = unique_email("cli")
    assert (await roost(cli_env, "users", "create", "--email", email, "--password", "p"))[0] == 0
    code, out, err = await roost(cli_env, "users", "create", "--email", email.upper(), "--password", "p")
    assert code == 1
    assert out == ""
    assert "already exists" in err


@pytest.mark.parametrize(
    "args, exit_code",
    [
        (["--email", "not-an-email", "--password", "p"], 1),  # our email rule refuses it
        (["--password", "p"], 2),  # click's own usage error: a required option is missing
    ],
)
async def test_users_create_refuses_bad_input(client, cli_env, args, exit_code):
    code, _, err = await roost(cli_env, "users", "create", *args)
    assert code == exit_code
    assert err


async def test_users_create_refuses_an_empty_password(client, cli_env):
    code, _, err = await roost(cli_env, "users", "create", "--email", unique_email("cli"), "--password", "")
    assert code == 1
    assert "password" in err


async def test_set_premium_on_and_off_reaches_a_running_gateway(client, cli_env):
    email = unique_email("prem")
    assert (await roost(cli_env, "users", "create", "--email", email, "--password", "p"))[0] == 0
    async with client.app[pool_key].acquire() as conn:
        user_id = await conn.fetchval("select id from users where email = $1", email)
    cache = client.app[token_cache_key]
    await cache.wait_subscribed()
    assert (await cache.lookup_user(user_id)).is_premium is False  # now cached in this gateway

    code, out, err = await roost(cli_env, "users", "set-premium", email)
    assert code == 0, err
    assert "premium on" in out
    # the gateway's cached entry is evicted by the CLI's invalidation, long before its TTL
    async def premium() -> bool:
        return (await cache.lookup_user(user_id)).is_premium

    await eventually(premium, timeout=2, what="the CLI's invalidation reaching the gateway")

    code, out, _ = await roost(cli_env, "users", "set-premium", email, "--off")
    assert code == 0
    assert "premium off" in out
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select is_premium from users where id = $1", user_id) is False


async def test_set_premium_unknown_email_exits_1(client, cli_env):
    code, _, err = await roost(cli_env, "users", "set-premium", unique_email("ghost"))
    assert code == 1
    assert "no user" in err


async def test_apikeys_create_prints_a_key_that_registers_users(client, cli_env):
    name = f"cli-frontend-{uuid.uuid4().hex[:8]}"
    code, out, err = await roost(cli_env, "apikeys", "create", name)
    assert code == 0, err
    plain = out.strip()
    key_id, _, secret = plain.partition(":")
    assert key_id and secret and "\n" not in plain
    async with client.app[pool_key].acquire() as conn:
        row = await conn.fetchrow("select * from api_keys where name = $1", name)
    assert row["key_id"] == key_id
    assert row["secret_hash"] == sha256_hex(secret)  # the secret itself is not stored
    assert secret not in str(dict(row))

    for headers in ({"X-API-Key": plain}, {"Authorization": f"Bearer {plain}"}):
        resp = await client.post(
            "/user/create", json={"email": unique_email("viacli"), "name": "Via Cli", "pwd": "pw-123"}, headers=headers
        )
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["data"]["source"] == name


async def test_apikeys_create_duplicate_name_exits_1(client, cli_env):
    name = f"cli-dup-{uuid.uuid4().hex[:8]}"
    assert (await roost(cli_env, "apikeys", "create", name))[0] == 0
    code, out, err = await roost(cli_env, "apikeys", "create", name)
    assert code == 1
    assert out == ""
    assert "already exists" in err


async def test_apikeys_revoke_stops_the_key(client, cli_env):
    name = f"cli-rev-{uuid.uuid4().hex[:8]}"
    code, out, _ = await roost(cli_env, "apikeys", "create", name)
    assert code == 0
    assert (await roost(cli_env, "apikeys", "revoke", name))[0] == 0
    resp = await client.post(
        "/user/create",
        json={"email": unique_email("rev"), "name": "Nope", "pwd": "pw"},
        headers={"X-API-Key": out.strip()},
    )
    assert resp.status == 401
    code, _, err = await roost(cli_env, "apikeys", "revoke", f"missing-{uuid.uuid4().hex[:6]}")
    assert code == 1 and "no API key" in err
