"""Image bytes for the photo tests: good photos of each accepted type, and hostile ones (not an
image, a decompression bomb, polyglots, a JPEG carrying GPS coordinates and a sideways
orientation). Built in memory; the bomb is written chunk by chunk, never as a decoded image.

Also the upload flow over HTTP (ask for a URL, PUT the bytes, create the photo, wait for the image
task), shared by the upload, photo and moderation tests."""

from __future__ import annotations

import functools
import io
import secrets
import struct
import uuid
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from PIL import Image

from domain.image_checks import sniff
from domain.media_store import LocalMediaStore, event_media_store
from gateway.kernel.keys import pool_key, settings_key
from jobs import images
from jobs.registry import JobContext
from tests.waiting import eventually

# EXIF tags
ORIENTATION = 0x0112
GPS_IFD = 0x8825
MAKE = 0x010F
# A point in Berlin, as EXIF rationals
GPS = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}


def encode(im: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def jpeg(width: int = 64, height: int = 48, color=(200, 30, 30)) -> bytes:
    return encode(Image.new("RGB", (width, height), color), "JPEG", quality=85)


def png(width: int = 40, height: int = 30, alpha: bool = False) -> bytes:
    if alpha:
        return encode(Image.new("RGBA", (width, height), (0, 0, 255, 0)), "PNG")
    return encode(Image.new("RGB", (width, height), (10, 200, 10)), "PNG")


def webp(width: int = 50, height: int = 20) -> bytes:
    return encode(Image.new("RGB", (width, height), (10, 10, 200)), "WEBP", quality=80)


def gif() -> bytes:
    return encode(Image.new("P", (10, 10)), "GIF")


def not_an_image() -> bytes:
    return b"%PDF-1.4\n" + b"this is a document, not a photo\n" * 20


def fake_jpeg_magic() -> bytes:
    """JPEG magic bytes in front of text: passes a naive magic check, nothing more."""
    return b"\xff\xd8\xff\xe0" + b"hello, I am not really a JPEG" * 10


def jpeg_with_exif(width: int = 80, height: int = 40) -> bytes:
    """Left half red, right half blue, stored landscape with orientation 6 (rotate 90 degrees
    clockwise to show), with GPS coordinates and a camera make in its EXIF."""
    im = Image.new("RGB", (width, height), (255, 0, 0))
    im.paste((0, 0, 255), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "RoostCam"
    exif.get_ifd(GPS_IFD).update(GPS)
    return encode(im, "JPEG", quality=95, exif=exif.tobytes())


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.cache
def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A valid 1-bit PNG of width x height (900 megapixels) that compresses to about a hundred KB:
    the rows of zeros are fed to zlib one at a time, never held decoded."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    chunks = _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts)) + _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def jpeg_bomb_header(width: int = 60000, height: int = 60000) -> bytes:
    """A small real JPEG whose frame header is rewritten to claim width x height pixels."""
    data = bytearray(jpeg(16, 16))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.html", "<script>alert(1)</script>")
    return buf.getvalue()


def jpeg_zip_polyglot() -> bytes:
    """A valid JPEG that is also a valid ZIP (ZIP readers look at the end of the file)."""
    return jpeg() + zip_bytes()


def jpeg_html_polyglot() -> bytes:
    return jpeg() + b"<html><body><script>alert(document.cookie)</script></body></html>"


def jpeg_comment_html() -> bytes:
    """HTML hidden inside the JPEG's comment segment, nothing after EOI."""
    return encode(Image.new("RGB", (16, 16)), "JPEG", comment=b"<script>alert(1)</script>")


def png_trailing_zip() -> bytes:
    return png() + zip_bytes()


def webp_trailing_html() -> bytes:
    return webp() + b"<html><script>alert(1)</script></html>"


def truncated_jpeg() -> bytes:
    data = jpeg(200, 200)
    return data[: len(data) // 2]


# -- the upload flow over HTTP (shared by the upload, photo and moderation tests) ------------------

PHOTO_WAIT_S = 20.0


def device(name: str | None = None) -> dict[str, str]:
    return {"X-Device-Id": name or f"device-{uuid.uuid4().hex[:12]}"}


def local(url: str) -> str:
    """An absolute upload URL as a path for the test client (which has its own host)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def ask_upload(client, event, *, headers: dict[str, str], content_type: str = "image/jpeg",
                     size: int = 100_000):
    return await client.post(f"/api/v1/events/{event['guest_token']}/photos/upload-url",
                             json={"content_type": content_type, "size": size}, headers=headers)


async def put_bytes(client, upload_url: str, data: bytes, content_type: str = "image/jpeg", **kwargs):
    return await client.put(local(upload_url), data=data, headers={"Content-Type": content_type, **kwargs})


async def guest_upload(client, event, data: bytes | None = None, *, headers: dict[str, str]) -> str:
    """A received guest upload (its type read from the bytes); returns its id."""
    data = data if data is not None else jpeg()
    content_type = sniff(data) or "image/jpeg"
    resp = await ask_upload(client, event, headers=headers, content_type=content_type, size=len(data))
    assert resp.status == 201, await resp.text()
    upload = (await resp.json())["data"]
    put = await put_bytes(client, upload["upload_url"], data, content_type)
    assert put.status == 200, await put.text()
    return upload["upload_id"]


async def guest_photo(client, event, data: bytes | None = None, *, headers: dict[str, str], **fields):
    upload_id = await guest_upload(client, event, data, headers=headers)
    return await client.post(f"/api/v1/events/{event['guest_token']}/photos",
                             json={"upload_id": upload_id, **fields}, headers=headers)


async def wait_photo(
    client, photo_id: int, states=("ready", "failed"), timeout: float = PHOTO_WAIT_S
) -> asyncpg.Record:
    """Poll the photo row until the image task has moved it (bounded)."""
    pool = client.app[pool_key]

    async def moved() -> asyncpg.Record | None:
        row = await pool.fetchrow("select * from photos where id = $1", photo_id)
        return row if row["status"] in states else None

    return await eventually(moved, timeout=timeout, interval=0.05, what=f"photo {photo_id} reaching {states}")


async def pending_photo(client, event, data: bytes):
    """A pending photo whose received upload holds `data`, written straight to the database and
    the store (the PUT's checks would refuse a broken file before the task ever saw it)."""
    pool = client.app[pool_key]
    upload_id, key = secrets.token_hex(16), f"{event['id']}/uploads/{secrets.token_hex(16)}-0000"
    await media_store(client).put(key, data)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """insert into photo_uploads (id, event_id, tenant_id, device_id, content_type, declared_size, media_key,
                                          expires_at, received_at, received_size, consumed_at)
               values ($1, $2, $3, 'device-direct-1', 'image/jpeg', $4, $5, now(), now(), $4, now())""",
            upload_id, event["id"], event["tenant_id"], len(data), key,
        )
        await conn.execute("update events set photo_count = photo_count + 1 where id = $1", event["id"])
        return await conn.fetchrow(
            "insert into photos (event_id, tenant_id, upload_id, device_id)"
            " values ($1, $2, $3, 'device-direct-1') returning *",
            event["id"], event["tenant_id"], upload_id,
        ), key


async def run_image_job(client, photo_id: int, attempt: int = 1):
    async with client.app[pool_key].acquire() as conn:
        ctx = JobContext(job_id=0, kind=images.KIND, attempt=attempt, max_attempts=5, conn=conn)
        return await images.process_photo(images.payload_for(photo_id, client.app[settings_key]), ctx)


def media_store(client) -> LocalMediaStore:
    """The event photo store (the events sub-app holds the gateway's own instance)."""
    return event_media_store(client.app[settings_key].media_dir)


def stored_files(client, event_id: int) -> list[str]:
    """Every file (temporary ones too) under the event's folder of the media store."""
    root = Path(client.app[settings_key].media_dir) / "events" / str(event_id)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_envelope(body: dict, code: str) -> dict:
    error = body["error"]
    assert set(error) == {"code", "title", "message", "meta"}
    assert error["code"] == code and error["title"] and error["message"]
    return error
