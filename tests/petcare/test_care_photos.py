"""002's pet and food photos: upload (multipart `file`), serve (the document's URL and
`photo_url` under /static), delete — every role, BOLA on pet and food ids, images only (400
otherwise), the size limits, EXIF and GPS never served back, a replaced photo's file gone."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from domain import care_photos
from domain.errors import BadRequest
from gateway.kernel.keys import pool_key, settings_key
from tests.builders import bearer, make_token
from tests.events.photo_fixtures import (
    GPS_IFD,
    fake_jpeg_magic,
    gif,
    jpeg,
    jpeg_html_polyglot,
    jpeg_with_exif,
    jpeg_zip_polyglot,
    not_an_image,
    png,
    png_bomb,
    truncated_jpeg,
    webp,
)
from tests.petcare.care_builders import assert_422, assert_error, call, ok
from tests.petcare.food_builders import Household, household, new_food, photo_form, upload

INVALID_TYPE = "Invalid file type. Allowed types: image/jpeg, image/png, image/gif, image/webp"
NOT_MEMBER = "You must be a member of this group to access its food database"
NO_ACCESS = "User doesn't have permission to this pet"


@pytest.fixture
async def home(client) -> Household:
    return await household(client)


@pytest.fixture
async def pet(client, home) -> dict:
    """The creator's pet in the household's group."""
    created = await ok(client, "POST", "/pets/create", home.creator, json={"name": "Mochi", "pet_type": "cat"})
    await ok(client, "POST", f"/pets/{created['id']}/assign_group", home.creator, json={"group_id": home.group_id})
    return created


async def fetch(client, path: str, who) -> tuple[int, bytes, dict]:
    resp = await client.get(path, headers=who.headers if who else {})
    return resp.status, await resp.read(), dict(resp.headers)


def stored_file(client, photo_url: str):
    return care_photos.photo_store(client.app[settings_key].media_dir).path(photo_url.removeprefix("/static/"))


# -- pets ----------------------------------------------------------------------------------------------


async def test_pet_photo_upload_strips_exif_and_gps_and_is_served_at_both_urls(client, home, pet):
    status, body = await upload(client, f"/pets/{pet['id']}/photo/upload", home.creator, jpeg_with_exif(),
                                filename="mochi.jpg")
    assert status == 200, body
    assert body["message"] == "Photo uploaded successfully for pet"
    data = body["data"]
    assert data["pet_id"] == pet["id"] and data["food_id"] is None
    assert data["filename"] == "mochi.jpg" and data["uploaded_by"] == home.creator.sid
    assert data["content_type"] == data["photo_type"] == "image/jpeg"
    assert data["file_size"] == data["photo_size"] > 0
    assert data["photo_url"] == f"/static/pet_photos/{pet['id']}/{data['photo_name']}"
    assert isinstance(data["photo_uploaded_at"], int) and data["uploaded_at"].endswith("Z")
    details = await ok(client, "GET", f"/pets/{pet['id']}/details", home.viewer)
    assert details["photo_url"] == data["photo_url"]

    status, served, headers = await fetch(client, f"/pets/photos/{pet['id']}", home.viewer)
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Cache-Control"].startswith("private")
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, by_url, _ = await fetch(client, data["photo_url"], home.member)
    assert status == 200 and by_url == served
    assert len(served) == data["file_size"]
    with Image.open(io.BytesIO(served)) as im:
        assert im.format == "JPEG"
        assert im.size == (40, 80)  # the orientation tag applied to the pixels, then dropped
        exif = im.getexif()
        assert len(exif) == 0 and not exif.get_ifd(GPS_IFD)
        assert "exif" not in im.info
    assert b"RoostCam" not in served and b"Exif" not in served


async def test_replacing_a_pet_photo_retires_the_old_url_and_file(client, home, pet):
    _, first = await upload(client, f"/pets/{pet['id']}/photo/upload", home.creator, jpeg())
    old_url = first["data"]["photo_url"]
    assert stored_file(client, old_url).is_file()
    _, second = await upload(client, f"/pets/{pet['id']}/photo/upload", home.member, png())
    new_url = second["data"]["photo_url"]
    assert new_url != old_url
    assert not stored_file(client, old_url).exists()
    status, body = await call(client, "GET", old_url, home.creator)
    assert status == 404
    assert_error(body, "Photo not found")
    assert (await fetch(client, new_url, home.creator))[0] == 200


async def test_pet_photo_roles(client, home, pet):
    # owner, group creator and members change it; viewers only look; strangers and anonymous neither
    status, _ = await upload(client, f"/pets/{pet['id']}/photo/upload", home.member, jpeg())
    assert status == 200
    status, body = await upload(client, f"/pets/{pet['id']}/photo/upload", home.viewer, jpeg())
    assert status == 403
    assert_error(body, "You don't have permission to modify this pet")
    status, body = await upload(client, f"/pets/{pet['id']}/photo/upload", home.stranger, jpeg())
    assert status == 403
    assert_error(body, NO_ACCESS)
    status, body = await upload(client, f"/pets/{pet['id']}/photo/upload", None, jpeg())
    assert status == 401
    assert_error(body, "Not authenticated")
    url = (await ok(client, "GET", f"/pets/{pet['id']}/details", home.creator))["photo_url"]
    for who in (home.creator, home.member, home.viewer):
        assert (await fetch(client, f"/pets/photos/{pet['id']}", who))[0] == 200
        assert (await fetch(client, url, who))[0] == 200
    for path in (f"/pets/photos/{pet['id']}", url):
        status, body = await call(client, "GET", path, home.stranger)
        assert status == 403, path
        assert_error(body, NO_ACCESS)
        assert (await call(client, "GET", path, None))[0] == 401
    status, body = await call(client, "POST", f"/pets/{pet['id']}/photo/delete", home.viewer)
    assert status == 403
    status, body = await call(client, "POST", f"/pets/{pet['id']}/photo/delete", home.stranger)
    assert status == 403
    assert (await fetch(client, url, home.creator))[0] == 200  # still there


async def test_pet_photo_delete_then_404(client, home, pet):
    _, body = await upload(client, f"/pets/{pet['id']}/photo/upload", home.creator, jpeg())
    url = body["data"]["photo_url"]
    resp = await client.post(f"/pets/{pet['id']}/photo/delete", headers=home.member.headers)
    assert resp.status == 200
    answer = await resp.json()
    assert answer["message"] == "Photo deleted successfully"
    assert answer["data"] == {"pet_id": pet["id"], "food_id": None, "has_photo": False}
    assert not stored_file(client, url).exists()
    assert (await ok(client, "GET", f"/pets/{pet['id']}/details", home.creator))["photo_url"] == ""
    for path in (f"/pets/photos/{pet['id']}", url):
        status, body = await call(client, "GET", path, home.creator)
        assert status == 404, path
        assert_error(body, "Photo not found")
    status, body = await call(client, "POST", f"/pets/{pet['id']}/photo/delete", home.creator)
    assert status == 404
    assert_error(body, "Photo not found")


async def test_pet_photo_of_no_pet_or_a_deleted_pet_is_404(client, home, pet):
    await upload(client, f"/pets/{pet['id']}/photo/upload", home.creator, jpeg())
    url = (await ok(client, "GET", f"/pets/{pet['id']}/details", home.creator))["photo_url"]
    await ok(client, "POST", f"/pets/{pet['id']}/delete", home.creator)
    for pet_id in (pet["id"], "999999999", "abc", "0"):
        status, body = await call(client, "GET", f"/pets/photos/{pet_id}", home.creator)
        assert status == 404, pet_id
        assert_error(body, "Pet not found")
        status, _ = await upload(client, f"/pets/{pet_id}/photo/upload", home.creator, jpeg())
        assert status == 404, pet_id
    assert (await call(client, "GET", url, home.creator))[0] == 404


async def test_another_pets_name_under_static_is_404(client, home, pet):
    other = await ok(client, "POST", "/pets/create", home.creator, json={"name": "Other", "pet_type": "dog"})
    _, mine = await upload(client, f"/pets/{pet['id']}/photo/upload", home.creator, jpeg())
    _, theirs = await upload(client, f"/pets/{other['id']}/photo/upload", home.creator, jpeg())
    # the other pet's file name under this pet's id, and names that are no file of ours
    for name in (theirs["data"]["photo_name"], "..%2F..%2Fetc%2Fpasswd", ".hidden.jpg", "x.jpg"):
        status, body = await call(client, "GET", f"/static/pet_photos/{pet['id']}/{name}", home.creator)
        assert status == 404, name
    assert (await fetch(client, mine["data"]["photo_url"], home.creator))[0] == 200


# -- what an upload must be ----------------------------------------------------------------------------


@pytest.mark.parametrize("make", [jpeg, png, gif, webp], ids=["jpeg", "png", "gif", "webp"])
async def test_every_image_type_is_accepted_and_stored_as_jpeg(client, home, pet, make):
    status, body = await upload(client, f"/pets/{pet['id']}/photo/upload", home.creator, make())
    assert status == 200, body
    _, served, _ = await fetch(client, body["data"]["photo_url"], home.creator)
    with Image.open(io.BytesIO(served)) as im:
        assert im.format == "JPEG"


@pytest.mark.parametrize(
    ("data", "message", "code"),
    [
        (not_an_image(), INVALID_TYPE, "invalid_file_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", INVALID_TYPE,
         "invalid_file_type"),
        (b"", "File is empty. Please upload a valid image file with content.", "file_empty"),
        (fake_jpeg_magic(), "The file is not a valid image.", "invalid_image"),
        (jpeg_zip_polyglot(), "The file is not a valid image.", "invalid_image"),
        (jpeg_html_polyglot(), "The file is not a valid image.", "invalid_image"),
        (truncated_jpeg(), "The file is not a valid image.", "invalid_image"),
        (png_bomb(), "The file is not a valid image.", "invalid_image"),
    ],
    ids=["pdf", "svg", "empty", "fake-magic", "zip-polyglot", "html-polyglot", "truncated", "bomb"],
)
async def test_anything_but_a_sound_image_is_400(client, home, pet, data, message, code):
    for path in (f"/pets/{pet['id']}/photo/upload", None):
        if path is None:
            food = await new_food(client, home.creator, home.group_id)
            path = f"/foods/{food['id']}/photo"
        status, body = await upload(client, path, home.creator, data, content_type="image/jpeg")
        assert status == 400, (path, body)
        assert_error(body, message)
        assert body["details"]["error_type"] == code
    assert (await ok(client, "GET", f"/pets/{pet['id']}/details", home.creator))["photo_url"] == ""


async def test_the_type_is_read_from_the_bytes_not_the_label(client, home, pet):
    status, _ = await upload(client, f"/pets/{pet['id']}/photo/upload", home.creator, png(), filename="x.txt",
                             content_type="text/plain")
    assert status == 200
    status, body = await upload(client, f"/pets/{pet['id']}/photo/upload", home.creator, not_an_image(),
                                filename="x.jpg", content_type="image/jpeg")
    assert status == 400
    assert_error(body, INVALID_TYPE)


async def test_a_body_without_the_file_part_is_422(client, home, pet):
    path = f"/pets/{pet['id']}/photo/upload"
    status, body = await call(client, "POST", path, home.creator, data=photo_form(jpeg(), field="photo"))
    assert status == 422
    assert_422(body, "file")
    status, body = await call(client, "POST", path, home.creator, data={"file": "not a file"})
    assert status == 422
    assert_422(body, "file")
    status, body = await call(client, "POST", path, home.creator, json={"file": "x"})
    assert status == 422
    assert_422(body, "file")


async def test_a_body_past_10_mb_is_413_and_nothing_is_stored(client, home, pet):
    too_big = jpeg() + b"\x00" * (care_photos.MAX_PHOTO_BYTES + 1)
    status, body = await upload(client, f"/pets/{pet['id']}/photo/upload", home.creator, too_big)
    assert status == 413
    assert body["details"]["error_type"] == "payload_too_large"
    assert (await ok(client, "GET", f"/pets/{pet['id']}/details", home.creator))["photo_url"] == ""


def test_a_file_past_10_mb_is_refused_before_it_is_decoded():
    """The gateway's body limit (10 MB for the whole form) stops such a file first over HTTP; the
    rule holds on its own too, for a larger limit."""
    with pytest.raises(BadRequest) as raised:
        care_photos.prepared(jpeg() + b"\x00" * care_photos.MAX_PHOTO_BYTES, max_pixels=24_000_000)
    assert raised.value.code == "file_too_large"
    assert raised.value.message.endswith("exceeds maximum allowed size of 10MB")


# -- foods ---------------------------------------------------------------------------------------------


async def test_food_photo_upload_serve_and_delete(client, home):
    food = await new_food(client, home.creator, home.group_id)
    status, body = await upload(client, f"/foods/{food['id']}/photo", home.member, jpeg_with_exif())
    assert status == 200, body
    assert body["message"] == "Photo uploaded successfully for food"
    data = body["data"]
    assert data["food_id"] == food["id"] and data["pet_id"] is None
    assert data["photo_url"] == f"/static/food_photos/{food['id']}/{data['photo_name']}"
    details = await ok(client, "GET", f"/foods/{food['id']}/details", home.viewer)
    assert details["has_photo"] is True and details["photo_url"] == data["photo_url"]
    listed = await ok(client, "GET", f"/foods/list?group_id={home.group_id}", home.viewer)
    assert listed[0]["has_photo"] is True
    status, served, headers = await fetch(client, f"/foods/photos/{food['id']}", home.viewer)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(served)) as im:
        assert len(im.getexif()) == 0
    assert (await fetch(client, data["photo_url"], home.viewer))[1] == served

    resp = await client.post(f"/foods/{food['id']}/photo/delete", headers=home.creator.headers)
    assert resp.status == 200
    assert (await resp.json())["data"] == {"pet_id": None, "food_id": food["id"], "has_photo": False}
    details = await ok(client, "GET", f"/foods/{food['id']}/details", home.viewer)
    assert details["has_photo"] is False and details["photo_url"] == ""
    assert not stored_file(client, data["photo_url"]).exists()
    for path in (f"/foods/photos/{food['id']}", data["photo_url"]):
        status, body = await call(client, "GET", path, home.creator)
        assert status == 404, path
        assert_error(body, "Photo not found")


async def test_food_photo_roles(client, home):
    food = await new_food(client, home.creator, home.group_id)
    status, body = await upload(client, f"/foods/{food['id']}/photo", home.viewer, jpeg())
    assert status == 403
    assert_error(body, "Only group creators and members can upload food photos")
    status, body = await upload(client, f"/foods/{food['id']}/photo", home.stranger, jpeg())
    assert status == 403
    assert_error(body, NOT_MEMBER)
    assert (await upload(client, f"/foods/{food['id']}/photo", None, jpeg()))[0] == 401
    _, body = await upload(client, f"/foods/{food['id']}/photo", home.creator, jpeg())
    url = body["data"]["photo_url"]
    for path in (f"/foods/photos/{food['id']}", url):
        assert (await fetch(client, path, home.viewer))[0] == 200
        status, body = await call(client, "GET", path, home.stranger)
        assert status == 403, path
        assert_error(body, NOT_MEMBER)
        assert (await call(client, "GET", path, None))[0] == 401
    status, body = await call(client, "POST", f"/foods/{food['id']}/photo/delete", home.viewer)
    assert status == 403
    assert_error(body, "Only group creators and members can delete food photos")
    status, body = await call(client, "POST", f"/foods/{food['id']}/photo/delete", home.stranger)
    assert status == 403
    assert_error(body, NOT_MEMBER)
    assert (await fetch(client, url, home.creator))[0] == 200


async def test_another_groups_food_photo_and_a_deleted_food_photo(client, home):
    other = await household(client)
    theirs = await new_food(client, other.creator, other.group_id)
    await upload(client, f"/foods/{theirs['id']}/photo", other.creator, jpeg())
    url = (await ok(client, "GET", f"/foods/{theirs['id']}/details", other.creator))["photo_url"]
    for who in (home.creator, home.member, home.viewer):
        for method, path in (("GET", f"/foods/photos/{theirs['id']}"), ("GET", url),
                             ("POST", f"/foods/{theirs['id']}/photo/delete")):
            status, body = await call(client, method, path, who)
            assert status == 403, (path, who)
            assert_error(body, NOT_MEMBER)
        assert (await upload(client, f"/foods/{theirs['id']}/photo", who, jpeg()))[0] == 403
    assert (await fetch(client, url, other.viewer))[0] == 200  # untouched
    await ok(client, "POST", f"/foods/{theirs['id']}/delete", other.creator)
    for path in (f"/foods/photos/{theirs['id']}", url):
        status, body = await call(client, "GET", path, other.creator)
        assert status == 404, path
        assert_error(body, "Food not found")
    assert (await upload(client, f"/foods/{theirs['id']}/photo", other.creator, jpeg()))[0] == 404
    for food_id in ("999999999", "abc"):
        assert (await call(client, "GET", f"/foods/photos/{food_id}", home.creator))[0] == 404


async def test_a_members_pet_photo_is_changed_by_its_owner_and_the_groups_creator(client, home):
    """The owner and the group's creator are two people here: both may change the photo."""
    mine = await ok(client, "POST", "/pets/create", home.member, json={"name": "Bun", "pet_type": "rabbit"})
    path = f"/pets/{mine['id']}/photo/upload"
    assert (await upload(client, path, home.member, jpeg()))[0] == 200
    status, body = await upload(client, path, home.creator, jpeg())
    assert status == 403  # still in the member's personal group: the creator has no relation to it yet
    assert_error(body, NO_ACCESS)
    # into the shared group (only its creator may move pets in; the row says where the pet is)
    async with client.app[pool_key].acquire() as conn:
        await conn.execute("update pets set group_id = $2 where id = $1", int(mine["id"]), int(home.group_id))
    status, body = await upload(client, path, home.creator, png())
    assert status == 200, body
    assert (await fetch(client, f"/pets/photos/{mine['id']}", home.viewer))[0] == 200
    assert (await upload(client, path, home.viewer, jpeg()))[0] == 403
    read_only = bearer(await make_token(client.app, int(home.member.sid), abilities=("read",)))
    resp = await client.post(path, data=photo_form(jpeg()), headers=read_only)
    assert resp.status == 403
    assert (await resp.json())["details"]["error_type"] == "missing_ability"
    assert (await client.get(f"/pets/photos/{mine['id']}", headers=read_only)).status == 200
