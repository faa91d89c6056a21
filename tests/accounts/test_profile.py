"""003 at /api: the profile (GET/PUT/DELETE /api/user), avatar upload, public profiles, and the
media files behind avatar URLs (GET /storage/...)."""

from __future__ import annotations

import io
import struct
import zlib
from urllib.parse import urlsplit

import pytest
from aiohttp import FormData
from PIL import Image

from gateway.app import create_app
from gateway.kernel.keys import pool_key
from gateway.web import media
from tests.accounts.account_helpers import JSON, assert_err, assert_no_password, assert_ok, auth, register
from tests.builders import DEFAULT_PASSWORD, make_token, make_user, sha256_hex

INVALID = "The given data was invalid."


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


@pytest.fixture
async def app_client(aiohttp_client, settings, ray_session):
    """The whole app (gateway/app.py wires the media route)."""
    return await aiohttp_client(create_app(settings))


def avatar_form(data: bytes, filename: str = "me.png", content_type: str = "image/png", field: str = "avatar"):
    form = FormData()
    form.add_field(field, data, filename=filename, content_type=content_type)
    return form


# -- GET / PUT /api/user ----------------------------------------------------------------------


async def test_show_profile(client):
    reg = await register(client)
    resp = await client.get("/api/user", headers=auth(reg["token"]))
    data = assert_ok(await resp.json(), 200, "User profile")
    assert data["id"] == reg["user"]["id"] and data["email"] == reg["user"]["email"]
    assert_no_password(data)


async def test_update_profile_fields(client):
    reg = await register(client)
    new_email = f"new-{reg['user']['email']}"
    resp = await client.put(
        "/api/user",
        headers=auth(reg["token"]),
        json={
            "first_name": "Grace",
            "last_name": "Hopper",
            "username": f"g{reg['user']['username']}",
            "email": new_email,
            "avatar": "https://cdn.example.test/a.png",
            # a new address needs the current password
            "current_password_hash": sha256_hex(DEFAULT_PASSWORD),
        },
    )
    assert resp.status == 200
    user = assert_ok(await resp.json(), 200, "Profile updated")
    assert (user["first_name"], user["last_name"], user["email"]) == ("Grace", "Hopper", new_email)
    assert user["avatar"] == "https://cdn.example.test/a.png"
    assert_no_password(user)
    # the new email signs in
    again = await client.post(
        "/api/auth/login", json={"email": new_email, "password_hash": sha256_hex(DEFAULT_PASSWORD)}
    )
    assert again.status == 200


async def test_update_with_an_empty_body_changes_nothing(client):
    reg = await register(client)
    resp = await client.put("/api/user", headers=auth(reg["token"]), json={})
    assert assert_ok(await resp.json(), 200, "Profile updated")["username"] == reg["user"]["username"]


async def test_update_keeps_ones_own_email_and_username(client):
    reg = await register(client)
    resp = await client.put(
        "/api/user",
        headers=auth(reg["token"]),
        json={"email": reg["user"]["email"].upper(), "username": reg["user"]["username"]},
    )
    assert resp.status == 200


async def test_update_refuses_someone_elses_email_or_username(client):
    mine, theirs = await register(client), await register(client)
    for field in ("email", "username"):
        body = {field: theirs["user"][field], "current_password_hash": sha256_hex(DEFAULT_PASSWORD)}
        resp = await client.put("/api/user", headers=auth(mine["token"]), json=body)
        assert resp.status == 422
        errors = assert_err(await resp.json(), 422, INVALID)
        assert errors == {field: [f"The {field} has already been taken."]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "nope"}, "email"),
        ({"avatar": "not a url"}, "avatar"),
        ({"avatar": "javascript:alert(1)"}, "avatar"),
        ({"avatar": "https://x.test/" + "a" * 3000}, "avatar"),
        ({"username": "u" * 256}, "username"),
        ({"first_name": "f" * 256}, "first_name"),
        ({"last_name": "l" * 256}, "last_name"),
        ({"first_name": None}, "first_name"),
        ({"username": ""}, "username"),
        ({"first_name": 42}, "first_name"),
    ],
)
async def test_update_validation_failures(client, body, field):
    reg = await register(client)
    resp = await client.put("/api/user", headers=auth(reg["token"]), json=body)
    assert resp.status == 422
    assert field in assert_err(await resp.json(), 422, INVALID)


@pytest.mark.parametrize("method, path", [("GET", "/api/user"), ("PUT", "/api/user"), ("DELETE", "/api/user")])
async def test_profile_routes_need_a_token(client, method, path):
    resp = await client.request(method, path, headers=JSON, json={})
    assert resp.status == 401
    assert_err(await resp.json(), 401, "Unauthenticated.")


# -- DELETE /api/user -------------------------------------------------------------------------


