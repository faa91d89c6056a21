"""002's account endpoints at the root: /user/create (API key), /auth/email/login,
/auth/access_token (OAuth2 form), /user/me, /user/update, /user/reset_password."""

from __future__ import annotations

import time
import uuid

import pytest

from domain import api_keys
from domain.tokens import issue_jwt
from gateway.app import create_app
from gateway.kernel.keys import accounts_key, pool_key
from tests.builders import DEFAULT_PASSWORD, bearer, make_token, make_user, sha256_hex, unique_email

PLAIN = "SecurePassword456!"


@pytest.fixture
async def api_key(client) -> api_keys.IssuedApiKey:
    return await api_keys.issue(client.app[pool_key], f"frontend-{uuid.uuid4().hex[:8]}")


def x_api_key(key: api_keys.IssuedApiKey | str) -> dict[str, str]:
    value = key.plain_text if isinstance(key, api_keys.IssuedApiKey) else key
    return {"X-API-Key": value}


def unique_name() -> str:
    return f"Jane {uuid.uuid4().hex[:8]}"


async def create(client, headers: dict[str, str], **body) -> tuple[int, dict]:
    payload = {"email": unique_email("pc"), "name": unique_name(), "pwd": PLAIN} | body
    resp = await client.post("/user/create", json=payload, headers=headers)
    return resp.status, await resp.json()


async def login(client, email: str, pwd: str = PLAIN) -> str:
    resp = await client.post("/auth/email/login", json={"email": email, "pwd": pwd})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["data"]["access_token"]


async def registered(client, api_key) -> tuple[dict, str]:
    """A user made through /user/create, and a JWT for them."""
    status, body = await create(client, x_api_key(api_key))
    assert status == 200, body
    return body["data"], await login(client, body["data"]["email"])


def jwt_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(body: dict, message: str) -> None:
    """Both of 002's error shapes in one body: the document's and FastAPI's."""
    assert body["status"] == 0
    assert body["data"] is None
    assert body["message"] == message
    assert isinstance(body["details"], dict)
    assert body["detail"] == message


def assert_user_view(data: dict) -> None:
    assert set(data) >= {
        "id", "email", "name", "picture", "personal_group_id", "created_at", "updated_at",
        "source", "is_active", "is_verified",
    }
    assert isinstance(data["id"], str) and data["id"].isdigit()
    assert isinstance(data["personal_group_id"], str)
    assert data["created_at"].endswith("Z") and data["updated_at"].endswith("Z")
    assert data["is_active"] is True
    assert "password_hash" not in data


# -- /user/create -------------------------------------------------------------------------------


async def test_create_with_x_api_key_header(client, api_key):
    email = unique_email("Doc")
    status, body = await create(client, x_api_key(api_key), email=email, name="Jane Smith")
    assert status == 200
    assert body["status"] == 1
    assert body["message"] == "User registered successfully"
    data = body["data"]
    assert_user_view(data)
    assert data["email"] == email
    assert data["name"] == "Jane Smith"
    assert data["picture"] == ""
    assert data["source"] == api_key.record["name"]
    assert data["is_verified"] is False


async def test_create_with_bearer_key_and_secret(client, api_key):
    status, body = await create(client, {"Authorization": f"Bearer {api_key.plain_text}"})
    assert status == 200
    assert body["data"]["source"] == api_key.record["name"]


async def test_create_makes_the_personal_group_with_the_user_as_creator(client, api_key):
    status, body = await create(client, x_api_key(api_key))
    assert status == 200
    async with client.app[pool_key].acquire() as conn:
        group = await conn.fetchrow("select * from groups where id = $1", int(body["data"]["personal_group_id"]))
        role = await conn.fetchval(
            "select role from group_members where group_id = $1 and user_id = $2", group["id"], int(body["data"]["id"])
        )
    assert group["is_personal"] is True
    assert group["creator_id"] == int(body["data"]["id"])
    assert role == "creator"


async def test_create_without_a_key_is_403(client):
    status, body = await create(client, {})
    assert status == 403
    assert_error(body, "Not authenticated")


@pytest.mark.parametrize(
    "presented",
    [
        lambda k: f"{k.record['key_id']}:wrong-secret",
        lambda k: f"rk_unknown{uuid.uuid4().hex[:6]}:{k.secret}",
        lambda k: k.secret,  # no key id
        lambda k: f"{k.record['key_id']}:",
    ],
    ids=["wrong-secret", "unknown-key-id", "secret-only", "empty-secret"],
)
async def test_create_with_a_wrong_key_is_401(client, api_key, presented):
    for headers in (x_api_key(presented(api_key)), {"Authorization": f"Bearer {presented(api_key)}"}):
        status, body = await create(client, headers)
        assert status == 401
        assert_error(body, "Invalid API key")


