"""002's pet and food photos: who may upload, replace, remove and see them, and what an upload
must be.

- An upload is one image (JPEG, PNG, GIF or WebP by its first bytes, whatever its name or declared
  type says) of at most MAX_PHOTO_BYTES; anything else is a 400 with the reference's words. JPEG,
  PNG and WebP are walked structurally first (domain/image_checks.py: nothing after the image's
  end, no second file in its metadata), then every upload is decoded within the pixel limit and
  re-encoded as a JPEG (domain/photo_pipeline.py), which writes no metadata: no EXIF, no GPS
  position is ever served back. The uploaded bytes themselves are never stored.
- A pet's photo is changed by whoever may change the pet (owner, its group's creators and
  members, a 000 editor) and seen by whoever may see it; a food's photo is changed by its
  group's creators and members and seen by every member. The rest get the pet's or food's own
  404/403 (domain/care_pets.py, domain/foods.py).
- Files live in the media folder under `petcare/` (`pet_photos/<pet>/<random>.jpg`,
  `food_photos/<food>/<random>.jpg`), outside what /storage serves; `photo_path` holds the key
  and `photo_url` is `/static/<key>`, which the gateway serves behind the same checks. A new name
  per upload, so a cached old photo never stands in for a new one; the previous file is removed
  once the new one is committed.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import asyncpg

from domain import foods, image_checks, photo_pipeline
from domain.care_pets import pet_not_found
from domain.errors import BadRequest, Forbidden, Invalid, NotFound
from domain.media_store import LocalMediaStore
from domain.pet_access import CARE_WRITERS, care_role
from storage import care_pets as care_pets_sql
from storage import care_photos as photos_sql
from storage import foods as foods_sql

MAX_PHOTO_BYTES: Final = 10 * 1024 * 1024  # 002: at most 10 MB
ALLOWED_TYPES: Final = ("image/jpeg", "image/png", "image/gif", "image/webp")
# Pillow's names for them: what the decoder may open
_FORMATS: Final = ("JPEG", "PNG", "GIF", "WEBP")
# shown in an app's card or detail view; larger costs every viewer bytes and shows nothing more
PHOTO_LONGEST_SIDE: Final = 1600
STORED_TYPE: Final = photo_pipeline.OUTPUT_CONTENT_TYPE
PET_FOLDER, FOOD_FOLDER = "pet_photos", "food_photos"


def photo_store(media_dir: Path) -> LocalMediaStore:
    return LocalMediaStore(Path(media_dir) / "petcare")


def photo_not_found() -> NotFound:
    return NotFound("Photo not found", code="photo_not_found")


def _new_key(folder: str, object_id: int) -> str:
    return f"{folder}/{object_id}/{secrets.token_hex(16)}.jpg"


def key_of(folder: str, object_id: int, name: str) -> str:
    """The key a `/static/<folder>/<id>/<name>` URL names."""
    return f"{folder}/{object_id}/{name}"


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    key: str
    size: int
    content_type: str
    at: datetime


def _sniff(data: bytes) -> str | None:
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return image_checks.sniff(data)


def _refused(reason: str) -> BadRequest:
    return BadRequest("The file is not a valid image.", code="invalid_image", meta={"reason": reason})


def prepared(data: bytes, max_pixels: int) -> bytes:
    """The upload as the JPEG we store, or a 400. CPU-bound: run it in a thread."""
    if not data:
        raise BadRequest("File is empty. Please upload a valid image file with content.", code="file_empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise BadRequest(
            f"File size ({len(data) / 1024 / 1024:.2f}MB) exceeds maximum allowed size of 10MB",
            code="file_too_large",
            meta={"max_bytes": MAX_PHOTO_BYTES},
        )
    kind = _sniff(data[:16])
    if kind is None:
        raise BadRequest("Invalid file type. Allowed types: " + ", ".join(ALLOWED_TYPES), code="invalid_file_type")
    if kind in image_checks.FORMATS:
        try:
            image_checks.check_structure(data, kind)
        except Invalid as exc:
            raise _refused(str(exc.meta.get("reason", "malformed"))) from None
    try:
        im = photo_pipeline.normalized(data, max_pixels=max_pixels, formats=_FORMATS)
    except photo_pipeline.RejectedImage as exc:
        raise _refused(exc.reason) from None
    return photo_pipeline.jpeg_of(im, longest_side=PHOTO_LONGEST_SIDE)


# ---- pets ----


async def _pet_role(conn: asyncpg.Connection, pet_id: int, user_id: int) -> tuple[asyncpg.Record, str]:
    row = await care_pets_sql.get_for(conn, pet_id, user_id)
    if row is None:
        raise pet_not_found()
    role = care_role(row["owner_id"], user_id, row["access_role"], row["group_role"])
    if role is None:
        raise Forbidden("User doesn't have permission to this pet", code="pet_forbidden")
    return row, role


async def _pet_writer(conn: asyncpg.Connection, pet_id: int, user_id: int) -> None:
    _, role = await _pet_role(conn, pet_id, user_id)
    if role not in CARE_WRITERS:
        raise Forbidden("You don't have permission to modify this pet", code="pet_forbidden")


async def pet_photo(pool: asyncpg.Pool, pet_id: int, user_id: int) -> str:
    """The key of the pet's photo, for a caller who may see the pet; 404 when it has none."""
    async with pool.acquire() as conn:
        row, _ = await _pet_role(conn, pet_id, user_id)
    if not row["photo_path"]:
        raise photo_not_found()
    return row["photo_path"]


