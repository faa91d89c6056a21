"""The fast checks an uploaded photo passes before it is kept: run on the received bytes, before
anything decodes the pixels (that is the image task's job, domain/photo_pipeline.py).

- The magic bytes must be those of the type the client declared (JPEG, PNG or WebP).
- The file's structure is walked to where the image ends (JPEG EOI, PNG IEND, the RIFF length of
  WebP): bytes after that end make a polyglot (a JPEG that is also a ZIP or an HTML page) and are
  refused. So are ZIP or HTML signatures hidden in the metadata segments (comments, text chunks),
  the usual place to smuggle a second file inside the first. Pixel data is not scanned: compressed
  bytes match a 4-byte signature by chance too often in a large photo.
- A header-only parse (Pillow's `Image.open`, which never decodes pixels) gives the dimensions;
  more than the pixel limit is a decompression bomb, refused before any decode.

Pure functions over bytes, CPU-bound: callers run them off the event loop (asyncio.to_thread).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from domain.errors import Invalid

# declared content type -> Pillow's format name
FORMATS: dict[str, str] = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A second file hiding in metadata: ZIP local/central/end records, markup a browser would run.
_SMUGGLED = (b"pk\x03\x04", b"pk\x01\x02", b"pk\x05\x06", b"<html", b"<script", b"<!doctype", b"<?php",
             b"<svg", b"<iframe", b"<body", b"<object", b"<embed")
# PNG chunks that carry pixels or their layout; every other chunk is metadata to scan.
_PNG_IMAGE_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"acTL", b"fcTL", b"fdAT"}
# WebP chunks that carry pixels or their layout.
_WEBP_IMAGE_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}


@dataclass(frozen=True, slots=True)
class CheckedImage:
    format: str
    width: int
    height: int


class _Malformed(Exception):
    """The bytes do not have the structure their magic promises."""


def invalid_image(reason: str) -> Invalid:
    return Invalid("The file is not a valid image.", code="invalid_image", meta={"reason": reason})


def sniff(data: bytes) -> str | None:
    """The content type the magic bytes say, among the ones accepted."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _jpeg_parts(data: bytes) -> tuple[int, list[bytes]]:
    """(offset just past EOI, metadata segments). Walks the markers; entropy-coded data after each
    SOS runs until the next marker that is not a stuffed 0xFF00 or a restart marker."""
    pos, n = 2, len(data)
    meta: list[bytes] = []
    while True:
        if pos >= n or data[pos] != 0xFF:
            raise _Malformed("jpeg marker expected")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise _Malformed("jpeg truncated")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return pos, meta
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # standalone markers
            continue
        if pos + 2 > n:
            raise _Malformed("jpeg truncated")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > n:
            raise _Malformed("jpeg segment length")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn, COM
            meta.append(data[pos + 2 : pos + length])
        pos += length
        if marker == 0xDA:  # SOS: skip the scan's entropy-coded data
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    raise _Malformed("jpeg truncated")
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos += 2
                    continue
                break


def _png_parts(data: bytes) -> tuple[int, list[bytes]]:
    pos, n, meta = len(PNG_SIGNATURE), len(data), []
    while True:
        if pos + 12 > n:
            raise _Malformed("png truncated")
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > n:
            raise _Malformed("png chunk length")
        if kind not in _PNG_IMAGE_CHUNKS:
            meta.append(data[pos + 8 : pos + 8 + length])
        pos = end
        if kind == b"IEND":
            return pos, meta


def _webp_parts(data: bytes) -> tuple[int, list[bytes]]:
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    if end > len(data) or riff_size < 4:
        raise _Malformed("webp truncated")
    pos, meta = 12, []
    while pos + 8 <= end:
        kind, length = struct.unpack_from("<4sI", data, pos)
        chunk_end = pos + 8 + length
        if chunk_end > end:
            raise _Malformed("webp chunk length")
        if kind not in _WEBP_IMAGE_CHUNKS:
            meta.append(data[pos + 8 : chunk_end])
        pos = chunk_end + (length & 1)  # chunks are padded to even sizes
    return end, meta


_PARTS = {"image/jpeg": _jpeg_parts, "image/png": _png_parts, "image/webp": _webp_parts}


def check_structure(data: bytes, content_type: str) -> None:
    """Magic bytes, then the walk to the image's end: nothing may follow it or hide in metadata."""
    found = sniff(data)
    if found is None:
        raise invalid_image("not_an_image")
    if found != content_type:
        raise invalid_image("type_mismatch")
    try:
        end, metadata = _PARTS[content_type](data)
    except (_Malformed, struct.error):
        raise invalid_image("malformed") from None
    # Zero padding after the end is harmless (some encoders write it); anything else is a payload.
    if data[end:].strip(b"\x00"):
        raise invalid_image("trailing_data")
    for segment in metadata:
        lowered = segment.lower()
        if any(signature in lowered for signature in _SMUGGLED):
            raise invalid_image("embedded_file")


def check_dimensions(data: bytes, content_type: str, max_pixels: int) -> CheckedImage:
    """A header-only parse restricted to the declared format; 422 `image_too_large_pixels` above
    `max_pixels`. Pillow's own bomb guard (DecompressionBombError) counts as too large too."""
    fmt = FORMATS[content_type]
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            width, height = im.size
    except Image.DecompressionBombError:  # beyond Pillow's own ceiling, far above any sane limit
        raise too_many_pixels(max_pixels, None, None) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        raise invalid_image("unreadable") from None
    if width <= 0 or height <= 0:
        raise invalid_image("unreadable")
    if width * height > max_pixels:
        raise too_many_pixels(max_pixels, width, height)
    return CheckedImage(fmt, width, height)


def too_many_pixels(max_pixels: int, width: int | None, height: int | None) -> Invalid:
    return Invalid(
        "The image has too many pixels.",
        code="image_too_large_pixels",
        meta={"max_pixels": max_pixels, "width": width, "height": height},
    )


def check_upload(data: bytes, content_type: str, max_pixels: int) -> CheckedImage:
    """Every fast check, cheapest first. Raises Invalid (422) with a stable code."""
    if content_type not in FORMATS:
        raise invalid_image("type_not_allowed")
    check_structure(data, content_type)
    return check_dimensions(data, content_type, max_pixels)