async def test_create_with_a_revoked_key_is_401(client, api_key):
    assert await api_keys.revoke(client.app[pool_key], api_key.record["name"]) is not None
    status, body = await create(client, x_api_key(api_key))
    assert status == 401
    assert_error(body, "Invalid API key")


async def test_create_with_a_user_jwt_instead_of_a_key_is_401(client, api_key):
    _, token = await registered(client, api_key)
    status, body = await create(client, jwt_header(token))
    assert status == 401
    assert_error(body, "Invalid API key")


async def test_create_duplicate_email_is_400_whatever_its_case(client, api_key):
    email = unique_email("dup")
    assert (await create(client, x_api_key(api_key), email=email))[0] == 200
    status, body = await create(client, x_api_key(api_key), email=email.upper())
    assert status == 400
    assert_error(body, "User already exists")


async def test_create_validation_is_422_with_a_fastapi_detail_list(client, api_key):
    resp = await client.post(
        "/user/create", json={"email": "not-an-email", "name": "x" * 51}, headers=x_api_key(api_key)
    )
    assert resp.status == 422
    body = await resp.json()
    assert body["status"] == 0 and body["data"] is None
    locs = {tuple(d["loc"]): d["msg"] for d in body["detail"]}
    assert locs == {
        ("body", "email"): "The email must be a valid email address.",
        ("body", "name"): "The name may not be greater than 50 characters.",
        ("body", "pwd"): "The pwd field is required.",
    }
    assert all(d["type"] for d in body["detail"])
    assert set(body["details"]["field_errors"]) == {"email", "name", "pwd"}


async def test_create_refuses_an_over_long_password_with_422_on_pwd(client, api_key):
    status, body = await create(client, x_api_key(api_key), pwd="p" * 1025)
    assert status == 422
    assert [d["loc"] for d in body["detail"]] == [["body", "pwd"]]


async def test_create_key_is_checked_before_the_body(client):
    resp = await client.post("/user/create", json={})
    assert resp.status == 403


async def test_create_is_throttled_per_ip(aiohttp_client, settings, ray_session):
    app = create_app(settings.model_copy(update={"throttle_register_per_hour": 1}))
    tight = await aiohttp_client(app)
    key = await api_keys.issue(app[pool_key], f"throttle-{uuid.uuid4().hex[:8]}")
    statuses = []
    for _ in range(2):
        statuses.append((await create(tight, x_api_key(key)))[0])
    # earlier tests from this address may have used the one allowed request already
    assert statuses[-1] == 429
    resp = await tight.post("/user/create", json={}, headers=x_api_key(key))
    assert resp.status == 429
    body = await resp.json()
    assert body["status"] == 0 and body["data"] is None
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["X-RateLimit-Limit"] == "1"


async def test_a_user_created_through_002_signs_in_through_the_shared_domain(client, api_key):
    email = unique_email("cross")
    assert (await create(client, x_api_key(api_key), email=email))[0] == 200
    user = await client.app[accounts_key].authenticate(email, sha256_hex(PLAIN))
    assert user is not None and user["email"] == email
    assert await client.app[accounts_key].authenticate(email, sha256_hex("other")) is None


# -- /auth/email/login --------------------------------------------------------------------------


async def test_email_login(client, api_key):
    data, _ = await registered(client, api_key)
    resp = await client.post("/auth/email/login", json={"email": data["email"], "pwd": PLAIN})
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == 1
    assert body["message"] == "Email login successful"
    assert body["data"]["token_type"] == "bearer"
    assert body["data"]["user"] == {"id": data["id"], "email": data["email"], "name": data["name"]}
    me = await client.get("/user/me", headers=jwt_header(body["data"]["access_token"]))
    assert me.status == 200


async def test_email_login_of_a_user_registered_elsewhere(client):
    user = await make_user(client.app, name="Made Elsewhere")
    resp = await client.post("/auth/email/login", json={"email": user["email"], "pwd": DEFAULT_PASSWORD})
    assert resp.status == 200
    assert (await resp.json())["data"]["user"]["id"] == str(user["id"])


async def test_email_login_wrong_password_is_401(client, api_key):
    data, _ = await registered(client, api_key)
    resp = await client.post("/auth/email/login", json={"email": data["email"], "pwd": "nope"})
    assert resp.status == 401
    assert_error(await resp.json(), "Incorrect email or password")


