"""002's pet and food photos: upload (multipart `file`), serve, delete. The rules, the checks an
upload passes and where the files live are domain/care_photos.py's.

Each photo answers at two URLs behind the same checks: the document's `GET /pets/photos/{pet_id}`
and `GET /foods/photos/{food_id}` (always the current photo), and `photo_url`, the reference's
`/static/<pet_photos|food_photos>/<id>/<name>` (one upload's file: a replaced photo's old URL is a
404). Neither is public: the caller must be able to see the pet, or be a member of the food's
group. The upload is re-encoded in a thread, not a Ray task: the answer carries the stored photo,
so the caller waits for it either way (gateway/accounts/avatar.py does the same for avatars).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from domain import care_photos, foods
from domain.care_pets import parse_pet_id
from domain.care_photos import FOOD_FOLDER, MAX_PHOTO_BYTES, PET_FOLDER, StoredPhoto
from domain.errors import Invalid
from domain.media_store import LocalMediaStore
from gateway.kernel.account_views import IsoZ
from gateway.kernel.keys import clock_key, pool_key, settings_key
from gateway.kernel.openapi.operation import NO_BODY, Body, documented, file_upload
from gateway.kernel.validation import read_form
from gateway.petcare.envelope import success
from gateway.petcare.food_models import photo_url
from gateway.petcare.guards import require_petcare_abilities
from gateway.petcare.openapi import TAG_FOODS, TAG_PETS
from gateway.petcare.pets import READERS, WRITERS

FIELD = "file"
UPLOAD_FORM = file_upload(
    FIELD, "A JPEG, PNG, GIF or WebP image of at most 10 MB (stored re-encoded as a JPEG, without metadata)."
)
# The bytes are ours to vouch for only as images; never let a browser run them. Private: only
# callers who may see the pet or food get them, so no shared cache may keep one.
IMAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
# The document's URL always names the current photo: a client revalidates (Last-Modified) each time.
CURRENT_CACHE = "private, no-cache"
# A /static name is one upload's file, never rewritten.
STATIC_CACHE = "private, max-age=86400"
PET = {"pet_id": "The pet's id; one that names no pet (or a deleted one) is a 404."}
FOOD = {"food_id": "The food's id; one that names no food (or a deleted one) is a 404."}
NAME = {"name": "The stored file's name, as `photo_url` gives it; an older photo's name is a 404."}
SERVED_HEADERS = {"Cache-Control": "Caching: private.", "Last-Modified": "When the photo was stored."}


class PhotoUploaded(BaseModel):
    """The stored photo, in the document's words and the reference's."""

    model_config = ConfigDict(extra="forbid")

    photo_id: str = Field(description="The stored file's id (a new one per upload).")
    pet_id: str | None = Field(description="The pet's id (pet photos); null for a food photo.")
    food_id: str | None = Field(description="The food's id (food photos); null for a pet photo.")
    filename: str = Field(description="The name the client sent.")
    file_size: int = Field(description="Bytes stored (the re-encoded JPEG).")
    content_type: str
    uploaded_by: str
    uploaded_at: IsoZ
    photo_url: str = Field(description="`/static/...`: where this photo is served (the reference's field).")
    photo_name: str = Field(description="The stored file's name (the reference's field).")
    photo_size: int = Field(description="`file_size`, by the reference's name.")
    photo_type: str = Field(description="`content_type`, by the reference's name.")
    photo_uploaded_at: int = Field(description="`uploaded_at` in Unix seconds (the reference's field).")


class PhotoDeleted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pet_id: str | None
    food_id: str | None
    has_photo: bool


def _pool(request: web.Request) -> asyncpg.Pool:
    return request.config_dict[pool_key]


def _store(request: web.Request) -> LocalMediaStore:
    return care_photos.photo_store(request.config_dict[settings_key].media_dir)


def _now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.config_dict[clock_key].time(), UTC)


def _head(file: IO[bytes]) -> bytes:
    """Up to one byte past the limit: enough to know the file is too large."""
    file.seek(0)
    return file.read(MAX_PHOTO_BYTES + 1)


async def _upload(request: web.Request) -> tuple[bytes, str]:
    """The `file` part's bytes and the name the client gave it; 422 without one (FastAPI's answer
    to a missing required File), 413 past the gateway's body limit."""
    if request.content_type != "multipart/form-data":
        raise Invalid(fields={FIELD: ["Field required"]})
    form = await read_form(request)
    part = form.get(FIELD)
    if not isinstance(part, web.FileField):  # absent, or a text field named file
        raise Invalid(fields={FIELD: ["Field required"]})
    return await asyncio.to_thread(_head, part.file), (part.filename or "")[:255]


