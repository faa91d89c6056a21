"""One email rule for one `users` table: an address one contract (or `roost users create`) stores
is one every other contract signs its owner in with. Before domain/emails.py, 002 and the CLI
stored `josé@example.com` and 003's login refused it with a 422."""

from __future__ import annotations

import uuid

from domain import api_keys
from gateway.kernel.keys import pool_key
from tests.builders import sha256_hex
from tests.ops.cli_runs import roost

PLAIN = "Across-the-contracts-1"


async def _login_003(client, email: str, password: str = PLAIN) -> dict:
    resp = await client.post("/api/auth/login", json={"email": email, "password_hash": sha256_hex(password)})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["data"]["user"]


async def _login_002(client, email: str, password: str = PLAIN) -> dict:
    resp = await client.post("/auth/email/login", json={"email": email, "pwd": password})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["data"]["user"]


async def test_an_smtputf8_address_made_through_002_signs_in_through_003(client):
    key = await api_keys.issue(client.app[pool_key], f"email-rule-{uuid.uuid4().hex[:8]}")
    resp = await client.post(
        "/user/create",
        json={"email": "josé@example.com", "name": "José", "pwd": PLAIN},
        headers={"X-API-Key": key.plain_text},
    )
    assert resp.status == 200, await resp.text()
    created = (await resp.json())["data"]
    assert created["email"] == "josé@example.com"

    user = await _login_003(client, "josé@example.com")
    assert (user["id"], user["email"]) == (int(created["id"]), "josé@example.com")


async def test_an_smtputf8_address_registered_through_003_signs_in_through_002(client):
    email = f"zoë-{uuid.uuid4().hex[:8]}@exämple.test"
    hexed = sha256_hex(PLAIN)
    resp = await client.post(
        "/api/auth/register",
        json={
            "username": f"zoe{uuid.uuid4().hex[:8]}",
            "first_name": "Zoë",
            "email": email,
            "password_hash": hexed,
            "password_hash_confirmation": hexed,
        },
    )
    assert resp.status == 201, await resp.text()
    registered = (await resp.json())["data"]["user"]

    user = await _login_002(client, email)
    assert (user["id"], user["email"]) == (str(registered["id"]), email)


async def test_an_address_made_by_the_cli_signs_in_through_002_and_003(client, cli_env):
    email = f"müller-{uuid.uuid4().hex[:8]}@example.com"
    code, out, err = await roost(cli_env, "users", "create", "--email", email, "--password", PLAIN)
    assert (code, err) == (0, ""), out

    assert (await _login_002(client, email))["email"] == email
    assert (await _login_003(client, email))["email"] == email


async def test_every_contract_refuses_what_is_not_an_address(client, cli_env):
    key = await api_keys.issue(client.app[pool_key], f"email-rule-{uuid.uuid4().hex[:8]}")
    for address in ("user@localhost", "a..b@example.com", '"a b"@example.com'):
        resp = await client.post(
            "/user/create", json={"email": address, "name": "X", "pwd": PLAIN}, headers={"X-API-Key": key.plain_text}
        )
        assert resp.status == 422, address
        body = (await resp.json())["detail"]
        assert [d["msg"] for d in body] == ["The email must be a valid email address."], address

        hexed = sha256_hex(PLAIN)
        resp = await client.post(
            "/api/auth/register",
            json={"username": "x", "first_name": "X", "email": address, "password_hash": hexed,
                  "password_hash_confirmation": hexed},
        )
        assert resp.status == 422, address
        assert (await resp.json())["errors"] == {"email": ["The email must be a valid email address."]}, address

        code, _, err = await roost(cli_env, "users", "create", "--email", address, "--password", PLAIN)
        assert (code, err) == (1, f"roost: not an email address: {address!r}\n"), address