async def test_email_login_unknown_email_is_401(client):
    resp = await client.post("/auth/email/login", json={"email": unique_email("ghost"), "pwd": PLAIN})
    assert resp.status == 401
    assert_error(await resp.json(), "Incorrect email or password")


async def test_email_login_of_a_deactivated_user_is_401(client):
    user = await make_user(client.app)
    await client.app[accounts_key].update_user(user["id"], {"is_active": False})
    resp = await client.post("/auth/email/login", json={"email": user["email"], "pwd": DEFAULT_PASSWORD})
    assert resp.status == 401


async def test_email_login_validation_is_422(client):
    resp = await client.post("/auth/email/login", json={"email": "someone@example.test"})
    assert resp.status == 422
    body = await resp.json()
    assert [d["loc"] for d in body["detail"]] == [["body", "pwd"]]


async def test_email_login_malformed_json_is_400(client):
    resp = await client.post("/auth/email/login", data=b"{", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["status"] == 0


# -- /auth/access_token -------------------------------------------------------------------------


async def test_access_token_by_name(client, api_key):
    data, _ = await registered(client, api_key)
    resp = await client.post(
        "/auth/access_token", data={"grant_type": "password", "username": data["name"], "password": PLAIN}
    )
    assert resp.status == 200
    body = await resp.json()
    assert set(body) == {"access_token", "token_type", "message"}
    assert body["token_type"] == "bearer"
    assert body["message"] == "Access token generated successfully"
    me = await client.get("/user/me", headers=jwt_header(body["access_token"]))
    assert (await me.json())["data"]["id"] == data["id"]


async def test_access_token_by_email_without_grant_type(client, api_key):
    data, _ = await registered(client, api_key)
    resp = await client.post("/auth/access_token", data={"username": data["email"], "password": PLAIN})
    assert resp.status == 200
    body = await resp.json()
    me = await client.get("/user/me", headers=jwt_header(body["access_token"]))
    assert (await me.json())["data"]["email"] == data["email"]


async def test_access_token_wrong_password_is_401_in_the_error_envelope(client, api_key):
    data, _ = await registered(client, api_key)
    for username in (data["name"], data["email"], "nobody-" + uuid.uuid4().hex):
        resp = await client.post("/auth/access_token", data={"username": username, "password": "wrong"})
        assert resp.status == 401
        assert_error(await resp.json(), "Incorrect username or password")


async def test_access_token_form_validation_is_422(client):
    resp = await client.post("/auth/access_token", data={"grant_type": "client_credentials", "password": "x"})
    assert resp.status == 422
    locs = sorted(tuple(d["loc"]) for d in (await resp.json())["detail"])
    assert locs == [("body", "grant_type"), ("body", "username")]


# -- /user/me -----------------------------------------------------------------------------------


async def test_me_with_a_jwt(client, api_key):
    data, token = await registered(client, api_key)
    resp = await client.get("/user/me", headers=jwt_header(token))
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == 1
    assert body["message"] == f"Welcome, {data['name']}!"
    assert body["data"] == data


async def test_me_with_a_personal_access_token(client):
    user = await make_user(client.app, name="Pat Holder")
    token = await make_token(client.app, user["id"])
    resp = await client.get("/user/me", headers=bearer(token))
    assert resp.status == 200
    body = await resp.json()
    assert body["message"] == "Welcome, Pat Holder!"
    assert body["data"]["id"] == str(user["id"])


async def test_me_without_a_token_is_401(client):
    resp = await client.get("/user/me")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert_error(await resp.json(), "Not authenticated")


async def test_me_with_a_tampered_jwt_is_401(client, api_key):
    _, token = await registered(client, api_key)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}"
    resp = await client.get("/user/me", headers=jwt_header(forged))
    assert resp.status == 401
    assert_error(await resp.json(), "Could not validate credentials")


async def test_me_with_an_expired_jwt_is_401(client, settings, api_key):
    data, _ = await registered(client, api_key)
    expired = issue_jwt(settings.app_key, int(data["id"]), 0, 60, now=time.time() - 3600)
    resp = await client.get("/user/me", headers=jwt_header(expired))
    assert resp.status == 401
    assert_error(await resp.json(), "Could not validate credentials")


async def test_me_with_a_jwt_signed_by_another_key_is_401(client, api_key):
    data, _ = await registered(client, api_key)
    foreign = issue_jwt("some-other-app-key-0123456789", int(data["id"]), 0, 600)
    resp = await client.get("/user/me", headers=jwt_header(foreign))
    assert resp.status == 401


# -- /user/update -------------------------------------------------------------------------------