def _uploaded(stored: StoredPhoto, user_id: int, filename: str, *, pet_id: int | None, food_id: int | None) -> dict:
    name = stored.key.rsplit("/", 1)[-1]
    return PhotoUploaded(
        photo_id=name.removesuffix(".jpg"),
        pet_id=str(pet_id) if pet_id is not None else None,
        food_id=str(food_id) if food_id is not None else None,
        filename=filename or name,
        file_size=stored.size,
        content_type=stored.content_type,
        uploaded_by=str(user_id),
        uploaded_at=stored.at,
        photo_url=photo_url(stored.key),
        photo_name=name,
        photo_size=stored.size,
        photo_type=stored.content_type,
        photo_uploaded_at=int(stored.at.timestamp()),
    ).model_dump(mode="json")


def _file(request: web.Request, key: str, cache: str) -> web.FileResponse:
    target = _store(request).path(key)
    if not target.is_file():  # the row names a file the media folder lost
        raise care_photos.photo_not_found()
    return web.FileResponse(
        target, headers={"Cache-Control": cache, "Content-Type": care_photos.STORED_TYPE, **IMAGE_HEADERS}
    )


def _static_key(request: web.Request, folder: str, object_id: int) -> str:
    name = request.match_info["name"]
    # the media store refuses anything but its own key alphabet; such a name is no photo of ours
    if not name or "/" in name or Path(name).name != name:
        raise care_photos.photo_not_found()
    return care_photos.key_of(folder, object_id, name)


_UPLOAD_DOC: dict[str, Any] = {
    "upload": UPLOAD_FORM,
    "auth": WRITERS,
    # 400: not an image, empty, over 10 MB, malformed; 413: the whole body past the gateway's limit
    "errors": (400, 403, 404, 413),
    "response": PhotoUploaded,
}


# ---- pets ----