async def test_delete_account_kills_every_token_and_the_avatar_file(app_client, settings):
    reg = await register(app_client)
    user_id = reg["user"]["id"]
    other = await make_token(app_client.app, user_id)
    up = await app_client.post("/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(tiny_png()))
    assert up.status == 200
    folder = settings.media_dir / "avatars" / str(user_id)
    assert any(folder.iterdir())

    resp = await app_client.delete("/api/user", headers=auth(reg["token"]))
    assert resp.status == 200
    assert assert_ok(await resp.json(), 200, "Account deleted") is None
    for token in (reg["token"], other.plain_text):
        assert (await app_client.get("/api/user", headers=auth(token))).status == 401
    assert not folder.exists()
    async with app_client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select count(*) from users where id = $1", user_id) == 0
    resp = await app_client.post(
        "/api/auth/login", json={"email": reg["user"]["email"], "password_hash": sha256_hex(DEFAULT_PASSWORD)}
    )
    assert resp.status == 401


# -- POST /api/user/avatar --------------------------------------------------------------------


async def test_avatar_upload_stores_serves_and_replaces(app_client, settings):
    reg = await register(app_client)
    user_id = reg["user"]["id"]
    png = tiny_png()
    resp = await app_client.post("/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(png))
    assert resp.status == 200
    url = assert_ok(await resp.json(), 200, "Avatar uploaded")["avatar_url"]
    assert url.startswith(settings.app_url.rstrip("/") + "/storage/avatars/" + str(user_id) + "/")
    assert url.endswith(".jpg")  # re-encoded, never stored as uploaded

    path = urlsplit(url).path
    served = await app_client.get(path)
    assert served.status == 200
    body = await served.read()
    assert body.startswith(b"\xff\xd8\xff") and body != png
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"

    me = await (await app_client.get("/api/user", headers=auth(reg["token"]))).json()
    assert me["data"]["avatar"] == url
    public = await (await app_client.get(f"/api/users/{user_id}/public")).json()
    assert public["data"]["avatar"] == url
    async with app_client.app[pool_key].acquire() as conn:
        stored = await conn.fetchval("select avatar from users where id = $1", user_id)
    assert stored == path.removeprefix("/storage/")

    # a second upload (type from the bytes, not the name) replaces the first file
    resp = await app_client.post(
        "/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(GIF, "x.gif", "image/gif")
    )
    second = assert_ok(await resp.json(), 200, "Avatar uploaded")["avatar_url"]
    assert second.endswith(".jpg") and second != url
    assert (await app_client.get(path)).status == 404
    assert not (settings.media_dir / stored).exists()
    assert (await app_client.get(urlsplit(second).path)).status == 200


@pytest.mark.parametrize("fmt, name", [("JPEG", "a.jpeg"), ("WEBP", "a.webp"), ("GIF", "blob"), ("PNG", "a.png")])
async def test_avatar_accepts_every_documented_type(client, fmt, name):
    reg = await register(client)
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 30, 30)).save(buf, fmt)
    resp = await client.post("/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(buf.getvalue(), name))
    assert resp.status == 200, await resp.text()
    url = (await resp.json())["data"]["avatar_url"]
    assert url.endswith(".jpg")  # every avatar is stored re-encoded, as a JPEG
    stored = Image.open(io.BytesIO(await (await client.get(urlsplit(url).path)).read()))
    assert (stored.format, stored.size) == ("JPEG", (30, 20))


async def test_avatar_that_does_not_decode_or_claims_too_many_pixels_is_a_422(client):
    reg = await register(client)
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (10, 20, 30)).save(buf, "JPEG")
    truncated = buf.getvalue()[: len(buf.getvalue()) // 2]  # the magic is right, the pixels are cut off
    resp = await client.post("/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(truncated, "t.jpg"))
    assert assert_err(await resp.json(), 422, INVALID) == {"avatar": ["The avatar must be an image."]}
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "JPEG")
    bomb = bytearray(buf.getvalue())
    sof = bomb.find(b"\xff\xc0")
    struct.pack_into(">HH", bomb, sof + 5, 60000, 60000)  # claims 3.6 gigapixels
    resp = await client.post("/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(bytes(bomb), "b.jpg"))
    assert assert_err(await resp.json(), 422, INVALID) == {"avatar": ["The avatar has invalid image dimensions."]}


async def test_replacing_an_uploaded_avatar_with_a_url_deletes_the_file(client, settings):
    reg = await register(client)
    await client.post("/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(tiny_png()))
    folder = settings.media_dir / "avatars" / str(reg["user"]["id"])
    assert len(list(folder.iterdir())) == 1
    resp = await client.put("/api/user", headers=auth(reg["token"]), json={"avatar": "https://cdn.example.test/b.png"})
    assert resp.status == 200
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"just some text, not an image at all", "avatar.png", "The avatar must be an image."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "avatar.svg", None),
        (tiny_png(), "avatar.php", None),
        (b"%PDF-1.4 fake", "avatar.jpg", "The avatar must be an image."),
        (b"", "avatar.png", None),
    ],
    ids=["text-named-png", "svg", "php-name", "pdf-named-jpg", "empty"],
)
async def test_avatar_refuses_non_images(client, data, filename, message):
    reg = await register(client)
    resp = await client.post(
        "/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(data, filename, "image/png")
    )
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, INVALID)
    assert list(errors) == ["avatar"]
    if message:
        assert errors["avatar"] == [message]
    async with client.app[pool_key].acquire() as conn:
        assert await conn.fetchval("select avatar from users where id = $1", reg["user"]["id"]) is None