async def test_update_name_and_picture(client, api_key):
    data, token = await registered(client, api_key)
    picture = "https://new-profile-pic.example/updated.jpg"
    resp = await client.post(
        "/user/update", json={"name": "  John Updated  ", "picture": picture}, headers=jwt_header(token)
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["message"] == "User info updated successfully"
    assert body["data"]["name"] == "John Updated"
    assert body["data"]["picture"] == picture
    assert body["data"]["id"] == data["id"]
    assert body["data"]["personal_group_id"] == data["personal_group_id"]
    me = await (await client.get("/user/me", headers=jwt_header(token))).json()
    assert me["data"]["picture"] == picture
    assert me["message"] == "Welcome, John Updated!"


async def test_update_leaves_absent_fields_and_clears_an_empty_picture(client, api_key):
    data, token = await registered(client, api_key)
    await client.post("/user/update", json={"picture": "https://pics.example/a.png"}, headers=jwt_header(token))
    resp = await client.post("/user/update", json={"picture": ""}, headers=jwt_header(token))
    body = await resp.json()
    assert resp.status == 200
    assert body["data"]["picture"] == ""
    assert body["data"]["name"] == data["name"]
    resp = await client.post("/user/update", json={}, headers=jwt_header(token))
    assert resp.status == 200
    assert (await resp.json())["data"]["name"] == data["name"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 51}, "name"),
        ({"picture": "not a url"}, "picture"),
        ({"picture": "javascript:alert(1)"}, "picture"),
        ({"picture": "https://x.example/" + "a" * 2048}, "picture"),
        ({"name": 5}, "name"),
    ],
)
async def test_update_validation_is_422(client, api_key, body, field):
    _, token = await registered(client, api_key)
    resp = await client.post("/user/update", json=body, headers=jwt_header(token))
    assert resp.status == 422
    assert [d["loc"] for d in (await resp.json())["detail"]] == [["body", field]]


async def test_update_without_a_token_is_401(client):
    resp = await client.post("/user/update", json={"name": "x"})
    assert resp.status == 401
    assert_error(await resp.json(), "Not authenticated")


# -- /user/reset_password -----------------------------------------------------------------------


async def test_reset_password_voids_old_jwts_and_returns_a_fresh_one(client, api_key):
    data, old = await registered(client, api_key)
    resp = await client.post(
        "/user/reset_password", json={"old_pwd": PLAIN, "new_pwd": "NewSecurePassword789!"}, headers=jwt_header(old)
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["message"] == "Password reset successfully"
    assert body["data"]["id"] == data["id"]
    assert body["data"]["token_type"] == "bearer"
    fresh = body["data"]["access_token"]
    assert fresh != old

    stale = await client.get("/user/me", headers=jwt_header(old))
    assert stale.status == 401
    assert_error(await stale.json(), "Could not validate credentials")
    assert (await client.get("/user/me", headers=jwt_header(fresh))).status == 200

    wrong = await client.post("/auth/email/login", json={"email": data["email"], "pwd": PLAIN})
    assert wrong.status == 401
    await login(client, data["email"], "NewSecurePassword789!")


async def test_reset_password_wrong_old_password_is_400(client, api_key):
    data, token = await registered(client, api_key)
    resp = await client.post(
        "/user/reset_password", json={"old_pwd": "not-it", "new_pwd": "Whatever123!"}, headers=jwt_header(token)
    )
    assert resp.status == 400
    assert_error(await resp.json(), "Old password is incorrect")
    # nothing changed: the old password and the old token still work
    assert (await client.get("/user/me", headers=jwt_header(token))).status == 200
    await login(client, data["email"])


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"old_pwd": PLAIN, "new_pwd": ""}, [["body", "new_pwd"]]),
        ({"old_pwd": PLAIN, "new_pwd": "n" * 1025}, [["body", "new_pwd"]]),
        ({"new_pwd": "Fine-123"}, [["body", "old_pwd"]]),
    ],
)
async def test_reset_password_validation_is_422(client, api_key, body, fields):
    _, token = await registered(client, api_key)
    resp = await client.post("/user/reset_password", json=body, headers=jwt_header(token))
    assert resp.status == 422
    assert [d["loc"] for d in (await resp.json())["detail"]] == fields


async def test_reset_password_without_a_token_is_401(client):
    resp = await client.post("/user/reset_password", json={"old_pwd": "a", "new_pwd": "b"})
    assert resp.status == 401


async def test_routes_answer_wrong_methods_with_405_in_the_envelope(client):
    resp = await client.get("/user/create")
    assert resp.status == 405
    body = await resp.json()
    assert body["status"] == 0 and body["detail"] == "Method Not Allowed"