async def replace_pet_photo(
    pool: asyncpg.Pool, store: LocalMediaStore, pet_id: int, user_id: int, data: bytes, *, max_pixels: int,
    now: datetime,
) -> StoredPhoto:
    async with pool.acquire() as conn:
        await _pet_writer(conn, pet_id, user_id)
    jpeg = await asyncio.to_thread(prepared, data, max_pixels)
    key = _new_key(PET_FOLDER, pet_id)
    await store.put(key, jpeg)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await _pet_writer(conn, pet_id, user_id)  # again: the role may have changed meanwhile
            current = await care_pets_sql.lock(conn, pet_id)
            if current is None or not await photos_sql.set_pet_photo(conn, pet_id, key, STORED_TYPE, now):
                raise pet_not_found()
    except BaseException:
        await store.delete(key)
        raise
    if current["photo_path"]:
        await store.delete(current["photo_path"])
    return StoredPhoto(key, len(jpeg), STORED_TYPE, now)


async def remove_pet_photo(
    pool: asyncpg.Pool, store: LocalMediaStore, pet_id: int, user_id: int, now: datetime
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await _pet_writer(conn, pet_id, user_id)
        current = await care_pets_sql.lock(conn, pet_id)
        if current is None:
            raise pet_not_found()
        if not current["photo_path"]:
            raise photo_not_found()
        await photos_sql.set_pet_photo(conn, pet_id, None, None, now)
    await store.delete(current["photo_path"])


# ---- foods ----

_UPLOAD_REFUSAL = "Only group creators and members can upload food photos"
_REMOVE_REFUSAL = "Only group creators and members can delete food photos"


async def food_photo(pool: asyncpg.Pool, food_id: int, user_id: int) -> str:
    """The key of the food's photo, for a member of its group; 404 when it has none."""
    async with pool.acquire() as conn:
        food = await foods.reach(conn, food_id, user_id)
    if not food.row["photo_path"]:
        raise photo_not_found()
    return food.row["photo_path"]


async def replace_food_photo(
    pool: asyncpg.Pool, store: LocalMediaStore, food_id: int, user_id: int, data: bytes, *, max_pixels: int,
    now: datetime,
) -> StoredPhoto:
    async with pool.acquire() as conn:
        await foods.reach_for_write(conn, food_id, user_id, _UPLOAD_REFUSAL)
    jpeg = await asyncio.to_thread(prepared, data, max_pixels)
    key = _new_key(FOOD_FOLDER, food_id)
    await store.put(key, jpeg)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await foods.reach_for_write(conn, food_id, user_id, _UPLOAD_REFUSAL)
            current = await foods_sql.lock(conn, food_id)
            if current is None or not await foods_sql.set_photo(conn, food_id, key, STORED_TYPE, now):
                raise foods.food_not_found()
    except BaseException:
        await store.delete(key)
        raise
    if current["photo_path"]:
        await store.delete(current["photo_path"])
    return StoredPhoto(key, len(jpeg), STORED_TYPE, now)


async def remove_food_photo(
    pool: asyncpg.Pool, store: LocalMediaStore, food_id: int, user_id: int, now: datetime
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await foods.reach_for_write(conn, food_id, user_id, _REMOVE_REFUSAL)
        current = await foods_sql.lock(conn, food_id)
        if current is None:
            raise foods.food_not_found()
        if not current["photo_path"]:
            raise photo_not_found()
        await foods_sql.set_photo(conn, food_id, None, None, now)
    await store.delete(current["photo_path"])