async def test_avatar_refuses_more_than_5_mb(client, settings):
    reg = await register(client)
    big = tiny_png() + b"\x00" * (5 * 1024 * 1024)
    resp = await client.post("/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(big))
    assert resp.status == 422
    errors = assert_err(await resp.json(), 422, INVALID)
    assert errors == {"avatar": ["The avatar may not be greater than 5120 kilobytes."]}
    assert not (settings.media_dir / "avatars" / str(reg["user"]["id"])).exists()


async def test_avatar_exactly_5_mb_is_accepted(client):
    reg = await register(client)
    png = tiny_png()
    exact = png + b"\x00" * (5 * 1024 * 1024 - len(png))
    resp = await client.post("/api/user/avatar", headers=auth(reg["token"]), data=avatar_form(exact))
    assert resp.status == 200


async def test_avatar_needs_the_avatar_field(client):
    reg = await register(client)
    for kwargs in (
        {"data": avatar_form(tiny_png(), field="picture")},
        {"json": {"avatar": "https://cdn.example.test/a.png"}},
        {"data": FormData({"avatar": "just a string"})},
    ):
        resp = await client.post("/api/user/avatar", headers=auth(reg["token"]), **kwargs)
        assert resp.status == 422
        assert list(assert_err(await resp.json(), 422, INVALID)) == ["avatar"]


async def test_avatar_malformed_multipart_is_a_422(client):
    reg = await register(client)
    resp = await client.post(
        "/api/user/avatar",
        headers={**auth(reg["token"]), "Content-Type": "multipart/form-data"},  # no boundary
        data=b"garbage",
    )
    assert resp.status == 422


async def test_avatar_part_header_aiohttp_cannot_parse_is_a_422(client):
    """A control character in a part's field name: aiohttp raises BadHttpMessage, which was a 500
    (found by schemathesis)."""
    reg = await register(client)
    body = (
        b"--b0\r\nContent-Disposition: form-data; name=\"\xc3\x94\x193\"\r\n\r\nx\r\n--b0--\r\n"
    )
    resp = await client.post(
        "/api/user/avatar",
        headers={**auth(reg["token"]), "Content-Type": "multipart/form-data; boundary=b0"},
        data=body,
    )
    assert resp.status == 422
    assert list(assert_err(await resp.json(), 422, INVALID)) == ["avatar"]


async def test_avatar_needs_a_token(client):
    resp = await client.post("/api/user/avatar", headers=JSON, data=avatar_form(tiny_png()))
    assert resp.status == 401
    assert_err(await resp.json(), 401, "Unauthenticated.")


# -- media files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/storage/%2e%2e/%2e%2e/etc/passwd",
        "/storage/avatars/..%2f..%2fsecret.txt",
        "/storage/.secret",
        "/storage/avatars",
        "/storage/no/such/file.png",
    ],
)
async def test_media_never_serves_outside_the_media_folder(app_client, settings, path):
    (settings.media_dir / "avatars").mkdir(parents=True, exist_ok=True)
    (settings.media_dir / ".secret").write_text("hidden")
    (settings.media_dir.parent / "secret.txt").write_text("outside")
    resp = await app_client.get(path)
    assert resp.status == 404


def test_resolve_media_refuses_escapes(tmp_path):
    root = tmp_path / "media"
    (root / "avatars").mkdir(parents=True)
    (root / "avatars" / "ok.png").write_bytes(b"x")
    (tmp_path / "outside.png").write_bytes(b"x")
    (root / "avatars" / "link.png").symlink_to(tmp_path / "outside.png")
    assert media.resolve_media(root, "avatars/ok.png") == (root / "avatars" / "ok.png").resolve()
    for bad in ("../outside.png", "avatars/../../outside.png", "/etc/passwd", "avatars/link.png", "avatars", ""):
        assert media.resolve_media(root, bad) is None


# -- GET /api/users/{id}/public ---------------------------------------------------------------


async def test_public_profile_has_exactly_six_fields(client):
    user = await make_user(client.app, avatar="avatars/1/x.png", last_name="Doe")
    resp = await client.get(f"/api/users/{user['id']}/public")
    assert resp.status == 200
    data = assert_ok(await resp.json(), 200, "Public profile")
    assert set(data) == {"id", "username", "first_name", "last_name", "avatar", "created_at"}
    assert data["id"] == user["id"] and data["last_name"] == "Doe"
    assert data["avatar"].startswith("http") and data["avatar"].endswith("/storage/avatars/1/x.png")


@pytest.mark.parametrize("ident", ["999999999", "abc", "-1", "1.5", "9" * 30, "٣"])
async def test_public_profile_of_unknown_users_is_404(client, ident):
    resp = await client.get(f"/api/users/{ident}/public")
    assert resp.status == 404
    assert_err(await resp.json(), 404, "User not found")

