"""The issue's walk: one person registers through 003, signs in through 002 and the browser,
manages a token through 000, and loses access the moment the token is revoked."""

from __future__ import annotations

from tests.builders import sha256_hex, unique_email

PASSWORD = "Walk-across-4-contracts"


async def test_one_person_across_contracts(client):
    email = unique_email("walker")

    # 003: register with the SHA-256 hex of the password
    resp = await client.post(
        "/api/auth/register",
        json={
            "username": email.split("@")[0],
            "first_name": "Wanda",
            "last_name": "Walker",
            "email": email,
            "password_hash": sha256_hex(PASSWORD),
            "password_hash_confirmation": sha256_hex(PASSWORD),
        },
    )
    assert resp.status == 201, await resp.text()
    registered = (await resp.json())["data"]["user"]

    # 002: log in with the plain password, get a JWT for the same account
    resp = await client.post("/auth/email/login", json={"email": email, "pwd": PASSWORD})
    assert resp.status == 200, await resp.text()
    login = (await resp.json())["data"]
    assert login["token_type"] == "bearer"
    assert login["user"]["id"] == str(registered["id"])
    me_002 = await client.get("/user/me", headers={"Authorization": f"Bearer {login['access_token']}"})
    assert me_002.status == 200
    assert (await me_002.json())["data"]["email"] == email

    # browser: sign in at /login with the plain password
    resp = await client.post("/login", json={"email": email, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    session_cookie = resp.cookies["roost_session"].value
    xsrf = resp.cookies["XSRF-TOKEN"].value
    cookies = {"roost_session": session_cookie, "XSRF-TOKEN": xsrf}

    # 000: create a personal access token from the session
    resp = await client.post(
        "/api/user/api-tokens",
        json={"name": "walk-token", "permissions": ["read"]},
        cookies=cookies,
        headers={"X-XSRF-TOKEN": xsrf},
    )
    assert resp.status == 201, await resp.text()
    created = (await resp.json())["data"]
    token_id = created["token"]["id"]
    plain = created["plain_text_token"]

    # 000: the token reads the same person
    client.session.cookie_jar.clear()  # the token alone, no session
    resp = await client.get("/api/users/me", headers={"Authorization": f"Bearer {plain}"})
    assert resp.status == 200, await resp.text()
    me = (await resp.json())["data"]
    assert me["id"] == registered["id"] and me["email"] == email

    # revoke it from the session ...
    resp = await client.delete(
        f"/api/user/api-tokens/{token_id}", cookies=cookies, headers={"X-XSRF-TOKEN": xsrf}
    )
    assert resp.status == 200
    assert (await resp.json())["data"]["revoked"] is True

    # ... and the very next call with it is refused
    client.session.cookie_jar.clear()
    resp = await client.get("/api/users/me", headers={"Authorization": f"Bearer {plain}"})
    assert resp.status == 401
    assert (await resp.json())["message"] == "Unauthenticated."