@documented(
    "Upload or replace a pet's photo",
    tags=(TAG_PETS,),
    description="Whoever may change the pet (owner, group creator or member). Images only (else 400), at most "
    "10 MB; stored re-encoded as a JPEG without EXIF/GPS metadata.",
    path_params=PET,
    **_UPLOAD_DOC,
)
async def upload_pet_photo(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    pet_id = parse_pet_id(request.match_info["pet_id"])
    data, filename = await _upload(request)
    settings = request.config_dict[settings_key]
    stored = await care_photos.replace_pet_photo(
        _pool(request), _store(request), pet_id, identity.user_id, data,
        max_pixels=settings.event_photo_max_pixels, now=_now(request),
    )
    return success(_uploaded(stored, identity.user_id, filename, pet_id=pet_id, food_id=None),
                   "Photo uploaded successfully for pet")


@documented(
    "A pet's photo",
    tags=(TAG_PETS,),
    description="Whoever may see the pet; 404 when it has none.",
    response=Body("image/jpeg"),
    also={304: NO_BODY},
    auth=READERS,
    errors=(403, 404),
    path_params=PET,
    headers_out=SERVED_HEADERS,
)
async def pet_photo(request: web.Request) -> web.StreamResponse:
    identity = require_petcare_abilities(request, "read")
    key = await care_photos.pet_photo(_pool(request), parse_pet_id(request.match_info["pet_id"]), identity.user_id)
    return _file(request, key, CURRENT_CACHE)


@documented(
    "A pet's photo by its `photo_url`",
    tags=(TAG_PETS,),
    description="The file `photo_url` names, for whoever may see the pet; a replaced photo's old name is a 404.",
    response=Body("image/jpeg"),
    also={304: NO_BODY},
    auth=READERS,
    errors=(403, 404),
    path_params={**PET, **NAME},
    headers_out=SERVED_HEADERS,
)
async def pet_photo_static(request: web.Request) -> web.StreamResponse:
    identity = require_petcare_abilities(request, "read")
    pet_id = parse_pet_id(request.match_info["pet_id"])
    key = await care_photos.pet_photo(_pool(request), pet_id, identity.user_id)
    if key != _static_key(request, PET_FOLDER, pet_id):
        raise care_photos.photo_not_found()
    return _file(request, key, STATIC_CACHE)


@documented(
    "Remove a pet's photo",
    tags=(TAG_PETS,),
    description="Whoever may change the pet; 404 when it has none.",
    response=PhotoDeleted,
    auth=WRITERS,
    errors=(403, 404),
    path_params=PET,
)
async def delete_pet_photo(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    pet_id = parse_pet_id(request.match_info["pet_id"])
    await care_photos.remove_pet_photo(_pool(request), _store(request), pet_id, identity.user_id, _now(request))
    data = PhotoDeleted(pet_id=str(pet_id), food_id=None, has_photo=False).model_dump(mode="json")
    return success(data, "Photo deleted successfully")


# ---- foods ----


@documented(
    "Upload or replace a food's photo",
    tags=(TAG_FOODS,),
    description="Group creators and members (viewers 403). Images only (else 400), at most 10 MB; stored "
    "re-encoded as a JPEG without EXIF/GPS metadata.",
    path_params=FOOD,
    **_UPLOAD_DOC,
)
async def upload_food_photo(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    food_id = foods.parse_food_id(request.match_info["food_id"])
    data, filename = await _upload(request)
    settings = request.config_dict[settings_key]
    stored = await care_photos.replace_food_photo(
        _pool(request), _store(request), food_id, identity.user_id, data,
        max_pixels=settings.event_photo_max_pixels, now=_now(request),
    )
    return success(_uploaded(stored, identity.user_id, filename, pet_id=None, food_id=food_id),
                   "Photo uploaded successfully for food")


@documented(
    "A food's photo",
    tags=(TAG_FOODS,),
    description="Every member of the food's group; 404 when it has none.",
    response=Body("image/jpeg"),
    also={304: NO_BODY},
    auth=READERS,
    errors=(403, 404),
    path_params=FOOD,
    headers_out=SERVED_HEADERS,
)
async def food_photo(request: web.Request) -> web.StreamResponse:
    identity = require_petcare_abilities(request, "read")
    food_id = foods.parse_food_id(request.match_info["food_id"])
    key = await care_photos.food_photo(_pool(request), food_id, identity.user_id)
    return _file(request, key, CURRENT_CACHE)


@documented(
    "A food's photo by its `photo_url`",
    tags=(TAG_FOODS,),
    description="The file `photo_url` names, for every member of the food's group; a replaced photo's old "
    "name is a 404.",
    response=Body("image/jpeg"),
    also={304: NO_BODY},
    auth=READERS,
    errors=(403, 404),
    path_params={**FOOD, **NAME},
    headers_out=SERVED_HEADERS,
)
async def food_photo_static(request: web.Request) -> web.StreamResponse:
    identity = require_petcare_abilities(request, "read")
    food_id = foods.parse_food_id(request.match_info["food_id"])
    key = await care_photos.food_photo(_pool(request), food_id, identity.user_id)
    if key != _static_key(request, FOOD_FOLDER, food_id):
        raise care_photos.photo_not_found()
    return _file(request, key, STATIC_CACHE)


@documented(
    "Remove a food's photo",
    tags=(TAG_FOODS,),
    description="Group creators and members; 404 when it has none.",
    response=PhotoDeleted,
    auth=WRITERS,
    errors=(403, 404),
    path_params=FOOD,
)
async def delete_food_photo(request: web.Request) -> web.Response:
    identity = require_petcare_abilities(request, "update")
    food_id = foods.parse_food_id(request.match_info["food_id"])
    await care_photos.remove_food_photo(_pool(request), _store(request), food_id, identity.user_id, _now(request))
    data = PhotoDeleted(pet_id=None, food_id=str(food_id), has_photo=False).model_dump(mode="json")
    return success(data, "Photo deleted successfully")
